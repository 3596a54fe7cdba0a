"""The regional centre's list of trusted venues: a name and an Ed25519 public key each (see
signing.py), enrolled and revoked by the centre, both written to the audit log.

Enrol: the venue's coordinator reads `kiosk venue key` (or the fingerprint on /staff/admin) to
the centre by a channel the centre trusts (in person, by phone); the centre runs `kiosk central
trust add NAME PUBLIC-KEY` and checks the fingerprint it prints against the venue's. Revoke: a
lost or stolen laptop, or a venue closed: `kiosk central trust revoke NAME`; its bundles are then
refused, those already imported stay.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.db import write_transaction
from kiosk.domain.audit_events import audit_event
from kiosk.domain.exchange.signing import Signer, fingerprint, read_public
from kiosk.domain.validation import has_hidden_characters
from kiosk.models import TrustedVenue

TRUST_ADD = "trust_add"
TRUST_REVOKE = "trust_revoke"
ACCEPT_UNSIGNED = "import_unsigned"
NAME_MAX = 80


class TrustError(ValueError):
    """A trust-list change refused; the message says why."""


def add_trusted(
    session: Session, name: str, public_key: str, now: datetime, actor: str, device: str
) -> TrustedVenue:
    name = name.strip()
    if not name or len(name) > NAME_MAX or has_hidden_characters(name):
        raise TrustError(f"a venue name has 1 to {NAME_MAX} visible characters")
    public = read_public(public_key)
    if session.scalar(select(TrustedVenue).where(TrustedVenue.name == name)) is not None:
        raise TrustError(f"a venue named {name} is on the list already")
    known = session.scalar(select(TrustedVenue).where(TrustedVenue.public_key == public))
    if known is not None:
        raise TrustError(f"that key is on the list already, as {known.name}")
    venue = TrustedVenue(
        name=name, public_key=public, fingerprint=fingerprint(public), added_at=now
    )
    with write_transaction(session):
        session.add(venue)
        detail = {"venue": name, "fingerprint": venue.fingerprint}
        session.add(audit_event(now, actor, device, TRUST_ADD, detail=json.dumps(detail)))
    return venue


def revoke_trusted(
    session: Session, name: str, now: datetime, actor: str, device: str
) -> TrustedVenue:
    venue = session.scalar(select(TrustedVenue).where(TrustedVenue.name == name.strip()))
    if venue is None:
        raise TrustError(f"no venue named {name.strip()} on the list")
    if venue.revoked_at is not None:
        raise TrustError(f"{venue.name} was revoked already")
    with write_transaction(session):
        venue.revoked_at = now
        detail = {"venue": venue.name, "fingerprint": venue.fingerprint}
        session.add(audit_event(now, actor, device, TRUST_REVOKE, detail=json.dumps(detail)))
    return venue


def trusted_venues(session: Session) -> list[TrustedVenue]:
    return list(session.scalars(select(TrustedVenue).order_by(TrustedVenue.name)))


@dataclass(frozen=True)
class TrustDecision:
    venue: str | None  # the trusted venue's name; None for an unsigned bundle let in
    refusal: str | None  # why the bundle is refused, or None


def judge(session: Session, signer: Signer | None, accept_unsigned: bool) -> TrustDecision:
    """Whether a bundle with this (verified) signer may be imported."""
    if signer is None:
        if accept_unsigned:
            return TrustDecision(None, None)
        return TrustDecision(None, "unsigned (an older bundle goes in only with --accept-unsigned)")
    venue = session.scalar(select(TrustedVenue).where(TrustedVenue.public_key == signer.public_key))
    if venue is None:
        return TrustDecision(None, f"signed by an unknown key ({signer.fingerprint})")
    if venue.revoked_at is not None:
        revoked = f"signed by {venue.name}'s key, which is revoked ({signer.fingerprint})"
        return TrustDecision(venue.name, revoked)
    return TrustDecision(venue.name, None)
