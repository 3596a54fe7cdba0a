"""Settings: defaults < instance/config.toml < environment < the mapping given to create_app."""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CHECKOUT = Path(__file__).resolve().parent.parent

# Reviewed (bandit B104): staff phones reach the tablet over the venue Wi-Fi, so it listens on
# every interface of a network with no internet; staff pages need a login.
EVERY_INTERFACE = "0.0.0.0"  # nosec B104
# Reviewed (bandit B105): the name of a setting, not a secret.
SECRET_KEY_SETTING = "SECRET_KEY"  # nosec B105

DEFAULTS: dict[str, Any] = {
    "HOST": EVERY_INTERFACE,
    "PORT": 5000,
    "BASE_URL": "",
    "SQLALCHEMY_DATABASE_URI": "",
    "TIMEZONE": "Africa/Casablanca",
    # Tamazight (zgh, Tifinagh) is for the donor's pages only: staff pages are in Arabic or French
    # (kiosk/web/i18n.py, STAFF_LANGUAGES).
    "LANGUAGES": ("ar", "fr", "zgh"),
    "DEFAULT_LOCALE": "fr",
    # Seconds without a touch before the kiosk goes back to its start page (ticket / wizard).
    "IDLE_SECONDS": 60,
    "WIZARD_IDLE_SECONDS": 120,
    "TICKET_PAPER": "80mm",
    "SERVER_THREADS": 8,
    # Staff sessions end after this long without a request (8 hours).
    "STAFF_IDLE_SECONDS": 8 * 3600,
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    # Recalls before a donor who does not come may be marked absent.
    "NO_SHOW_AFTER_RECALLS": 2,
    # Seconds between two refreshes of the staff queue and of the wall display.
    "QUEUE_POLL_SECONDS": 2,
    "DISPLAY_POLL_SECONDS": 1,
    # Campaign names are data, shown as typed: the default speaks both languages of the kiosk.
    "DEFAULT_CAMPAIGN_NAME": "Collecte de sang · حملة التبرع بالدم",
    "DEFAULT_CAMPAIGN_SITE": "Khénifra",
    "DEFAULT_REGIONAL_CENTRE": "CRTS Meknès",
    # The same two in Arabic, for the Arabic pages (the ones above are the French names).
    "DEFAULT_CAMPAIGN_SITE_AR": "خنيفرة",
    "DEFAULT_REGIONAL_CENTRE_AR": "المركز الجهوي لتحاقن الدم بمكناس",
    # And in Tamazight (Tifinagh), for the donor's pages in zgh.
    "DEFAULT_CAMPAIGN_SITE_ZGH": "ⵅⵏⵉⴼⵔⴰ",
    "DEFAULT_REGIONAL_CENTRE_ZGH": "ⴰⵎⵎⴰⵙ ⴰⵏⴰⵎⵏⴰⴹ ⵏ ⵓⵙⵏⴽⵛⵎ ⵏ ⵉⴷⴰⵎⵎⵏ ⵏ ⵎⴽⵏⴰⵙ",
    "WTF_CSRF_TIME_LIMIT": None,
    # Bodies over 1 MB get the kind 413 page before they are read: the largest real form (a
    # registration with every answer) is under 10 kB; the donor list is imported on the command
    # line, never uploaded.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "MAX_FORM_MEMORY_SIZE": 1024 * 1024,
    # Ticket addresses with no ticket behind them, per device and minute, before 429 (0: no limit).
    "TICKET_MISSES_PER_MINUTE": 30,
    # Registrations a minute from one kiosk device and from one address before 429 (0: no
    # limit). A real donor takes at least 30 s, so a tablet registers at most 2 a minute.
    "REGISTRATIONS_PER_DEVICE_PER_MINUTE": 4,
    "REGISTRATIONS_PER_ADDRESS_PER_MINUTE": 8,
    # CIN + birth-date misses per device and per address in a minute, on every public path.
    "CIN_MISSES_PER_MINUTE": 10,
    # Days after a campaign closes during which its tickets still show the status page.
    "STATUS_PAGE_DAYS_AFTER_CLOSE": 30,
    # Donors registering on their own phones (kiosk/web/phone.py): the venue Wi-Fi's name on the
    # poster, and whether their thermal ticket prints at once (else at reception, on showing the
    # phone's ticket).
    "VENUE_WIFI_NAME": "",
    "PHONE_TICKETS_PRINT_AT_ONCE": False,
    # Minutes the kiosk's ticket screen (with the donor's first name) shows after registering.
    "TICKET_SCREEN_MINUTES": 15,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_HTTPONLY": True,
    "BABEL_DEFAULT_LOCALE": "fr",
    "BABEL_DEFAULT_TIMEZONE": "Africa/Casablanca",
    "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).resolve().parent / "translations"),
    # The thermal printer (none: browser printing only), its paper (58mm, 80mm, 80mm-512), a
    # python-escpos printer model to narrow it, and the font its text is drawn with.
    "PRINTER": "none",
    "PRINTER_PROFILE": "80mm",
    "PRINTER_MODEL": "",
    "PRINTER_FONT": "",
    # While `kiosk run` serves, a copy of the SQLite database every BACKUP_MINUTES (0: never)
    # into instance/backups/, keeping the last BACKUP_KEEP.
    "BACKUP_MINUTES": 10.0,
    "BACKUP_KEEP": 12,
    # Days a campaign's visits are kept after the centre confirmed it received the export.
    "RETENTION_DAYS": 30,
    # The live replica (kiosk/replica.py): a folder or sftp://user@host:port/path where
    # Litestream copies the SQLite database continuously while `kiosk run` serves ("": none).
    "REPLICA": "",
    # The private SSH key (and, optionally, the server's host key line) of an SFTP replica.
    "REPLICA_KEY_FILE": "",
    "REPLICA_HOST_KEY": "",
    # Whether the secret key and the venue's signing key go to the replica too (folder targets).
    "REPLICA_INCLUDE_KEYS": False,
    # Seconds a change may wait for the replica before the coordinator's page raises the alert.
    "REPLICA_ALERT_SECONDS": 10.0,
    # The litestream program ("": the one installed with Nabd, else on PATH).
    "LITESTREAM": "",
}

