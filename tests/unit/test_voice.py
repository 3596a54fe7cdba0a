"""Prompt clips (kiosk/domain/voice.py): numbers said per language, clips checked, the ZIP's way
out and back."""

from __future__ import annotations

import io
import zipfile

import pytest

from kiosk.domain.questionnaire import load_questions
from kiosk.domain.voice import (
    AND,
    MAX_CLIP_BYTES,
    NUMBER_RULES,
    SCREEN_PROMPTS,
    ClipRefused,
    ClipStore,
    announcement_prompts,
    check_clip,
    desk_prompt_id,
    number_rule,
    prompts_for,
    read_export,
)
from tests.support.voice import OGG, WEBM, zip_of


def words(language: str, number: int) -> str:
    rule = NUMBER_RULES[language]
    return " ".join(rule.words[token] for token in rule.say(number))


@pytest.mark.parametrize(
    ("number", "said"),
    [
        (0, "صفر"),
        (7, "سبعة"),
        (11, "أحد عشر"),
        (20, "عشرين"),
        (21, "واحد و عشرين"),
        (45, "خمسة و أربعين"),
        (99, "تسعة و تسعين"),
        (100, "مائة"),
        (105, "مائة و خمسة"),
        (121, "مائة و واحد و عشرين"),
        (200, "مئتين"),
        (999, "تسعمائة و تسعة و تسعين"),
    ],
)
def test_arabic_says_units_before_tens_joined_by_and(number, said):
    assert words("ar", number) == said


@pytest.mark.parametrize(
    ("number", "said"),
    [
        (0, "zéro"),
        (1, "un"),
        (16, "seize"),
        (17, "dix-sept"),
        (20, "vingt"),
        (21, "vingt et un"),
        (22, "vingt deux"),
        (61, "soixante et un"),
        (70, "soixante dix"),
        (71, "soixante et onze"),
        (77, "soixante dix-sept"),
        (80, "quatre-vingt(s)"),
        (81, "quatre-vingt(s) un"),
        (91, "quatre-vingt(s) onze"),
        (99, "quatre-vingt(s) dix-neuf"),
        (100, "cent"),
        (101, "cent un"),
        (171, "cent soixante et onze"),
        (200, "deux cent"),
        (999, "neuf cent quatre-vingt(s) dix-neuf"),
    ],
)
def test_french_says_numbers_as_a_station_does(number, said):
    assert words("fr", number) == said


def test_tamazight_says_the_digits():
    assert NUMBER_RULES["zgh"].say(105) == ["1", "0", "5"]
    assert NUMBER_RULES["zgh"].say(7) == ["7"]


def test_a_language_without_a_rule_says_the_digits():
    assert number_rule("xx").say(42) == ["4", "2"]


@pytest.mark.parametrize("language", sorted(NUMBER_RULES))
def test_every_number_is_said_with_recorded_words_only(language):
    rule = NUMBER_RULES[language]
    for number in range(1000):
        assert all(token in rule.words for token in rule.say(number)), number
    assert set(rule.tokens()) <= set(rule.words)


@pytest.mark.parametrize("number", [-1, 1000])
def test_numbers_outside_the_queue_are_refused(number):
    with pytest.raises(ValueError):
        NUMBER_RULES["fr"].say(number)


def test_the_number_words_to_record_per_language():
    assert len(NUMBER_RULES["fr"].tokens()) == 28  # 0–19, 5 tens, 80, cent, et
    assert len(NUMBER_RULES["ar"].tokens()) == 38  # 0–19, 8 tens, 9 hundreds, و
    assert NUMBER_RULES["ar"].tokens()[-1] == AND


def test_an_announcement_is_the_number_between_its_words_and_the_desk():
    assert announcement_prompts("fr", 21, "Médecin 1") == [
        "call-number",
        "num-20",
        "num-and",
        "num-1",
        "call-go-to",
        desk_prompt_id("Médecin 1"),
    ]


