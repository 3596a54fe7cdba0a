"""Nabd: the kiosk, queue and log of a mobile blood-donation campaign."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask

from kiosk.config import CHECKOUT, ConfigError, instance_folder, load_settings
from kiosk.db import configure_engine, db
from kiosk.migrate import init_migrate, prepare_schema
from kiosk.timezones import venue_zone


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The app factory. `config` overrides every other source; `INSTANCE` in it picks the folder."""
    overrides = dict(config or {})
    instance = Path(overrides.pop("INSTANCE", None) or instance_folder()).resolve()
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)

    app = Flask(
        __name__,
        instance_path=str(instance),
        template_folder=str(CHECKOUT / "templates"),
        static_folder=str(CHECKOUT / "static"),
    )
    app.config.update(load_settings(instance, os.environ, overrides))
    app.config.setdefault("CLOCK", lambda: datetime.now(UTC))
    try:
        venue_zone(app.config["TIMEZONE"])
    except ValueError as error:
        raise ConfigError(str(error)) from None

    db.init_app(app)
    init_migrate(app)
    with app.app_context():
        configure_engine(db.engine)
        import kiosk.models  # noqa: F401  (the tables must be known before create_all)

        prepare_schema(db.engine, db.metadata)
        from kiosk.audit import install_triggers

        install_triggers(db.engine)

    from kiosk.web import init_web

    init_web(app)
    return app
