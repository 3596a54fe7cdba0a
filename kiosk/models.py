"""Tables. Times are stored in UTC; dates (birth, campaign day) are local calendar dates."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kiosk.db import UTCDateTime, db


class Campaign(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    site: Mapped[str] = mapped_column(String(200))
    regional_centre: Mapped[str] = mapped_column(String(200), default="")
    organisers: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default="open")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


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


class Desk(db.Model):
    """A place where a stage is carried out: "Médecin 1" (interview), "Fauteuil 3" (collection)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    stage: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)


class Visit(db.Model):
    __table_args__ = (
        UniqueConstraint("campaign_id", "queue_day", "queue_number"),
        UniqueConstraint("campaign_id", "donor_id"),
        Index("ix_visit_queue", "campaign_id", "queue_day", "stage", "queue_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    donor_id: Mapped[int] = mapped_column(ForeignKey("donor.id"))
    queue_day: Mapped[date]
    queue_number: Mapped[int]
    stage: Mapped[str] = mapped_column(String(20))
    stage_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(5))
    # Where the visit is being seen, since when, and how often it was called again there.
    desk_id: Mapped[int | None] = mapped_column(ForeignKey("desk.id"))
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recalls: Mapped[int] = mapped_column(default=0, server_default=text("0"))

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
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    username: Mapped[str] = mapped_column(String(40), index=True)
    address: Mapped[str] = mapped_column(String(60), index=True)
    succeeded: Mapped[bool]
