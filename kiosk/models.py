"""Tables. Times are stored in UTC; dates (birth, campaign day) are local calendar dates."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from kiosk.db import UTCDateTime, db


class Campaign(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    site: Mapped[str] = mapped_column(String(200))
    regional_centre: Mapped[str] = mapped_column(String(200), default="")
    # The site and the regional centre named in each language (JSON: {"ar": "…", "fr": "…"};
    # kiosk/domain/names.py); NULL: the one name above in every language.
    site_names: Mapped[str | None] = mapped_column(Text)
    centre_names: Mapped[str | None] = mapped_column(Text)
    organisers: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default="open")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The eligibility table (kiosk/rules/<name>.toml), the coordinator's adjusted thresholds
    # (JSON: {"hemoglobin_min_f": 12.0, ...}) and how bag numbers are checked
    # ("any", "isbt128" or "regex:PATTERN").
    rules: Mapped[str] = mapped_column(String(20), default="morocco", server_default="morocco")
    thresholds: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    bag_numbers: Mapped[str] = mapped_column(String(200), default="any", server_default="any")
    # The coordinator's word that the regional centre received the export (kiosk campaign
    # confirm-received), and when the visits' personal data was purged (kiosk purge).
    export_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Donor(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    cin: Mapped[str | None] = mapped_column(String(12), unique=True)
    first_name: Mapped[str] = mapped_column(String(60))
    last_name: Mapped[str] = mapped_column(String(60))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date]
    phone: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # What the regional centre knows (kiosk import donors) and what was learnt here.
    blood_group: Mapped[str | None] = mapped_column(String(3))
    last_donation_on: Mapped[date | None]
    deferred_until: Mapped[date | None]
    deferred_permanently: Mapped[bool] = mapped_column(default=False, server_default=false())
    deferral_reason: Mapped[str | None] = mapped_column(String(40))
    # Whether the donor's latest visit agreed to be phoned when they may give again (asked
    # apart from the consent to register, default no): `kiosk central recall` reads it.
    contact_consent: Mapped[bool] = mapped_column(default=False, server_default=false())


class Desk(db.Model):
    """A place where a stage is carried out: "Médecin 1" (interview), "Fauteuil 3" (collection)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    stage: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    # The desk named in each language (JSON: {"ar": "الطبيب 1"}; kiosk/domain/names.py); NULL:
    # `name` in every language.
    names: Mapped[str | None] = mapped_column(Text)


