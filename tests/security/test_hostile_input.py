"""Item 7: every field of every form, fed at least 100 generated bad values each.

Very long strings, NUL and control characters, right-to-left overrides, HTML and script, SQL
fragments, bytes that are not UTF-8, impossible dates and times, numbers out of range or in exotic
digits. Each one, put into an otherwise good form, must give a 4xx with a clear message, store
nothing, never 500, and anything echoed must come back escaped: the marker planted in the HTML
payloads never becomes a tag or an attribute of the answer.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk import create_app
from kiosk.db import db
from kiosk.domain.campaigns import CampaignDetails, current_campaign, open_campaign
from kiosk.domain.eligibility import THRESHOLD_BOUNDS
from kiosk.domain.medical import table_for
from kiosk.domain.questionnaire import load_questions
from tests.security.conftest import (
    GOOD_DONATION,
    GOOD_SCREENING,
    build_venue,
    snapshot,
    staff_client,
)
from tests.support.factories import CAMPAIGN_DAY, FROZEN_NOW, VALID_DONOR, Clock
from tests.support.staff import PASSWORD, create_staff_and_desks, csrf_of

# Minutes on this machine: `make test-quick` leaves it out, `make test` runs it.
pytestmark = pytest.mark.slow

EXAMPLES = 100
MARK = "zzevil"
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@dataclass(frozen=True)
class NotUtf8:
    """Bytes sent as they are, percent-encoded: the browser's form was not UTF-8."""

    raw: bytes


# --- the bad values -----------------------------------------------------------------------------

_filler = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


def _around(payload: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(_filler, payload, _filler).map("".join)


HTML = _around(
    st.sampled_from(
        [
            f"<script>{MARK}()</script>",
            f'"><img src=x onerror={MARK}()>',
            f"'><svg onload={MARK}()>",
            f"</textarea><b {MARK}>",
            f"</title><{MARK}>",
            f'" {MARK}="1',
            f"' {MARK}='1",
            f"<a href=javascript:{MARK}()>x</a>",
            f"{{{{ {MARK} }}}}<i {MARK}>",
            f"<iframe srcdoc='<{MARK}>'>",
        ]
    )
)
SQL = _around(
    st.sampled_from(
        [
            "' OR '1'='1",
            "1; DROP TABLE visit; --",
            "'); DELETE FROM event; --",
            '" OR 1=1 --',
            "1 UNION SELECT password_hash FROM staff_user",
            "%' AND 1=0 UNION SELECT sqlite_version() --",
            "\\'; UPDATE donor SET cin=NULL; --",
        ]
    )
)
CONTROL = _around(
    st.text(
        st.characters(min_codepoint=0, max_codepoint=31, exclude_characters="\t\n\r")
        | st.just("\x7f"),
        min_size=1,
        max_size=4,
    )
)
BIDI = _around(st.text(st.sampled_from("\u202a\u202b\u202d\u202e\u2066\u2067\u2068"), min_size=1))
NOT_UTF8 = st.binary(min_size=1, max_size=12).filter(lambda b: not _decodes(b)).map(NotUtf8)
LONG = st.integers(min_value=1_001, max_value=20_000).flatmap(
    lambda n: st.sampled_from(["a", "ب", "<", "9", "ⵣ"]).map(lambda c: c * n)
)
EVERYTHING_BAD = st.one_of(HTML, SQL, CONTROL, BIDI, NOT_UTF8, LONG)

IMPOSSIBLE_DATES = st.one_of(
    st.sampled_from(["2026-02-30", "2025-02-29", "2026-04-31", "0000-00-00", "9999-99-99"]),
    st.tuples(st.integers(0, 9999), st.integers(13, 99) | st.just(0), st.integers(1, 28)).map(
        lambda t: f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}"
    ),
    st.tuples(st.integers(1, 9999), st.integers(1, 12), st.integers(32, 99) | st.just(0)).map(
        lambda t: f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}"
    ),
    st.sampled_from(["17/05/1990", "1990-5-17 ", "1990-05-17T00:00", "-1990-05-17", "١٩٩٠-٠٥-٣٢"]),
)
IMPOSSIBLE_TIMES = st.one_of(
    st.tuples(st.integers(24, 99), st.integers(0, 59)).map(lambda t: f"{t[0]:02d}:{t[1]:02d}"),
    st.tuples(st.integers(0, 23), st.integers(60, 99)).map(lambda t: f"{t[0]:02d}:{t[1]:02d}"),
    # "9h10" and "0910" are times now (the 24-hour clock as a phone's number pad types it).
    st.sampled_from(["9h", "09:10 pm", "-01:00", "٢٥:٠٠", "09:10:61", "24h00", "9:1O"]),
)
OUT_OF_RANGE = st.one_of(
    st.integers(max_value=-1).map(str),
    st.integers(min_value=100_000).map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e400", "-0x10", "²", "①②", "1²", "٣٣٣٣٣٣", "½"]),
)


