"""Prompt clips (kiosk/domain/voice.py): the coordinator records them, the kiosk and the display
play them, and they travel from one campaign to the next as one ZIP.

- /staff/voice: the prompts of each language with record, listen, keep or redo (coordinator);
- POST /staff/voice/<language>/<prompt id>: one clip, from MediaRecorder or a file;
- /staff/voice/export and POST /staff/voice/import: every clip as one ZIP;
- /voice/<language>/<prompt id>: a clip, to anyone (the kiosk has no login), cached.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

from kiosk.db import db, write_transaction
from kiosk.domain.audit_events import audit_event
from kiosk.domain.campaigns import current_campaign
from kiosk.domain.names import in_language
from kiosk.domain.questionnaire import load_questions
from kiosk.domain.queue import desks
from kiosk.domain.voice import (
    MAX_CLIP_BYTES,
    MAX_IMPORT_BYTES,
    MEDIA_TYPES,
    SCREEN_PROMPTS,
    ClipRefused,
    ClipStore,
    Prompt,
    announcement_prompts,
    prompts_for,
    question_prompt_id,
    read_export,
    valid_prompt_id,
)
from kiosk.web.auth import current_staff, staff_required
from kiosk.web.context import device, now
from kiosk.web.i18n import LANGUAGE_NAMES, current_language, supported
from kiosk.web.rendering import see_other

bp = Blueprint("voice", __name__)

CLIP_SAVED = "voice_clip_saved"
CLIPS_EXPORTED = "voice_clips_exported"
CLIPS_IMPORTED = "voice_clips_imported"
# A clip's address carries its version: the browser may keep it a long time.
CLIP_MAX_AGE = 30 * 24 * 3600
# The recording page asks for the microphone; every other page keeps it off.
RECORDING_PERMISSIONS = "camera=(), microphone=(self), geolocation=()"

GROUP_LABELS = {
    "screen": _l("Kiosk screens"),
    "question": _l("Questions"),
    "call": _l("Display: the call"),
    "number": _l("Display: numbers"),
    "desk": _l("Display: desks"),
}
REFUSAL_MESSAGES = {
    "empty": _l("The recording is empty. Record it again."),
    "too_large": _l("The file is too large."),
    "not_audio": _l("This is not a WebM or Ogg audio recording."),
    "not_zip": _l("This file is not a ZIP of voice clips exported by Nabd."),
    "too_many": _l("This file holds too many entries."),
    "unknown_name": _l("This file holds something other than voice clips: %(name)s"),
    "unknown_language": _l("This file holds a language this kiosk does not offer: %(name)s"),
    "unknown_prompt": _l("This file holds a clip for a prompt this kiosk does not have: %(name)s"),
    "duplicate": _l("This file holds the same clip twice: %(name)s"),
    "manifest": _l("The file's list of clips does not match its content."),
    "no_file": _l("Choose a file first."),
}


def init_app(app: Flask) -> None:
    from kiosk.web import csrf

    app.register_blueprint(bp)
    csrf.exempt(import_clips)  # checked in the view, once the ZIP's own size limit is set
    app.jinja_env.globals.update(
        voice_prompt=voice_prompt,
        question_prompt_id=question_prompt_id,
    )


def clip_store() -> ClipStore:
    """One store per request: the folder is listed once, however many buttons a page has."""
    if "clip_store" not in g:
        g.clip_store = ClipStore(Path(current_app.instance_path) / "voice")
    return g.clip_store


def clip_url(language: str, prompt_id: str) -> str | None:
    clip = clip_store().find(language, prompt_id)
    if clip is None:
        return None
    stat = clip.path.stat()
    version = f"{stat.st_mtime_ns:x}{stat.st_size:x}"
    return url_for("voice.clip", language=language, prompt_id=prompt_id, v=version)


def _centre_name(campaign) -> str:
    if campaign is None:
        return gettext("the regional blood transfusion centre")
    name = in_language(campaign.centre_names, current_language(), campaign.regional_centre)
    return name or gettext("the regional blood transfusion centre")


def prompt_text(prompt: Prompt, values: dict | None = None) -> str:
    """What the prompt says in the current language."""
    if not prompt.msgids:
        return prompt.text
    if values is None:  # the campaign is read only for the one prompt that names its centre
        named = any("%(centre)s" in msgid for msgid in prompt.msgids)
        values = {"centre": _centre_name(_campaign())} if named else {}
    return " ".join(gettext(msgid, **values) for msgid in prompt.msgids)


def _campaign():
    if "voice_campaign" not in g:
        g.voice_campaign = current_campaign(db.session)
    return g.voice_campaign


def voice_prompt(prompt_id: str, text: str | None = None) -> dict:
    """For a listen button: the prompt's text in the page's language and its clip's address
    (None without a clip). `text` gives it where the page has it (a question)."""
    language = current_language()
    if text is None:
        screen = next((p for p in SCREEN_PROMPTS if p.id == prompt_id), None)
        if screen is None:
            raise KeyError(f"no screen prompt {prompt_id!r} in kiosk/domain/voice.py")
        text = prompt_text(Prompt(screen.id, "screen", screen.msgids))
    return {"id": prompt_id, "text": text, "clip": clip_url(language, prompt_id)}


def _prompts(language: str) -> tuple[Prompt, ...]:
    spoken_desks = [
        (desk.name, in_language(desk.names, language, desk.name)) for desk in desks(db.session)
    ]
    return prompts_for(language, load_questions(), spoken_desks)


def known_prompts() -> dict[str, frozenset[str]]:
    return {language: frozenset(p.id for p in _prompts(language)) for language in supported()}


def announcement_clips(language: str, number: int, desk_name: str) -> list[str] | None:
    """The clips that call `number` to the desk in a language, in order; None if one is missing
    (the display then uses the browser's voice)."""
    urls = [
        clip_url(language, prompt_id)
        for prompt_id in announcement_prompts(language, number, desk_name)
    ]
    return None if None in urls else urls


# --- the clip itself -----------------------------------------------------------------------------


@bp.get("/voice/<language>/<prompt_id>")
def clip(language: str, prompt_id: str):
    if language not in supported() or not valid_prompt_id(prompt_id):
        abort(404)
    found = clip_store().find(language, prompt_id)
    if found is None:
        abort(404)
    # Read whole (a clip is at most MAX_CLIP_BYTES): nothing stays open behind the answer.
    data = found.path.read_bytes()
    response = current_app.response_class(data, mimetype=MEDIA_TYPES[found.kind])
    response.set_etag(hashlib.sha256(data).hexdigest()[:32])
    response.cache_control.max_age = CLIP_MAX_AGE
    response.cache_control.public = True
    return response.make_conditional(request)


# --- the coordinator's recording page ------------------------------------------------------------


@bp.get("/staff/voice")
@staff_required("admin")
def recording_page():
    return _page()


def _page(
    message: str | None = None, ok: bool = True, status: int = 200, language: str | None = None
):
    languages = supported()
    language = language or request.values.get("lang")
    language = language if language in languages else languages[0]
    counts = {}
    for code in languages:
        ids = [p.id for p in _prompts(code)]
        recorded = clip_store().clips(code)
        counts[code] = {"total": len(ids), "missing": sum(1 for i in ids if i not in recorded)}
    values = {"centre": _centre_name(_campaign())}
    with force_locale(language):
        rows = [
            {
                "prompt": prompt,
                "text": prompt_text(prompt, values),
                "clip": clip_url(language, prompt.id),
            }
            for prompt in _prompts(language)
        ]
    response = current_app.make_response(
        (
            render_template(
                "voice/recording.html",
                staff=current_staff(),
                shown_language=language,
                language_names=LANGUAGE_NAMES,
                counts=counts,
                rows=rows,
                group_labels=GROUP_LABELS,
                message=message,
                ok=ok,
                max_clip_kb=MAX_CLIP_BYTES // 1024,
                max_import_mb=MAX_IMPORT_BYTES // (1024 * 1024),
            ),
            status,
        )
    )
    response.headers["Permissions-Policy"] = RECORDING_PERMISSIONS
    return response


@bp.post("/staff/voice/<language>/<prompt_id>")
@staff_required("admin")
def save_clip(language: str, prompt_id: str):
    if language not in supported():
        abort(404)
    if prompt_id not in known_prompts()[language]:
        abort(404)
    upload = request.files.get("clip")
    data = upload.read(MAX_CLIP_BYTES + 1) if upload else b""
    try:
        clip_store().save(language, prompt_id, data)
    except ClipRefused as refused:
        return _page(_refusal(refused), ok=False, status=422, language=language)
    _audit(CLIP_SAVED, {"language": language, "prompt": prompt_id, "bytes": len(data)})
    return see_other(url_for("voice.recording_page", lang=language) + f"#p-{prompt_id}")


@bp.get("/staff/voice/export")
@staff_required("admin")
def export():
    data = clip_store().export_zip(supported())
    _audit(CLIPS_EXPORTED, {"bytes": len(data)})
    stamp = now().strftime("%Y%m%d")
    response = current_app.response_class(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="nabd-voice-{stamp}.zip"'
    return response


@bp.post("/staff/voice/import")
@staff_required("admin")
def import_clips():
    # The ZIP may be larger than any form: its own limit, set before the body is read (the CSRF
    # check reads it, hence the check here rather than before every request).
    request.max_content_length = MAX_IMPORT_BYTES + 64 * 1024
    from kiosk.web import csrf

    csrf.protect()
    upload = request.files.get("clips")
    if upload is None or not upload.filename:
        return _page(str(REFUSAL_MESSAGES["no_file"]), ok=False, status=422)
    data = upload.read(MAX_IMPORT_BYTES + 1)
    try:
        clips = read_export(data, known_prompts())
    except ClipRefused as refused:
        return _page(_refusal(refused), ok=False, status=422)
    count = clip_store().save_all(clips)
    g.pop("clip_store", None)
    _audit(CLIPS_IMPORTED, {"clips": count})
    message = gettext("%(count)s voice clips imported.", count=count)
    return _page(message)


def _refusal(refused: ClipRefused) -> str:
    return str(REFUSAL_MESSAGES.get(refused.code, REFUSAL_MESSAGES["not_audio"])) % {
        "name": refused.name
    }


def _audit(action: str, detail: dict) -> None:
    staff = current_staff()
    moment: datetime = now()
    with write_transaction(db.session):
        db.session.add(
            audit_event(
                moment,
                staff.user.username,
                device(),
                action,
                detail=json.dumps(detail, sort_keys=True),
            )
        )
