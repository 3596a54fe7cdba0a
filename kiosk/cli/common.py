"""What the commands share: who is typing (one rule for the audit log), the venue's day, a
passphrase from the environment, a file written whole or not at all, an error in one line."""

from __future__ import annotations

import contextlib
import getpass
import os
import tempfile
from datetime import date
from pathlib import Path

import click
from flask import Flask

from kiosk.domain.queue import Actor
from kiosk.timezones import local_day

ACTOR_VARIABLE = "KIOSK_ACTOR"
DEFAULT_ACTOR = "coordinator"  # when neither KIOSK_ACTOR nor the login says who types
SERVER_DEVICE = "server"


def typing_actor() -> Actor:
    """Who typed the command, for the audit log: KIOSK_ACTOR, else the login name (USER,
    LOGNAME, the account), else "coordinator"; the device is always "server"."""
    name = os.environ.get(ACTOR_VARIABLE, "").strip() or os.environ.get("USER", "").strip()
    if not name:
        with contextlib.suppress(Exception):
            name = getpass.getuser().strip()
    return Actor(name or DEFAULT_ACTOR, SERVER_DEVICE)


def venue_day(app: Flask) -> date:
    return local_day(app.config["CLOCK"](), app.config["TIMEZONE"])


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


# Reviewed (bandit B105): help text naming the setting, not a password.
PASSPHRASE_ENV_HELP = "The environment variable that holds the passphrase (never the passphrase)."  # nosec B105


def passphrase_from(variable: str | None) -> str | None:
    """The passphrase held by the environment variable named `variable`, if one is named."""
    if variable is None:
        return None
    passphrase = os.environ.get(variable, "")
    if not passphrase:
        raise click.BadParameter(
            f"the environment variable {variable} is not set or empty; set it to the passphrase",
            param_hint="'--passphrase-env'",
        )
    return passphrase


def write_atomically(path: Path, data: bytes) -> None:
    """A temporary file beside the target (readable by its owner only), synced, then renamed:
    the target is either the old file or the whole new one, never half of it."""
    folder = path.parent
    if not folder.is_dir():
        raise click.ClickException(f"no folder {folder}")
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        raise click.ClickException(f"cannot write in {folder}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as error:
        _remove(temporary)
        raise click.ClickException(f"cannot write {path}: {error.strerror}") from None
    except BaseException:
        _remove(temporary)
        raise


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
