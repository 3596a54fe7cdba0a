"""The live replica on the coordinator's page: where the replica stands, refreshed every few
seconds, with the alert when it stops (the rules and the reading are in kiosk/replica.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import Blueprint, Flask, current_app, render_template

from kiosk import replica
from kiosk.backups import sqlite_path
from kiosk.web.auth import staff_required

bp = Blueprint("replica", __name__)
POLL_SECONDS = 5


def init_replica(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(replica_state=replica_state)


def replica_state() -> dict:
    """What the panel shows: `mode` is off, postgresql, misconfigured or on; with `health`."""
    config = current_app.config
    database = sqlite_path(config["SQLALCHEMY_DATABASE_URI"])
    if not str(config.get("REPLICA") or "").strip():
        return {"mode": "postgresql" if database is None else "off", "poll": POLL_SECONDS}
    supervisor = current_app.extensions.get(replica.EXTENSION)
    now = datetime.now(UTC)
    if supervisor is not None:
        health = supervisor.health()
    else:  # served some other way than `kiosk run` (or not yet started): read the files
        try:
            settings = replica.settings_from(config, database)
        except replica.ReplicaError as error:
            return {"mode": "misconfigured", "detail": str(error), "poll": POLL_SECONDS}
        if settings is None:
            return {"mode": "off", "poll": POLL_SECONDS}
        child = replica.read_child_state(Path(current_app.instance_path))
        health = replica.health(settings, child, now)
    lag = health.lag_seconds
    return {
        "mode": "on",
        "health": health,
        "txid": replica.describe_txid(health.replica_txid),
        "local_txid": replica.describe_txid(health.local_txid),
        "lag": None if lag is None else round(lag),
        "ago": None
        if health.replicated_at is None
        else max(round((now - health.replicated_at).total_seconds()), 0),
        "poll": POLL_SECONDS,
    }


@bp.get("/staff/replica")
@staff_required("admin")
def admin_panel():
    """The coordinator's replica panel alone, for its refresh."""
    return render_template("replica/_admin_panel.html")
