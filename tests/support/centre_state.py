"""The centre's tables as a refusal must leave them: each table's row count and a SHA-256 of its
rows, read by a connection of its own (what is committed, not what a session holds).

    before = centre_state(url)
    ... a refused import ...
    assert centre_state(url) == before
"""

from __future__ import annotations

import hashlib

import sqlalchemy
from sqlalchemy import text

CENTRE_TABLES = (
    "campaign",
    "donor",
    "desk",
    "visit",
    "screening",
    "donation",
    "event",
    "imported_bundle",
    "trusted_venue",
)


def centre_state(url: str, tables: tuple[str, ...] = CENTRE_TABLES) -> dict[str, tuple[int, str]]:
    """Each table's row count and the SHA-256 of its rows in id order."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            result = {}
            for table in tables:
                rows = connection.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()  # noqa: S608 (our table names)
                digest = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
                result[table] = (len(rows), digest)
            return result
    finally:
        engine.dispose()