# Environment variables with names of their own; every other setting is KIOSK_<NAME>.
NAMED_ENVIRONMENT = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "HOST": "HOST",
    "PORT": "PORT",
    "KIOSK_BASE_URL": "BASE_URL",
    "KIOSK_SECRET_KEY": SECRET_KEY_SETTING,
}


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the setting."""


def instance_folder(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get("KIOSK_INSTANCE") or CHECKOUT / "instance").resolve()


def load_settings(
    instance: Path, environ: Mapping[str, str], overrides: Mapping[str, Any] | None
) -> dict[str, Any]:
    settings = dict(DEFAULTS)
    settings.update(_from_toml(instance / "config.toml"))
    settings.update(_from_environment(environ))
    settings.update(overrides or {})
    if not settings.get("SECRET_KEY"):
        settings["SECRET_KEY"] = _instance_secret_key(instance)
    if not settings["SQLALCHEMY_DATABASE_URI"]:
        settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'kiosk.sqlite3'}"
    settings["SQLALCHEMY_DATABASE_URI"] = _normalise_database_url(
        settings["SQLALCHEMY_DATABASE_URI"]
    )
    settings["BASE_URL"] = (settings.get("BASE_URL") or "").rstrip("/")
    return settings


def _from_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from error
    return {key.upper(): value for key, value in data.items()}


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in environ.items():
        if name in NAMED_ENVIRONMENT:
            key = NAMED_ENVIRONMENT[name]
        elif name.startswith("KIOSK_") and name != "KIOSK_INSTANCE":
            key = name.removeprefix("KIOSK_")
        else:
            continue
        found[key] = _typed_like_default(key, value, name)
    return found


def _typed_like_default(key: str, value: str, name: str) -> Any:
    default = DEFAULTS.get(key)
    if isinstance(default, bool):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
    if isinstance(default, float):
        try:
            return float(value)
        except ValueError:
            raise ConfigError(f"{name} must be a number, not {value!r}") from None
    return value


def _instance_secret_key(instance: Path) -> str:
    """Generated once per venue and kept in the instance folder, never in git."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process of the same venue wrote it first
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    return key


def _normalise_database_url(url: str) -> str:
    """`postgres://` and `postgresql://` (as hosting services and libpq write them) mean the
    psycopg 3 driver Nabd installs, not SQLAlchemy's default psycopg2."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url
