"""The floor: the least a Flask app on waitress must spend to take a registration.

It parses the same form the kiosk posts and stores it with one numbered INSERT and a COMMIT, with
the SQLite settings Nabd uses (WAL, synchronous=FULL, busy_timeout, BEGIN IMMEDIATE), then answers
303 as Nabd does. No CSRF, no validation, no idempotency, no ticket token, no audit event: what is
left is Flask, waitress, the form and the commit. The benchmark drives it with the same clients.

    python -m bench.floor --database FILE --host 127.0.0.1 --port 8081
"""

from __future__ import annotations

import argparse
import sqlite3
import threading

import waitress
from flask import Flask, redirect, request

from kiosk.config import DEFAULTS
from kiosk.db import BUSY_TIMEOUT_MS

FIELDS = ("first_name", "last_name", "sex", "birth_date", "cin", "phone", "category", "consent")
SCHEMA = """
CREATE TABLE IF NOT EXISTS registration (
    number INTEGER PRIMARY KEY,
    first_name TEXT, last_name TEXT, sex TEXT, birth_date TEXT, cin TEXT, phone TEXT,
    category TEXT, consent TEXT, answers TEXT
)
"""
# The next number is taken inside the write transaction, as Nabd takes its queue numbers.
NUMBERED_INSERT = (
    "INSERT INTO registration VALUES ("
    "(SELECT coalesce(max(number), 0) + 1 FROM registration), ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def create_floor_app(database: str) -> Flask:
    app = Flask(__name__)
    local = threading.local()

    def connection() -> sqlite3.Connection:
        if not hasattr(local, "connection"):
            local.connection = connect(database)
        return local.connection

    @app.get("/healthz")
    def health():
        return "ok"

    @app.post("/register")
    def register():
        values = [request.form.get(name, "") for name in FIELDS]
        answers = "&".join(f"{k}={v}" for k, v in request.form.items() if k.startswith("q_"))
        db = connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            number = db.execute(NUMBERED_INSERT, (*values, answers)).lastrowid
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return redirect(f"/ticket/{number}", code=303)

    with connect(database) as db:
        db.execute(SCHEMA)
    return app


def connect(database: str) -> sqlite3.Connection:
    """Nabd's settings (kiosk/db.py): autocommit driver, WAL, synchronous=FULL, busy timeout."""
    db = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return db


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("--database", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    options = parser.parse_args(argv)
    app = create_floor_app(options.database)
    # As many threads as Nabd's server (kiosk/config.py).
    threads = DEFAULTS["SERVER_THREADS"]
    waitress.serve(app, host=options.host, port=options.port, threads=threads, ident="floor")


if __name__ == "__main__":
    main()
