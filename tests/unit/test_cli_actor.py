"""One rule for who typed a command, in every audit event the command line writes."""

import getpass

import pytest

from kiosk.cli.common import typing_actor
from kiosk.domain.queue import Actor


@pytest.mark.parametrize(
    ("environment", "login", "expected"),
    [
        ({"KIOSK_ACTOR": "dr.amrani", "USER": "pi"}, "pi", "dr.amrani"),
        ({"KIOSK_ACTOR": "  ", "USER": "nadia"}, "nadia", "nadia"),
        ({"USER": "nadia"}, "root", "nadia"),
        ({}, "amina", "amina"),
        ({}, "", "coordinator"),
        ({}, None, "coordinator"),
    ],
)
def test_who_typed(monkeypatch, environment, login, expected):
    for name in ("KIOSK_ACTOR", "USER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    def getuser():
        if login is None:
            raise OSError("no login name")
        return login

    monkeypatch.setattr(getpass, "getuser", getuser)
    assert typing_actor() == Actor(expected, "server")
