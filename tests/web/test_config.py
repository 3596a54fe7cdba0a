"""Settings: defaults < instance/config.toml < environment < create_app's mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import ConfigError, load_settings


def test_defaults_put_the_database_and_secret_in_the_instance_folder(tmp_path):
    settings = load_settings(tmp_path, {}, None)
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"
    assert len(settings["SECRET_KEY"]) == 64
    assert load_settings(tmp_path, {}, None)["SECRET_KEY"] == settings["SECRET_KEY"]
    assert settings["PORT"] == 5000 and settings["HOST"] == "0.0.0.0"


def test_environment_beats_the_config_file(tmp_path: Path):
    (tmp_path / "config.toml").write_text('port = 6000\nbase_url = "http://file"\n')
    environ = {"PORT": "7000", "KIOSK_IDLE_SECONDS": "15", "KIOSK_BASE_URL": "http://10.0.0.2/"}
    settings = load_settings(tmp_path, environ, None)
    assert settings["PORT"] == 7000
    assert settings["IDLE_SECONDS"] == 15
    assert settings["BASE_URL"] == "http://10.0.0.2"
    assert load_settings(tmp_path, {}, None)["PORT"] == 6000


def test_database_url_and_secret_key_from_the_environment(tmp_path):
    environ = {"DATABASE_URL": "postgres://u@h/db", "KIOSK_SECRET_KEY": "s3cret"}
    settings = load_settings(tmp_path, environ, None)
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert settings["SECRET_KEY"] == "s3cret"
    assert not (tmp_path / "secret_key").exists()


def test_create_app_overrides_win(tmp_path):
    assert load_settings(tmp_path, {"PORT": "7000"}, {"PORT": 8000})["PORT"] == 8000


def test_bad_values_are_named(tmp_path):
    with pytest.raises(ConfigError, match="KIOSK_IDLE_SECONDS"):
        load_settings(tmp_path, {"KIOSK_IDLE_SECONDS": "soon"}, None)
    (tmp_path / "config.toml").write_text("= nothing")
    with pytest.raises(ConfigError, match="config.toml"):
        load_settings(tmp_path, {}, None)


def test_an_unknown_time_zone_stops_the_app_at_start(make_app):
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        make_app(TIMEZONE="Mars/Olympus")
