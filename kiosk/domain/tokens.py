"""Ticket tokens: random, URL-safe, 192 bits. The database keeps only their SHA-256."""

from __future__ import annotations

import hashlib
import re
import secrets

TOKEN_BYTES = 24
TOKEN_LENGTH = 32  # characters of token_urlsafe(24)
_WELL_FORMED = re.compile(rf"[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def is_well_formed(token: str) -> bool:
    return bool(_WELL_FORMED.fullmatch(token))