class Visit(db.Model):
    __table_args__ = (
        UniqueConstraint("campaign_id", "queue_day", "queue_number"),
        UniqueConstraint("campaign_id", "donor_id"),
        Index("ix_visit_queue", "campaign_id", "queue_day", "stage", "queue_number"),
        # What the polled pages ask (issue 18): a stage's line in its order, how many wait,
        # how many are ahead of a ticket; and the next place given in a line (its maximum).
        Index("ix_visit_line", "campaign_id", "stage", "line_seq"),
        Index("ix_visit_line_seq", "line_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    donor_id: Mapped[int] = mapped_column(ForeignKey("donor.id"))
    queue_day: Mapped[date]
    queue_number: Mapped[int]
    stage: Mapped[str] = mapped_column(String(20))
    stage_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The visit's place in its stage's line, from a counter that only grows (issue 14: the line
    # follows this, never the wall clock). Empty for visits older than the column.
    line_seq: Mapped[int | None] = mapped_column()
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(5))
    # Where the visit is being seen, since when, and how often it was called again there.
    desk_id: Mapped[int | None] = mapped_column(ForeignKey("desk.id"))
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recalls: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # The questionnaire as answered at the kiosk (JSON: {"vaccine": {"answer": "yes",
    # "date": "2026-11-01"}, ...}).
    answers: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    # A CIN typed at the kiosk that belongs to another donor record (another birth date): kept
    # for the doctor to check the card, never shown to the donor.
    cin_conflict: Mapped[str | None] = mapped_column(String(12))
    # The donor agreed, at this visit, to be phoned when they may give again.
    contact_consent: Mapped[bool] = mapped_column(default=False, server_default=false())

    campaign: Mapped[Campaign] = relationship()
    donor: Mapped[Donor] = relationship()
    desk: Mapped[Desk | None] = relationship()


class Ticket(db.Model):
    """A printed or shown ticket. Only the hash of its token is kept: the QR holds the token."""

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)

    visit: Mapped[Visit] = relationship()


class Event(db.Model):
    """One append-only line of the audit log. `detail` never holds health values."""

    # The queue pages' version (the campaign's latest event) and the display's latest calls.
    __table_args__ = (Index("ix_event_campaign", "campaign_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)
    actor: Mapped[str] = mapped_column(String(60))
    device: Mapped[str] = mapped_column(String(60), default="")
    action: Mapped[str] = mapped_column(String(40))
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str | None] = mapped_column(String(20))
    desk_id: Mapped[int | None] = mapped_column(ForeignKey("desk.id"))
    # What an action touched, by name or count (the fields a correction changed, an export's
    # counts, what a purge removed, which account an account change was about): never a
    # donor's name or a health value.
    detail: Mapped[str | None] = mapped_column(Text)

    visit: Mapped[Visit | None] = relationship()
    desk: Mapped[Desk | None] = relationship()


class StaffUser(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StaffSession(db.Model):
    """A login on one device. The cookie holds the token; only its hash is kept here, so logging
    out or expiring ends the session on the server whatever the browser keeps."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    desk_id: Mapped[int | None] = mapped_column(ForeignKey("desk.id"))
    address: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[StaffUser] = relationship()
    desk: Mapped[Desk | None] = relationship()


class LoginAttempt(db.Model):
    """A try at something guessable: a staff login, or a CIN looked up at the kiosk (`username`
    then holds "cin-lookup")."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    username: Mapped[str] = mapped_column(String(40), index=True)
    address: Mapped[str] = mapped_column(String(60), index=True)
    succeeded: Mapped[bool]
    # The browser's own mark (a hash of its device cookie; kiosk/web/device_cookie.py), so that
    # wrong passwords typed on one phone slow that phone, never the account holder's own.
    device: Mapped[str | None] = mapped_column(String(64))
    # When the coordinator lifted the lockout this failure was part of: no longer counted.
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Screening(db.Model):
    """The doctor's interview: measurements and the decision. The rules' findings at the time
    of the decision are kept with it (JSON), so the record shows what the doctor saw."""

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), unique=True)
    weight_kg: Mapped[float]
    systolic: Mapped[int]
    diastolic: Mapped[int]
    pulse: Mapped[int]
    hemoglobin_g_dl: Mapped[float]
    temperature_c: Mapped[float | None]
    decision: Mapped[str] = mapped_column(String(20))
    deferral_reason: Mapped[str | None] = mapped_column(String(40))
    deferral_until: Mapped[date | None]
    tell_reason: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    findings: Mapped[str] = mapped_column(Text, default="[]")
    doctor: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    visit: Mapped[Visit] = relationship(backref=backref("screening", uselist=False))


class Donation(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), unique=True)
    bag_number: Mapped[str] = mapped_column(String(40), unique=True)
    bag_type: Mapped[str] = mapped_column(String(20))
    volume_ml: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(30))
    adverse_event: Mapped[str] = mapped_column(String(30), default="none")
    adverse_severity: Mapped[str | None] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    phlebotomist: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    visit: Mapped[Visit] = relationship(backref=backref("donation", uselist=False))


class PrintJob(db.Model):
    """A ticket or slip waiting for the thermal printer, or printed. Stored before it is printed,
    printed in order; the layout (with the ticket's address and the donor's first name) is kept
    only until printed, then emptied: a reprint builds a new job."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # ticket, deferral, thanks, test
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    layout: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_by: Mapped[str] = mapped_column(String(60), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    visit: Mapped[Visit | None] = relationship()


class ImportedBundle(db.Model):
    """A venue's end-of-day bundle loaded into the regional centre's database (`kiosk central
    import`). The SHA-256 of its manifest (which holds the SHA-256 of every other file) names the
    bundle: the same bundle imported again is recognised and changes nothing."""

    id: Mapped[int] = mapped_column(primary_key=True)
    manifest_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    day: Mapped[date]
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    visits: Mapped[int]
    donations: Mapped[int]
    deferrals: Mapped[int]
    events: Mapped[int]
    conflicts: Mapped[int]
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)

    campaign: Mapped[Campaign] = relationship()


class TrustedVenue(db.Model):
    """A venue whose signing key the regional centre trusts (`kiosk central trust`): only bundles
    signed by a key listed here and not revoked are imported."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    fingerprint: Mapped[str] = mapped_column(String(24))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
