"""The voice routes (kiosk/web/voice.py): the coordinator's recording page, a clip's upload, the
ZIP's export and import, a clip served to the kiosk, and the listen buttons on the kiosk."""

from __future__ import annotations

import io
import json
import os
import re
import zipfile

import pytest

from kiosk.db import db
from kiosk.domain.voice import MAX_CLIP_BYTES, desk_prompt_id
from kiosk.models import Event
from tests.support.staff import csrf_of
from tests.support.voice import OGG, WEBM, zip_of

BOUNDARY = "nabd-test-boundary"


def upload(client, url, data=WEBM, field="clip", token=True, name="clip.webm"):
    """A multipart POST, encoded here: the test client spools large bodies to a temporary file
    it never closes (a ResourceWarning, an error under filterwarnings=error)."""
    parts = []
    if token:
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{csrf_of(client, '/staff/')}\r\n".encode()
        )
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return client.post(
        url,
        data=b"".join(parts),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )


def clip_files(app, language="fr"):
    folder = app.instance_path + f"/voice/{language}"
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def events(app, action):
    with app.app_context():
        return [e.detail for e in db.session.query(Event).filter_by(action=action)]


# --- who may --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/staff/voice"),
        ("post", "/staff/voice/fr/start"),
        ("get", "/staff/voice/export"),
        ("post", "/staff/voice/import"),
    ],
)
def test_the_recording_routes_need_a_login(staffed, method, url):
    client = staffed.test_client()
    data = {"csrf_token": csrf_of(client)} if method == "post" else None
    response = getattr(client, method)(url, data=data)
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["reception", "doctor", "phlebotomist"])
def test_the_recording_routes_are_the_coordinators(login_as, role, staffed):
    client = login_as(role)
    assert client.get("/staff/voice").status_code == 403
    assert client.get("/staff/voice/export").status_code == 403
    assert upload(client, "/staff/voice/fr/start").status_code == 403
    assert upload(client, "/staff/voice/import", zip_of({}), field="clips").status_code == 403
    assert clip_files(staffed) == []


def test_the_admin_page_links_to_the_recording_page(login_as):
    html = login_as("coordinator").get("/staff/admin").get_data(as_text=True)
    assert 'href="/staff/voice"' in html


# --- the recording page ---------------------------------------------------------------------------


def test_the_recording_page_lists_every_prompt_and_counts_the_missing(login_as):
    client = login_as("coordinator")
    response = client.get("/staff/voice?lang=ar")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "microphone=(self)" in response.headers["Permissions-Policy"]
    assert 'data-prompt="start"' in html and 'data-prompt="q-fever-or-infection"' in html
    assert 'data-prompt="num-21"' not in html and 'data-prompt="num-900"' in html
    assert f'data-prompt="{desk_prompt_id("Médecin 1")}"' in html
    assert "واحد" in html  # the Arabic number words to say
    missing = {lang: int(n) for lang, n in _missing_counts(html)}
    assert set(missing) == set(client.application.config["LANGUAGES"])
    # Screens, questions, number words, desks: Tamazight says numbers digit by digit (fewer words).
    assert all(n >= 40 for n in missing.values()), missing
    upload(client, "/staff/voice/ar/start")
    html = client.get("/staff/voice?lang=ar").get_data(as_text=True)
    assert dict(_missing_counts(html))["ar"] == str(missing["ar"] - 1)
    assert 'src="/voice/ar/start?v=' in html


def _missing_counts(html):
    return re.findall(r'lang="([a-z]+)"[^>]*data-missing="(\d+)"', html)


def test_other_pages_keep_the_microphone_off(client):
    assert client.get("/kiosk").headers["Permissions-Policy"].count("microphone=()") == 1


# --- a clip's upload ------------------------------------------------------------------------------


def test_a_recorded_clip_is_kept_audited_and_served(login_as, staffed):
    client = login_as("coordinator")
    response = upload(client, "/staff/voice/fr/q-fever-or-infection")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/staff/voice?lang=fr#p-q-fever-or-infection")
    assert clip_files(staffed) == ["q-fever-or-infection.webm"]
    detail = json.loads(events(staffed, "voice_clip_saved")[0])
    assert detail == {"bytes": len(WEBM), "language": "fr", "prompt": "q-fever-or-infection"}
    served = staffed.test_client().get("/voice/fr/q-fever-or-infection")
    assert served.status_code == 200
    assert served.data == WEBM and served.mimetype == "audio/webm"
    assert "no-store" not in served.headers["Cache-Control"]
    assert "max-age" in served.headers["Cache-Control"] and served.headers["ETag"]
    again = staffed.test_client().get(
        "/voice/fr/q-fever-or-infection", headers={"If-None-Match": served.headers["ETag"]}
    )
    assert again.status_code == 304


