"""Prompt clips: the kiosk's prompts said aloud, recorded by the team before the day.

A prompt is one piece of text a donor can hear, in every configured language. Each has a stable
id, the name of its clip file (`instance/voice/<language>/<id>.webm` or `.ogg`):

- a screen's text: a fixed id per screen (`start`, `identity`, `consent`…), listed below with the
  msgids it reads (the web layer translates them): renaming a screen's id loses its clips, so ids
  are never derived from the English wording;
- a question of the questionnaire: `q-` and the question's code in kiosk/rules/questionnaire.toml
  (`q-fever-or-infection`: underscores become hyphens);
- the wall display's announcement: `call-number` ("Number"), `call-go-to` ("please go to"), the
  number words `num-<token>` of each language (NUMBER_RULES) and the desks, `desk-` and the first
  ten hex digits of the SHA-256 of the desk's name (a desk keeps its voice from one campaign to
  the next as long as its name is the same).

A clip is Opus in WebM or Ogg (what MediaRecorder gives and every browser plays), recognised by
its first bytes, never by a name or a type the client sends, and at most MAX_CLIP_BYTES. The clips
of a campaign leave as one ZIP (a manifest and one file per clip) and come back the same way at the
next campaign; a file that is not exactly that is refused whole, before anything is written.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

MAX_CLIP_BYTES = 512 * 1024  # about two minutes of voice at MediaRecorder's usual 32 kbit/s
MAX_IMPORT_BYTES = 64 * 1024 * 1024
MAX_IMPORT_ENTRIES = 4000
MANIFEST = "manifest.json"
EXPORT_FORMAT = "nabd-voice-clips"
EXPORT_VERSION = 1
KINDS = ("webm", "ogg")
MEDIA_TYPES = {"webm": "audio/webm", "ogg": "audio/ogg"}

_PROMPT_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_ENTRY = re.compile(r"^([a-z]{2,3})/([a-z0-9]+(?:-[a-z0-9]+)*)\.(webm|ogg)$")
PROMPT_ID_LENGTH = 48


def N_(text: str) -> str:  # noqa: N802 (babel's marker: extracted, translated by the web layer)
    return text


# --- the prompts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScreenPrompt:
    id: str
    msgids: tuple[str, ...]


# The kiosk's screens, in the order a donor meets them. The texts are the screens' own msgids;
# `%(centre)s` is the campaign's regional centre.
SCREEN_PROMPTS: tuple[ScreenPrompt, ...] = (
    ScreenPrompt(
        "start",
        (N_("Give blood, and make the world pulse with life"), N_("Register to give blood")),
    ),
    ScreenPrompt(
        "start-data",
        (
            N_("Before you start: your data"),
            N_(
                "We ask for your name, sex, date of birth, and if you wish your CIN and phone "
                "number, then health questions before the donation."
            ),
            N_(
                "They are used to organise the queue, to check that giving blood is safe for you "
                "and for the patient, and to trace your donation."
            ),
            N_(
                "They are kept on this device during the day and handed over only to "
                "%(centre)s, which is responsible for them."
            ),
            N_(
                "You may see, correct or withdraw your data by asking the team today or the "
                "centre later (law 09-08). Nothing is shared with anyone else."
            ),
        ),
    ),
    ScreenPrompt(
        "identity",
        (
            N_("Who are you?"),
            N_("CIN (national identity card), if you have it"),
            N_("Date of birth"),
            N_("First name"),
            N_("Last name"),
            N_("Sex"),
        ),
    ),
    ScreenPrompt(
        "contact",
        (N_("How can we reach you?"), N_("Mobile phone (optional)"), N_("You are")),
    ),
    ScreenPrompt(
        "questionnaire",
        (
            N_("Before the donation: a few questions"),
            N_(
                "Your answers protect you and the patient. The doctor will go through them with "
                "you."
            ),
        ),
    ),
    ScreenPrompt(
        "consent",
        (
            N_("Your consent"),
            N_(
                "Your answers are used only for this blood donation: to organise the queue, to "
                "check that giving blood is safe, and to trace your donation. They are handed "
                "over only to the regional blood transfusion centre."
            ),
            N_("You may see, correct or withdraw your data by asking the team (law 09-08)."),
            N_("I agree that my data are recorded for this blood donation."),
        ),
    ),
    ScreenPrompt("review", (N_("Please check"), N_("Get my ticket"))),
    ScreenPrompt(
        "already",
        (
            N_("You are already registered today"),
            N_("Please see reception with your ID card: they will give you your ticket again."),
        ),
    ),
    ScreenPrompt(
        "ticket",
        (
            N_("Your ticket"),
            N_("Please wait to be called. Your number will be shown on the screen."),
        ),
    ),
)
SCREEN_PROMPT_IDS = frozenset(prompt.id for prompt in SCREEN_PROMPTS)

# The wall display's announcement: "Number" <the number> "please go to" <the desk>.
CALL_PROMPTS: tuple[ScreenPrompt, ...] = (
    ScreenPrompt("call-number", (N_("Number"),)),
    ScreenPrompt("call-go-to", (N_("please go to"),)),
)


@dataclass(frozen=True)
class Prompt:
    """One prompt in one language: its id, its group (the recording page's sections) and its
    text in that language (empty where the web layer translates `msgids`)."""

    id: str
    group: str  # screen | question | call | number | desk
    msgids: tuple[str, ...] = ()
    text: str = ""


def question_prompt_id(code: str) -> str:
    return "q-" + code.replace("_", "-")


def desk_prompt_id(desk_name: str) -> str:
    return "desk-" + hashlib.sha256(desk_name.encode("utf-8")).hexdigest()[:10]


def number_prompt_id(token: str) -> str:
    return "num-" + token


def prompts_for(
    language: str, questions: Iterable, desks: Iterable[tuple[str, str]]
) -> tuple[Prompt, ...]:
    """Every prompt of one language, in the recording page's order: the screens, the questions,
    the display's words, its numbers, its desks (`desks`: (name, name in this language))."""
    prompts = [Prompt(p.id, "screen", p.msgids) for p in SCREEN_PROMPTS]
    prompts += [
        Prompt(question_prompt_id(q.code), "question", text=q.text_in(language)) for q in questions
    ]
    prompts += [Prompt(p.id, "call", p.msgids) for p in CALL_PROMPTS]
    rule = number_rule(language)
    prompts += [
        Prompt(number_prompt_id(token), "number", text=rule.words.get(token, token))
        for token in rule.tokens()
    ]
    prompts += [Prompt(desk_prompt_id(name), "desk", text=spoken) for name, spoken in desks]
    return tuple(prompts)


# --- numbers as a station announcement says them -------------------------------------------------

AND = "and"


@dataclass(frozen=True)
class NumberRule:
    """How a language says 0–999 from a few recorded words (tokens: "0".."90", "100".."900", "and").

    - `digit_by_digit`: every digit on its own (1, 0, 5 for 105);
    - `own_words`: the numbers under 100 said as one word; another number under 100 is a tens
      word (the largest one leaving a rest under 20 that has its own word) and that rest;
    - `units_first`: the rest is said before the tens (Arabic: واحد و عشرين);
    - `and_pairs`: the (tens, rest) pairs joined by the word "and"; None: every pair;
    - `hundreds_own_word`: 200…900 are words of their own (Arabic مئتين); otherwise the digit
      then the word for 100, and 100 alone for one hundred (French deux cents, cent);
    - `and_after_hundreds`: "and" between the hundreds and the rest (Arabic مائة و خمسة);
    - `words`: each token as said in the language (what the recording page asks the team to say).
    """

    words: Mapping[str, str]
    digit_by_digit: bool = False
    own_words: frozenset[int] = frozenset()
    units_first: bool = False
    and_pairs: frozenset[tuple[int, int]] | None = frozenset()
    hundreds_own_word: bool = False
    and_after_hundreds: bool = False

    def say(self, number: int) -> list[str]:
        """The tokens that say `number`, in order."""
        if not 0 <= number <= 999:
            raise ValueError(f"{number} is outside 0–999")
        if self.digit_by_digit:
            return list(str(number))
        hundreds, rest = divmod(number, 100)
        if hundreds == 0:
            return self._below_hundred(rest)
        if self.hundreds_own_word:
            said = [str(hundreds * 100)]
        else:
            said = ["100"] if hundreds == 1 else [str(hundreds), "100"]
        if rest:
            said += [AND] if self.and_after_hundreds else []
            said += self._below_hundred(rest)
        return said

    def _below_hundred(self, number: int) -> list[str]:
        if number in self.own_words:
            return [str(number)]
        tens = max(
            base
            for base in self.own_words
            if base % 10 == 0 and 0 < number - base < 20 and number - base in self.own_words
        )
        rest = number - tens
        joined = self.and_pairs is None or (tens, rest) in self.and_pairs
        first, second = (rest, tens) if self.units_first else (tens, rest)
        return [str(first), *([AND] if joined else []), str(second)]

    def tokens(self) -> tuple[str, ...]:
        """Every token some number 0–999 needs, in a reading order (the clips to record)."""
        used = {token for number in range(1000) for token in self.say(number)}
        return tuple(sorted(used, key=lambda t: (t == AND, int(t) if t != AND else 0)))


_UNITS = frozenset(range(20))
NUMBER_RULES: dict[str, NumberRule] = {
    # Modern Standard Arabic as announced: 21 = واحد و عشرين, 105 = مائة و خمسة.
    "ar": NumberRule(
        own_words=_UNITS | {20, 30, 40, 50, 60, 70, 80, 90},
        units_first=True,
        and_pairs=None,
        hundreds_own_word=True,
        and_after_hundreds=True,
        words={
            **dict(
                zip(
                    map(str, range(20)),
                    (
                        "صفر",
                        "واحد",
                        "اثنين",
                        "ثلاثة",
                        "أربعة",
                        "خمسة",
                        "ستة",
                        "سبعة",
                        "ثمانية",
                        "تسعة",
                        "عشرة",
                        "أحد عشر",
                        "اثنا عشر",
                        "ثلاثة عشر",
                        "أربعة عشر",
                        "خمسة عشر",
                        "ستة عشر",
                        "سبعة عشر",
                        "ثمانية عشر",
                        "تسعة عشر",
                    ),
                    strict=True,
                )
            ),
            "20": "عشرين",
            "30": "ثلاثين",
            "40": "أربعين",
            "50": "خمسين",
            "60": "ستين",
            "70": "سبعين",
            "80": "ثمانين",
            "90": "تسعين",
            "100": "مائة",
            "200": "مئتين",
            "300": "ثلاثمائة",
            "400": "أربعمائة",
            "500": "خمسمائة",
            "600": "ستمائة",
            "700": "سبعمائة",
            "800": "ثمانمائة",
            "900": "تسعمائة",
            AND: "و",
        },
    ),
    # French: 71 = soixante et onze, 80 = quatre-vingts, 91 = quatre-vingt-onze, 200 = deux cents.
    "fr": NumberRule(
        own_words=_UNITS | {20, 30, 40, 50, 60, 80},
        and_pairs=frozenset({(20, 1), (30, 1), (40, 1), (50, 1), (60, 1), (60, 11)}),
        words={
            **dict(
                zip(
                    map(str, range(20)),
                    (
                        "zéro",
                        "un",
                        "deux",
                        "trois",
                        "quatre",
                        "cinq",
                        "six",
                        "sept",
                        "huit",
                        "neuf",
                        "dix",
                        "onze",
                        "douze",
                        "treize",
                        "quatorze",
                        "quinze",
                        "seize",
                        "dix-sept",
                        "dix-huit",
                        "dix-neuf",
                    ),
                    strict=True,
                )
            ),
            "20": "vingt",
            "30": "trente",
            "40": "quarante",
            "50": "cinquante",
            "60": "soixante",
            "80": "quatre-vingt(s)",
            "100": "cent",
            AND: "et",
        },
    ),
    # Tamazight: digit by digit (IRCAM's numerals 0–9), until a speaker from Khénifra checks how
    # the compound numbers are said there (many say them in Arabic).
    "zgh": NumberRule(
        digit_by_digit=True,
        words=dict(
            zip(
                map(str, range(10)),
                ("ⴰⵎⵢⴰ", "ⵢⴰⵏ", "ⵙⵉⵏ", "ⴽⵕⴰⴹ", "ⴽⴽⵓⵥ", "ⵙⵎⵎⵓⵙ", "ⵚⴹⵉⵚ", "ⵙⴰ", "ⵜⴰⵎ", "ⵜⵥⴰ"),
                strict=True,
            )
        ),
    ),
}
# A language with no rule of its own (one added later) says the digits.
DIGITS = NumberRule(digit_by_digit=True, words={str(d): str(d) for d in range(10)})


def number_rule(language: str) -> NumberRule:
    return NUMBER_RULES.get(language, DIGITS)


def announcement_prompts(language: str, number: int, desk_name: str) -> list[str]:
    """The prompt ids the display plays, in order, to call `number` to the desk."""
    said = [number_prompt_id(token) for token in number_rule(language).say(number)]
    return ["call-number", *said, "call-go-to", desk_prompt_id(desk_name)]


# --- clips ---------------------------------------------------------------------------------------


class ClipRefused(ValueError):
    """A clip or a ZIP of clips that is not taken; `code` says why, `name` what (a message key)."""

    def __init__(self, code: str, name: str = ""):
        super().__init__(f"{code}: {name}" if name else code)
        self.code = code
        self.name = name


def clip_kind(data: bytes) -> str | None:
    """ "webm" or "ogg" from the first bytes of an audio file, None for anything else."""
    if data.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in data[:64]:
        return "webm"
    if data.startswith(b"OggS"):
        return "ogg"
    return None


def check_clip(data: bytes) -> str:
    """The clip's kind, or ClipRefused (empty, too_large, not_audio)."""
    if not data:
        raise ClipRefused("empty")
    if len(data) > MAX_CLIP_BYTES:
        raise ClipRefused("too_large")
    kind = clip_kind(data)
    if kind is None:
        raise ClipRefused("not_audio")
    return kind


def valid_prompt_id(prompt_id: str) -> bool:
    return len(prompt_id) <= PROMPT_ID_LENGTH and bool(_PROMPT_ID.fullmatch(prompt_id))


@dataclass(frozen=True)
class Clip:
    language: str
    prompt_id: str
    kind: str
    path: Path


@dataclass
class ClipStore:
    """The clips under one folder: <root>/<language>/<prompt id>.<webm|ogg>. Every path is built
    here from a checked language and prompt id, never taken from a client."""

    root: Path
    _cache: dict[str, dict[str, Clip]] = field(default_factory=dict)

    def _folder(self, language: str) -> Path:
        if not _LANGUAGE.fullmatch(language):
            raise ClipRefused("unknown_language", language)
        return self.root / language

    def clips(self, language: str) -> dict[str, Clip]:
        """The clips of a language by prompt id (read once per store)."""
        if language not in self._cache:
            found: dict[str, Clip] = {}
            folder = self._folder(language)
            if folder.is_dir():
                for entry in sorted(folder.iterdir()):
                    prompt_id, _, kind = entry.name.rpartition(".")
                    if kind in KINDS and valid_prompt_id(prompt_id) and entry.is_file():
                        found[prompt_id] = Clip(language, prompt_id, kind, entry)
            self._cache[language] = found
        return self._cache[language]

    def find(self, language: str, prompt_id: str) -> Clip | None:
        return self.clips(language).get(prompt_id)

    def save(self, language: str, prompt_id: str, data: bytes) -> Clip:
        """Checks then stores a clip, replacing the prompt's previous one (of either kind)."""
        kind = check_clip(data)
        if not valid_prompt_id(prompt_id):
            raise ClipRefused("unknown_prompt", prompt_id)
        folder = self._folder(language)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{prompt_id}.{kind}"
        _write_atomically(target, data)
        for other in KINDS:
            if other != kind:
                (folder / f"{prompt_id}.{other}").unlink(missing_ok=True)
        self._cache.pop(language, None)
        return Clip(language, prompt_id, kind, target)

    def export_zip(self, languages: Iterable[str]) -> bytes:
        """Every clip of these languages in one ZIP, with a manifest of names, sizes and sums."""
        buffer = io.BytesIO()
        entries = []
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            for language in languages:
                for clip in self.clips(language).values():
                    data = clip.path.read_bytes()
                    name = f"{language}/{clip.prompt_id}.{clip.kind}"
                    archive.writestr(name, data)
                    entries.append(
                        {
                            "language": language,
                            "prompt": clip.prompt_id,
                            "file": name,
                            "bytes": len(data),
                            "sha256": hashlib.sha256(data).hexdigest(),
                        }
                    )
            manifest = {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "clips": entries}
            archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
        return buffer.getvalue()

    def save_all(self, clips: Iterable[tuple[str, str, bytes]]) -> int:
        count = 0
        for language, prompt_id, data in clips:
            self.save(language, prompt_id, data)
            count += 1
        return count


def read_export(data: bytes, known: Mapping[str, frozenset[str]]) -> list[tuple[str, str, bytes]]:
    """The clips of an exported ZIP, every one checked before any is kept: (language, prompt id,
    bytes). `known`: the prompt ids of each configured language. ClipRefused on anything else:
    not_zip, too_large, too_many, unknown_name, unknown_language, unknown_prompt, duplicate,
    not_audio, manifest."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ClipRefused("too_large")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise ClipRefused("not_zip") from None
    if len(infos) > MAX_IMPORT_ENTRIES:
        raise ClipRefused("too_many")
    with archive:
        manifest = _manifest(archive, infos)
        clips, seen = [], set()
        for info in infos:
            if info.filename == MANIFEST or info.is_dir():
                continue
            language, prompt_id = _entry_names(info.filename, known)
            if (language, prompt_id) in seen:
                raise ClipRefused("duplicate", info.filename)
            seen.add((language, prompt_id))
            if info.file_size > MAX_CLIP_BYTES:
                raise ClipRefused("too_large", info.filename)
            payload = _read_entry(archive, info)
            try:
                kind = check_clip(payload)
            except ClipRefused as refused:
                raise ClipRefused(refused.code, info.filename) from None
            if not info.filename.endswith("." + kind):
                raise ClipRefused("not_audio", info.filename)
            listed = manifest.get(info.filename)
            if listed is None or listed != hashlib.sha256(payload).hexdigest():
                raise ClipRefused("manifest", info.filename)
            clips.append((language, prompt_id, payload))
    if len(clips) != len(manifest):
        raise ClipRefused("manifest")
    return clips


def _manifest(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> dict[str, str]:
    """The manifest's file names and sums; ClipRefused("manifest") if missing or not right."""
    info = next((i for i in infos if i.filename == MANIFEST), None)
    if info is None or info.file_size > 1024 * 1024:
        raise ClipRefused("manifest")
    try:
        manifest = json.loads(_read_entry(archive, info, 1024 * 1024))
        if manifest.get("format") != EXPORT_FORMAT or manifest.get("version") != EXPORT_VERSION:
            raise ClipRefused("manifest")
        sums = {entry["file"]: entry["sha256"] for entry in manifest["clips"]}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ClipRefused("manifest") from None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in sums.items()):
        raise ClipRefused("manifest")
    return sums


def _entry_names(name: str, known: Mapping[str, frozenset[str]]) -> tuple[str, str]:
    matched = _ENTRY.fullmatch(name)
    if matched is None:
        raise ClipRefused("unknown_name", name[:80])
    language, prompt_id, _ = matched.groups()
    if language not in known:
        raise ClipRefused("unknown_language", name)
    if prompt_id not in known[language]:
        raise ClipRefused("unknown_prompt", name)
    return language, prompt_id


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int = MAX_CLIP_BYTES):
    """An entry's bytes, never more than `limit` whatever its header claims (a zip bomb)."""
    try:
        with archive.open(info) as entry:
            payload = entry.read(limit + 1)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        raise ClipRefused("not_zip", info.filename) from None
    if len(payload) > limit:
        raise ClipRefused("too_large", info.filename)
    return payload


def _write_atomically(target: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".clip-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
