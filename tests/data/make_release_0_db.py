"""Writes tests/data/release-219c1b2.sqlite3 with the code of the release before migrations.

    git worktree add /tmp/old-219c1b2 219c1b2
    cd /tmp/old-219c1b2 && PYTHONPATH=.:tests <nabd>/.venv/bin/python \
        <nabd>/tests/data/make_release_0_db.py <nabd>/tests/data/release-219c1b2.sqlite3

Two campaign days: the first closed (every outcome: eligible and deferred screenings, complete,
partial and failed donations, a no-show, a donor who left, donors resting), the second open with
donors still waiting; two staff accounts, desks, and the audit events all of that wrote.
"""

import shutil
import sqlite3
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from central_day import Clock, venue_bundle  # the old tree's tests/central_day.py

from kiosk import create_app
from kiosk.db import db
from kiosk.domain.campaigns import close_campaign
from kiosk.domain.queue import Actor
from kiosk.domain.staff import add_staff

target = Path(sys.argv[1])
folder = Path(tempfile.mkdtemp())
venue_bundle(folder, donors=20, still_waiting=0, day=date(2026, 11, 24))
app = create_app(
    {
        "INSTANCE": folder,
        "CLOCK": Clock(datetime(2026, 11, 24, 18, 0, tzinfo=UTC)),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'venue.sqlite3'}",
    }
)
with app.app_context():
    close_campaign(db.session, Actor("coordinator", "server"), app.config["CLOCK"]())
    for name, role in (("dr.amrani", "doctor"), ("coord.idrissi", "coordinator")):
        add_staff(db.session, name, "correct horse battery", role, app.config["CLOCK"]())
    db.session.remove()
    db.engine.dispose()
venue_bundle(folder, donors=12, still_waiting=4, site="Mrirt", day=date(2026, 11, 25))
source = sqlite3.connect(folder / "venue.sqlite3")
source.execute("PRAGMA wal_checkpoint(TRUNCATE)")
target.unlink(missing_ok=True)
out = sqlite3.connect(target)
source.backup(out)
out.execute("PRAGMA journal_mode=DELETE")
out.execute("VACUUM")
out.close()
source.close()
shutil.rmtree(folder)