def test_an_ogg_clip_replaces_a_webm_one(login_as, staffed):
    client = login_as("coordinator")
    upload(client, "/staff/voice/fr/start")
    upload(client, "/staff/voice/fr/start", OGG, name="x.ogg")
    assert clip_files(staffed) == ["start.ogg"]
    assert staffed.test_client().get("/voice/fr/start").mimetype == "audio/ogg"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "L’enregistrement est vide"),
        (b"<?php system($_GET['x']); ?>" * 3, "pas un enregistrement audio WebM ou Ogg"),
        (b"OggS" + b"\0" * MAX_CLIP_BYTES, "trop volumineux"),
    ],
)
def test_a_bad_upload_is_refused_and_nothing_kept(login_as, staffed, data, message):
    response = upload(login_as("coordinator"), "/staff/voice/fr/start", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert clip_files(staffed) == []
    assert events(staffed, "voice_clip_saved") == []


def test_an_oversize_body_gets_the_413_page(login_as, staffed):
    response = login_as("coordinator").post(
        "/staff/voice/fr/start",
        data=b"x" * (2 * 1024 * 1024),
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 413
    assert clip_files(staffed) == []


@pytest.mark.parametrize(
    "url",
    [
        "/staff/voice/de/start",
        "/staff/voice/fr/no-such-prompt",
        "/staff/voice/fr/..%2Fstart",
        "/staff/voice/en/start",  # not a language of the kiosk
    ],
)
def test_an_unknown_language_or_prompt_is_404(login_as, staffed, url):
    assert upload(login_as("coordinator"), url).status_code == 404
    assert clip_files(staffed) == []


def test_an_upload_without_csrf_token_is_refused(login_as, staffed):
    response = upload(login_as("coordinator"), "/staff/voice/fr/start", token=False)
    assert response.status_code == 400
    assert clip_files(staffed) == []


@pytest.mark.parametrize("url", ["/voice/fr/start", "/voice/de/start", "/voice/fr/..%2F..%2Fx"])
def test_a_missing_clip_is_404(client, url):
    assert client.get(url).status_code == 404


# --- export and import ----------------------------------------------------------------------------


def test_the_clips_go_out_as_one_zip_and_come_back(login_as, staffed, make_app, tmp_path):
    client = login_as("coordinator")
    upload(client, "/staff/voice/fr/start")
    upload(client, "/staff/voice/ar/q-vaccine", OGG, name="a.ogg")
    exported = client.get("/staff/voice/export")
    assert exported.status_code == 200 and exported.mimetype == "application/zip"
    assert "attachment" in exported.headers["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(exported.data)).namelist()
    assert sorted(names) == ["ar/q-vaccine.ogg", "fr/start.webm", "manifest.json"]
    assert events(staffed, "voice_clips_exported")

    # The next campaign: a fresh instance, the same voice.
    (tmp_path / "instance" / "voice").rename(tmp_path / "old-voice")
    response = upload(client, "/staff/voice/import", exported.data, field="clips", name="v.zip")
    assert response.status_code == 200
    assert "2 enregistrements importés" in response.get_data(as_text=True)
    assert clip_files(staffed, "fr") == ["start.webm"]
    assert clip_files(staffed, "ar") == ["q-vaccine.ogg"]
    assert json.loads(events(staffed, "voice_clips_imported")[0]) == {"clips": 2}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04 broken", "pas un ZIP d’enregistrements"),
        (zip_of({"../../kiosk.sqlite3.webm": WEBM}), "autre chose que des enregistrements"),
        (zip_of({"de/start.webm": WEBM}), "une langue que cette borne ne propose pas"),
        (zip_of({"fr/nope.webm": WEBM}), "un texte que cette borne n’a pas"),
        (zip_of({"fr/start.webm": b"GIF89a" + b"\0" * 30}), "pas un enregistrement audio WebM"),
    ],
)
def test_a_bad_import_is_refused_with_its_reason_and_loses_nothing(
    login_as, staffed, data, message
):
    client = login_as("coordinator")
    upload(client, "/staff/voice/fr/identity")
    good_then_bad = data
    response = upload(client, "/staff/voice/import", good_then_bad, field="clips", name="v.zip")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert clip_files(staffed) == ["identity.webm"]
    assert events(staffed, "voice_clips_imported") == []


def test_an_import_keeps_nothing_if_one_clip_is_bad(login_as, staffed):
    data = zip_of({"fr/start.webm": WEBM, "fr/identity.webm": b"junk" * 10})
    response = upload(login_as("coordinator"), "/staff/voice/import", data, field="clips")
    assert response.status_code == 422
    assert clip_files(staffed) == []


def test_an_import_without_a_file_or_token_is_refused(login_as, staffed):
    client = login_as("coordinator")
    token = csrf_of(client, "/staff/")
    assert client.post("/staff/voice/import", data={"csrf_token": token}).status_code == 422
    response = upload(client, "/staff/voice/import", zip_of({}), field="clips", token=False)
    assert response.status_code == 400


def test_an_import_may_be_larger_than_a_form_but_not_endless(login_as, staffed):
    client = login_as("coordinator")
    big = zip_of(
        {
            f"fr/q-{code}.webm": WEBM + bytes(300_000)
            for code in ("vaccine", "surgery", "medicines", "transfused")
        }
    )
    assert len(big) > 1024 * 1024
    response = upload(client, "/staff/voice/import", big, field="clips")
    assert response.status_code == 200
    assert len(clip_files(staffed)) == 4


# --- the kiosk's listen buttons -------------------------------------------------------------------


def test_every_kiosk_screen_and_question_has_a_listen_button(client):
    html = client.get("/kiosk").get_data(as_text=True)
    assert 'data-listen="start"' in html and 'data-listen="start-data"' in html
    html = client.get("/kiosk/questionnaire?lang=ar").get_data(as_text=True)
    assert 'data-listen="questionnaire"' in html and 'data-listen="q-vaccine"' in html
    assert 'data-lang="ar"' in html
    # Without a clip, the button waits for the script to find a voice: hidden.
    assert 'data-clip="' not in html
    buttons = re.findall(r"<button[^>]*data-listen=[^>]*>", html)
    assert len(buttons) == 1 + html.count("data-question=") and all(
        b.endswith(" hidden>") for b in buttons
    )


def test_every_listen_button_names_a_known_prompt():
    from pathlib import Path

    from kiosk.domain.validation import STEPS
    from kiosk.domain.voice import SCREEN_PROMPT_IDS

    templates = Path(__file__).resolve().parents[2] / "templates"
    named = {
        found
        for path in templates.rglob("*.html")
        for found in re.findall(r'listen\("([a-z-]+)"\)', path.read_text(encoding="utf-8"))
    }
    assert named and named <= SCREEN_PROMPT_IDS
    assert set(STEPS) <= SCREEN_PROMPT_IDS  # the wizard's button: listen(step)


def test_a_recorded_prompt_carries_its_clip(login_as, staffed):
    upload(login_as("coordinator"), "/staff/voice/fr/identity")
    html = staffed.test_client().get("/kiosk/register?lang=fr").get_data(as_text=True)
    assert 'data-listen="identity"' in html
    assert 'data-clip="/voice/fr/identity?v=' in html
    arabic = staffed.test_client().get("/kiosk/register?lang=ar").get_data(as_text=True)
    assert 'data-clip="' not in arabic


# --- the display's announcement -------------------------------------------------------------------


def test_the_display_plays_the_recorded_call_where_every_word_is_recorded(login_as, register):
    from kiosk.domain.voice import announcement_prompts
    from tests.support.staff import post

    register(cin="AA100001")
    post(login_as("doctor", desk="Médecin 1"), "/staff/queue/interview/call-next")
    coordinator = login_as("coordinator")
    prompts = announcement_prompts("fr", 1, "Médecin 1")
    assert prompts == ["call-number", "num-1", "call-go-to", desk_prompt_id("Médecin 1")]
    for prompt_id in prompts[:-1]:
        upload(coordinator, f"/staff/voice/fr/{prompt_id}")
    page = coordinator.get("/display").get_data(as_text=True)
    languages = " ".join(coordinator.application.config["LANGUAGES"])
    assert f'data-languages="{languages}"' in page
    assert "data-clips-fr" not in page  # the desk is not recorded yet: the browser's voice
    upload(coordinator, f"/staff/voice/fr/{prompts[-1]}")
    page = coordinator.get("/display").get_data(as_text=True)
    clips = re.search(r'data-clips-fr="([^"]*)"', page).group(1).split(" ")
    assert [url.split("?")[0] for url in clips] == [f"/voice/fr/{p}" for p in prompts]
    assert "data-clips-ar" not in page
    assert 'data-say-ar="' in page
