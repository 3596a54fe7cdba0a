"""Staff accounts, desks and logins for the route tests."""

from __future__ import annotations

from kiosk.db import db
from kiosk.domain.queue import add_desk
from kiosk.domain.staff import add_staff
from tests.support.factories import FROZEN_NOW, hidden_value

PASSWORD = "correct horse"
DESKS = {"Médecin 1": "interview", "Médecin 2": "interview", "Fauteuil 1": "collection"}
ROLES = ("reception", "doctor", "phlebotomist", "coordinator")


def create_staff_and_desks(app) -> None:
    with app.app_context():
        for role in ROLES:
            add_staff(db.session, role, PASSWORD, role, FROZEN_NOW)
        add_staff(db.session, "doctor2", PASSWORD, "doctor", FROZEN_NOW)
        for name, stage in DESKS.items():
            add_desk(db.session, name, stage)


def csrf_of(client, url: str = "/login") -> str:
    return hidden_value(client.get(url).get_data(as_text=True), "csrf_token")


def log_in(client, username: str, password: str = PASSWORD, **extra):
    data = {"username": username, "password": password, "csrf_token": csrf_of(client)}
    return client.post("/login", data={**data, **extra}, **({}))


def post(client, url: str, data: dict | None = None, headers: dict | None = None):
    token = csrf_of(client, "/staff/")
    return client.post(url, data={"csrf_token": token, **(data or {})}, headers=headers or {})


def pick_desk(client, name: str):
    return post(client, "/staff/desk", {"desk": name})
