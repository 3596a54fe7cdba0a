"""The benchmark's staff accounts and desks, added to a venue's instance folder before the doors
open, as `kiosk staff add` and `kiosk desk add` would add them (one process instead of twenty).

    KIOSK_INSTANCE=FOLDER python -m bench.staffing DOCTORS PHLEBOTOMISTS
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

PASSWORD = "bench password 1"


def doctor(n: int) -> tuple[str, str]:
    """(username, desk) of the n-th doctor, from 1."""
    return f"doctor{n}", f"Médecin {n}"


def phlebotomist(n: int) -> tuple[str, str]:
    return f"phlebo{n}", f"Fauteuil {n}"


def main(argv: list[str]) -> None:
    from kiosk import create_app
    from kiosk.db import db
    from kiosk.domain.queue import add_desk
    from kiosk.domain.staff import add_staff

    doctors, phlebotomists = (int(n) for n in argv)
    now = datetime.now(UTC)
    app = create_app()
    with app.app_context():
        for role, stage, people in (
            ("doctor", "interview", [doctor(n) for n in range(1, doctors + 1)]),
            ("phlebotomist", "collection", [phlebotomist(n) for n in range(1, phlebotomists + 1)]),
        ):
            for username, desk in people:
                add_staff(db.session, username, PASSWORD, role, now)
                add_desk(db.session, desk, stage)
        db.engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