def _decodes(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def bad_values(kind: str) -> st.SearchStrategy:
    if kind == "secret":
        # Anything typeable is a fair passphrase, markup and SQL included; what no keyboard at the
        # centre types again is not. Bytes that are not UTF-8 arrive as their %XX escapes, which
        # is a passphrase one can type (and is the one the bundle gets), so they are not here.
        return st.one_of(CONTROL, BIDI, LONG)
    extra = {
        "date": IMPOSSIBLE_DATES,
        "time": IMPOSSIBLE_TIMES,
        "number": OUT_OF_RANGE,
        "text": st.one_of(CONTROL, BIDI, LONG),
    }
    # HTML and SQL are fair content for a note; these are not. Bytes that are not UTF-8 reach the
    # app as their %XX escapes (werkzeug keeps them so), which is plain text there too.
    if kind == "text":
        return st.one_of(extra["text"], st.tuples(HTML, CONTROL).map("".join))
    if kind in extra:
        return st.one_of(extra[kind], extra[kind], EVERYTHING_BAD)
    return EVERYTHING_BAD


# --- the forms ----------------------------------------------------------------------------------


@dataclass
class Form:
    name: str
    url: str
    who: str | None  # None: the kiosk
    good: dict[str, str]
    fields: dict[str, str]  # field -> kind
    statuses: frozenset[int] = frozenset({422})
    method: str = "POST"
    desk: str | None = None
    counts: Counter = field(default_factory=Counter)
    twins: dict[str, str] = field(default_factory=dict)  # field -> a field typed the same again


DONATION_FIELDS = {
    "bag_number": "code",
    "bag_type": "choice",
    "volume_ml": "number",
    "started_at": "time",
    "ended_at": "time",
    "outcome": "choice",
    "adverse_event": "choice",
    "adverse_severity": "choice",
    "note": "text",
}


def _questionnaire_fields() -> dict[str, str]:
    fields = {f"q_{q.code}": "choice" for q in load_questions()}
    fields.update({f"q_{q.code}_date": "date" for q in load_questions() if "date" in q.answer})
    return fields


def _forms(venue, thresholds: dict[str, str]) -> list[Form]:
    donor = {**VALID_DONOR, "cin": "AA900009"}
    dated = {f"q_{q.code}": "yes" for q in load_questions() if "date" in q.answer}
    identity = {
        **donor,
        "birth_day": "17",
        "birth_month": "5",
        "birth_year": "1990",
        "step": "identity",
    }
    identity.pop("birth_date")
    return [
        Form(
            "kiosk register",
            "/kiosk/register",
            None,
            donor,
            {
                "first_name": "name",
                "last_name": "name",
                "sex": "choice",
                "birth_date": "date",
                "cin": "code",
                "phone": "code",
                "category": "choice",
                "consent": "choice",
                **{k: v for k, v in _questionnaire_fields().items() if not k.endswith("_date")},
            },
        ),
        Form(
            "kiosk register, dated answers",
            "/kiosk/register",
            None,
            {**donor, **dated, **{f"{k}_date": "2026-11-01" for k in dated}},
            {k: v for k, v in _questionnaire_fields().items() if k.endswith("_date")},
        ),
        Form(
            "kiosk wizard, identity",
            "/kiosk/wizard",
            None,
            identity,
            {"birth_day": "number", "birth_month": "number", "birth_year": "number"},
        ),
        Form(
            "login",
            "/login",
            None,
            {"username": "doctor", "password": PASSWORD},
            {"username": "code", "password": "code"},
            frozenset({401, 429}),
        ),
        Form("desk", "/staff/desk", "doctor", {"desk": "Médecin 1"}, {"desk": "code"}),
        Form(
            "put back",
            "/staff/queue/interview/put-back",
            "doctor",
            {"visit": "1"},
            {"visit": "number"},
            frozenset({409}),
        ),
        Form(
            "scanner",
            "/staff/scan",
            "reception",
            {"code": venue.waiting},
            {"code": "code"},
            frozenset({404}),
            method="GET",
        ),
        Form(
            "screening",
            f"/staff/visits/{venue.interview}/screening",
            "doctor",
            {**GOOD_SCREENING, "deferral_reason": "other", "deferral_until": "2027-01-10"},
            {
                "weight_kg": "number",
                "systolic": "number",
                "diastolic": "number",
                "pulse": "number",
                "hemoglobin_g_dl": "number",
                "temperature_c": "number",
                "decision": "choice",
                "note": "text",
            },
            desk="Médecin 1",
        ),
        Form(
            "screening, deferral",
            f"/staff/visits/{venue.interview}/screening",
            "doctor",
            {
                **GOOD_SCREENING,
                "decision": "deferred_temporary",
                "deferral_reason": "other",
                "deferral_until": "2027-01-10",
                "note": "Contrôle",
            },
            {"deferral_reason": "choice", "deferral_until": "date"},
            desk="Médecin 1",
        ),
        Form(
            "donation",
            f"/staff/visits/{venue.collection}/donation",
            "phlebotomist",
            {**GOOD_DONATION, "adverse_event": "vasovagal", "adverse_severity": "mild"},
            DONATION_FIELDS,
            desk="Fauteuil 1",
        ),
        Form(
            "new desk",
            "/staff/admin/desks",
            "coordinator",
            {"name": "Médecin 7", "stage": "interview"},
            {"name": "text", "stage": "choice"},
        ),
        Form(
            "medical settings",
            "/staff/admin/medical",
            "coordinator",
            {"rules": "who2012", "bag_numbers": "any", **thresholds},
            {"rules": "choice", "bag_numbers": "code", **{k: "number" for k in thresholds}},
        ),
        Form(
            "close the day",
            "/staff/admin/close",
            "coordinator",
            {"confirm": "yes"},
            {"confirm": "choice"},
        ),
        Form(
            "donation correction",
            f"/staff/visits/{venue.rest}/donation/correct",
            "coordinator",
            # Differs from the stored donation: a bad value let through would store the rest.
            {
                **GOOD_DONATION,
                "volume_ml": "430",
                "adverse_event": "vasovagal",
                "adverse_severity": "mild",
                "note": "Relu",
            },
            DONATION_FIELDS,
        ),
        Form(
            "export",
            "/staff/export",
            "coordinator",
            {"day": CAMPAIGN_DAY.isoformat(), **_passphrase_twice(EXPORT_PASSPHRASE)},
            {"campaign": "code", "day": "date", "passphrase": "code", "passphrase_again": "code"},
        ),
        Form(
            "export, the passphrase typed twice",
            "/staff/export",
            "coordinator",
            {"day": CAMPAIGN_DAY.isoformat(), **_passphrase_twice(EXPORT_PASSPHRASE)},
            {"passphrase": "secret"},
            twins={"passphrase": "passphrase_again"},
        ),
        Form(
            "report day",
            "/staff/report",
            "coordinator",
            {"date": CAMPAIGN_DAY.isoformat()},
            {"date": "date"},
            frozenset({400}),
            method="GET",
        ),
    ]


EXPORT_PASSPHRASE = "thé à la menthe 2026"


def _passphrase_twice(passphrase: str) -> dict[str, str]:
    return {"passphrase": passphrase, "passphrase_again": passphrase}


# --- one world for the whole file ---------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        for name in ("DATABASE_URL", "KIOSK_BASE_URL", "KIOSK_SECRET_KEY", "HOST", "PORT"):
            patch.delenv(name, raising=False)
        app = create_app(
            {
                "INSTANCE": tmp_path_factory.mktemp("hostile") / "instance",
                "CLOCK": Clock(FROZEN_NOW),
                "SLEEP": lambda seconds: None,
            }
        )
    with app.app_context():
        details = CampaignDetails("Don de sang", "Khénifra", CAMPAIGN_DAY, "CRTS Meknès")
        open_campaign(db.session, details, FROZEN_NOW)
    create_staff_and_desks(app)
    venue = build_venue(app)
    with app.app_context():
        table = table_for(current_campaign(db.session)).thresholds
        thresholds = {name: f"{table[name]:g}" for name in THRESHOLD_BOUNDS if name in table}
    clients = {None: app.test_client()}
    for who, desk in (
        ("doctor", "Médecin 1"),
        ("phlebotomist", "Fauteuil 1"),
        ("reception", None),
        ("coordinator", None),
    ):
        clients[who] = staff_client(app, who, desk)
    tokens = {
        who: csrf_of(client, "/kiosk/register" if who is None else "/staff/")
        for who, client in clients.items()
    }
    forms = _forms(venue, thresholds)
    yield app, clients, tokens, forms
    with app.app_context():
        db.engine.dispose()


def _cases() -> list[tuple[str, str]]:
    """(form, field) for every field of every form; the tokens do not matter for the names."""

    class AnyVenue:
        waiting = interview = collection = rest = "T" * 32

    return [(form.name, name) for form in _forms(AnyVenue, {}) for name in form.fields]


def _body(form: Form, name: str, value, token: str) -> str:
    names = {name, *([form.twins[name]] if name in form.twins else [])}
    pairs = [f"{quote(k)}={quote(v)}" for k, v in form.good.items() if k not in names]
    if form.method == "POST":
        pairs.append(f"csrf_token={quote(token)}")
    encoded = quote_from_bytes(value.raw) if isinstance(value, NotUtf8) else quote(value)
    pairs.extend(f"{quote(each)}={encoded}" for each in sorted(names))
    return "&".join(pairs)


class _Injected(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if MARK in tag or any(MARK in (n or "") for n, _ in attrs):
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on") or (value or "").lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}")
        if tag == "script" and not dict(attrs).get("src"):
            self.found.append("inline script")


def _injected(html: str) -> list[str]:
    parser = _Injected()
    parser.feed(html)
    return parser.found


MESSAGE = re.compile(r'role="(alert|status)"|class="(field-error|form-error)"')


@pytest.mark.parametrize(("form_name", "field_name"), _cases())
def test_bad_values_are_refused_and_nothing_is_stored(world, form_name, field_name):
    app, clients, tokens, forms = world
    form = next(f for f in forms if f.name == form_name)
    client, token = clients[form.who], tokens[form.who]
    before = snapshot(app, ignore=("login_attempt", "staff_session"))
    kind = form.fields[field_name]

    @SETTINGS
    @given(value=bad_values(kind))
    def attempt(value):
        form.counts[field_name] += 1
        body = _body(form, field_name, value, token)
        if form.method == "GET":
            response = client.get(f"{form.url}?{body}")
        else:
            response = client.post(
                form.url, data=body, content_type="application/x-www-form-urlencoded"
            )
        text = response.get_data(as_text=True)
        assert response.status_code < 500, (value, text[:300])
        assert response.status_code in form.statuses, (value, response.status_code)
        assert MESSAGE.search(text), ("no message", value)
        assert not _injected(text), (value, _injected(text))
        assert snapshot(app, ignore=("login_attempt", "staff_session")) == before, value

    attempt()
    assert form.counts[field_name] >= EXAMPLES


def test_after_the_run_print_the_figures(world, capsys):
    """Runs last in the file: what the parametrized tests above went through."""
    _, _, _, forms = world
    per_field = [count for form in forms for count in form.counts.values()]
    with capsys.disabled():
        print(
            f"\nhostile input: {len(forms)} forms, {len(per_field)} fields, "
            f"{sum(per_field)} bad values (at least {min(per_field, default=0)} per field), "
            "0 stored, 0 errors"
        )


@pytest.mark.parametrize(
    ("form_name", "expected"),
    [
        ("donation correction", 303),
        ("export", 200),
        ("export, the passphrase typed twice", 200),
        ("report day", 200),
    ],
)
def test_the_good_values_of_the_newer_forms_pass(venue, form_name, expected):
    """The refusals above are the bad value's doing: the same form with its good values passes."""
    form = next(f for f in _forms(venue, {}) if f.name == form_name)
    client = staff_client(venue.app, form.who)
    token = csrf_of(client, "/staff/")
    pairs = [f"{quote(k)}={quote(v)}" for k, v in form.good.items()]
    if form.method == "GET":
        response = client.get(f"{form.url}?{'&'.join(pairs)}")
    else:
        body = "&".join([*pairs, f"csrf_token={quote(token)}"])
        response = client.post(
            form.url, data=body, content_type="application/x-www-form-urlencoded"
        )
    assert response.status_code == expected, response.get_data(as_text=True)[:300]
