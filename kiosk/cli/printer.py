"""`kiosk printer`: the thermal ticket printer's test page, printed or saved as a PNG."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from kiosk.cli.common import one_line
from kiosk.network import base_url_for
from kiosk.printing.connection import status_line
from kiosk.printing.escpos_ticket import ticket_image
from kiosk.printing.paper import paper_for
from kiosk.printing.test_page import test_page_layout
from kiosk.printing.text import find_font
from kiosk.printing.worker import configured_printer


@click.group("printer", cls=AppGroup)
def printer_group() -> None:
    """The thermal ticket printer (KIOSK_PRINTER, KIOSK_PRINTER_PROFILE)."""


@printer_group.command("test")
def printer_test() -> None:
    """Print a test page and report the printer's status in one line."""
    app = current_app
    settings = _configured_printer(app)
    layout = _test_page(app)
    state = status_line(settings.spec, settings.paper.model)
    try:
        settings.send(settings.render(layout))
    except Exception as error:
        raise click.ClickException(
            f"printer {settings.spec}: test page not printed: {one_line(error)}"
        ) from None
    click.echo(f"printer {settings.describe()}: {state}; test page sent")


@printer_group.command("preview")
@click.argument("png_file", type=click.Path(dir_okay=False, writable=True))
def printer_preview(png_file: str) -> None:
    """Save the test page as the printer would get it, as a PNG (no printer needed)."""
    app = current_app
    settings = configured_printer(app)
    paper = settings.paper if settings else paper_for(app.config["PRINTER_PROFILE"])
    font = settings.font_path if settings else find_font(app.config["PRINTER_FONT"])
    ticket_image(_test_page(app), paper, font).save(png_file)
    click.echo(f"Saved {png_file} ({paper.name}, {paper.dots} dots wide)")


def _test_page(app: Flask):
    """The test page's layout; its QR code points to the address phones would use."""
    app.config["BASE_URL"] = app.config["BASE_URL"] or base_url_for(
        app.config["HOST"], int(app.config["PORT"])
    )
    return test_page_layout(
        app.config["DEFAULT_CAMPAIGN_SITE"], app.config["BASE_URL"] or "", app.config["CLOCK"]()
    )


def _configured_printer(app: Flask):
    settings = configured_printer(app)
    if settings is None:
        raise click.ClickException(
            "no thermal printer configured: set KIOSK_PRINTER (usb:VENDOR:PRODUCT, "
            "network:HOST:PORT, serial:DEVICE:BAUD, file:PATH or cups:QUEUE)"
        )
    return settings