def test_prompt_ids_are_unique_and_stable_per_language():
    for language in ("ar", "fr", "zgh"):
        prompts = prompts_for(language, load_questions(), [("Médecin 1", "الطبيب 1")])
        ids = [prompt.id for prompt in prompts]
        assert len(ids) == len(set(ids))
        assert "q-fever-or-infection" in ids and "start" in ids and "num-1" in ids
    assert [p.id for p in SCREEN_PROMPTS][:3] == ["start", "start-data", "identity"]
    assert desk_prompt_id("Médecin 1") == desk_prompt_id("Médecin 1") != desk_prompt_id("X")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"RIFF....WAVEfmt ", "not_audio"),
        (b"\x1a\x45\xdf\xa3" + b"matroska" + b"\0" * 20, "not_audio"),
        (b"OggS" + b"\0" * MAX_CLIP_BYTES, "too_large"),
    ],
)
def test_a_clip_is_webm_or_ogg_by_its_bytes_and_small(data, code):
    with pytest.raises(ClipRefused) as refused:
        check_clip(data)
    assert refused.value.code == code


def test_a_clip_replaces_the_previous_one_of_either_kind(tmp_path):
    store = ClipStore(tmp_path)
    store.save("fr", "start", WEBM)
    store.save("fr", "start", OGG)
    assert sorted(p.name for p in (tmp_path / "fr").iterdir()) == ["start.ogg"]
    assert ClipStore(tmp_path).find("fr", "start").kind == "ogg"


@pytest.mark.parametrize(("language", "prompt_id"), [("../x", "start"), ("fr", "../start")])
def test_a_clip_path_is_never_built_from_a_bad_name(tmp_path, language, prompt_id):
    with pytest.raises(ClipRefused):
        ClipStore(tmp_path).save(language, prompt_id, WEBM)


KNOWN = {"ar": frozenset({"start", "q-x"}), "fr": frozenset({"start", "q-x"})}


def test_an_export_comes_back_whole(tmp_path):
    store = ClipStore(tmp_path / "a")
    store.save("ar", "start", WEBM)
    store.save("fr", "q-x", OGG)
    exported = store.export_zip(["ar", "fr"])
    clips = read_export(exported, KNOWN)
    assert sorted((lang, prompt) for lang, prompt, _ in clips) == [("ar", "start"), ("fr", "q-x")]
    other = ClipStore(tmp_path / "b")
    assert other.save_all(clips) == 2
    assert other.find("fr", "q-x").path.read_bytes() == OGG


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"not a zip at all", "not_zip"),
        (zip_of({"../../etc/passwd.webm": WEBM}), "unknown_name"),
        (zip_of({"/abs/start.webm": WEBM}), "unknown_name"),
        (zip_of({"fr/start.mp3": WEBM}), "unknown_name"),
        (zip_of({"de/start.webm": WEBM}), "unknown_language"),
        (zip_of({"fr/nope.webm": WEBM}), "unknown_prompt"),
        (zip_of({"fr/start.webm": b"MZ" + b"\0" * 50}), "not_audio"),
        (zip_of({"fr/start.webm": OGG}), "not_audio"),
        (zip_of({"fr/start.webm": WEBM, "fr/start.ogg": OGG}), "duplicate"),
        (zip_of({"fr/start.webm": WEBM}, manifest={"format": "x"}), "manifest"),
        (
            zip_of(
                {"fr/start.webm": WEBM},
                manifest={"format": "nabd-voice-clips", "version": 1, "clips": []},
            ),
            "manifest",
        ),
        (zip_of({"fr/start.webm": b"OggS" + b"\0" * MAX_CLIP_BYTES}), "too_large"),
    ],
)
def test_a_bad_export_is_refused_whole(data, code):
    with pytest.raises(ClipRefused) as refused:
        read_export(data, KNOWN)
    assert refused.value.code == code


def test_a_zip_without_manifest_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("fr/start.webm", WEBM)
    with pytest.raises(ClipRefused) as refused:
        read_export(buffer.getvalue(), KNOWN)
    assert refused.value.code == "manifest"
