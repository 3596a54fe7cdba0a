"""`kiosk staff` and `kiosk desk`: the accounts and the desks donors are called to."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import AppGroup

from kiosk.cli.common import typing_actor
from kiosk.db import db
from kiosk.domain.names import in_language
from kiosk.domain.queue import DESK_STAGES, add_desk, desks
from kiosk.domain.staff import ROLES, add_staff, disable_staff, list_staff


@click.group("staff", cls=AppGroup)
def staff_group() -> None:
    """Staff accounts: reception, doctor, phlebotomist, coordinator."""


@staff_group.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the account may do.")
def staff_add(username: str, role: str) -> None:
    """Add an account. The password comes from KIOSK_PASSWORD, or is asked twice."""
    password = os.environ.get("KIOSK_PASSWORD")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = add_staff(
        db.session,
        username,
        password,
        role,
        current_app.config["CLOCK"](),
        by=_typist(),
    )
    click.echo(f"Added {user.username} ({user.role})")


@staff_group.command("list")
def staff_list() -> None:
    """List the accounts."""
    accounts = list_staff(db.session)
    if not accounts:
        click.echo("No account yet: kiosk staff add NAME --role coordinator")
    for user in accounts:
        click.echo(f"{user.username:<20} {user.role:<13} {'active' if user.active else 'disabled'}")


@staff_group.command("disable")
@click.argument("username")
def staff_disable(username: str) -> None:
    """Disable an account and end its sessions at once."""
    user = disable_staff(db.session, username, current_app.config["CLOCK"](), by=_typist())
    click.echo(f"Disabled {user.username}; their devices are logged out")


@click.group("desk", cls=AppGroup)
def desk_group() -> None:
    """Desks where donors are called: "Médecin 1" (interview), "Fauteuil 3" (collection)."""


@desk_group.command("add")
@click.argument("name")
@click.option("--stage", required=True, type=click.Choice(DESK_STAGES))
@click.option("--name-ar", default="", help="The desk in Arabic (Arabic pages and voice).")
@click.option("--name-fr", default="", help="The desk in French, if not NAME.")
@click.option("--name-zgh", default="", help="The desk in Tamazight, Tifinagh (donor pages).")
def desk_add(name: str, stage: str, name_ar: str, name_fr: str, name_zgh: str) -> None:
    """Add a desk."""
    desk = add_desk(db.session, name, stage, {"ar": name_ar, "fr": name_fr, "zgh": name_zgh})
    click.echo(f"Added desk {desk.name} ({desk.stage})")


@desk_group.command("list")
def desk_list() -> None:
    """List the desks."""
    for desk in desks(db.session):
        arabic = in_language(desk.names, "ar", "")
        click.echo(f"{desk.name:<20} {desk.stage:<12} {arabic}".rstrip())


def _typist() -> tuple[str, str]:
    """Who typed the command, as the staff functions take it: (name, device)."""
    actor = typing_actor()
    return actor.name, actor.device
