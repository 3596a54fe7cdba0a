"""Every route of the app's URL map, with plausible values in its URL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from werkzeug.routing import AnyConverter

# Routes anyone may use: the kiosk, the ticket pages, the login, the wall display, static files.
PUBLIC_ENDPOINTS = frozenset(
    {
        "static",
        "kiosk.index",
        "kiosk.health",
        "kiosk.start",
        "kiosk.new_registration",
        "kiosk.questionnaire",
        "kiosk.wizard",
        "kiosk.submit_registration",
        "phone.start",
        "ticket.show",
        "ticket.status",
        "ticket.printing_status",
        "auth.login",
        "auth.logout",
        "display.show",
        "display.board",
        "voice.clip",
    }
)


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    url: str
    right: str | None  # the staff right it needs; None for a public route


def every_route(app, token: str) -> Iterator[Route]:
    samples = {
        "token": token,
        "key": token,
        "stage": "interview",
        "filename": "css/app.css",
        "visit_id": 1,
        "language": "fr",
        "prompt_id": "start",
    }
    urls = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        right = getattr(app.view_functions[rule.endpoint], "required_right", None)
        choices = [
            sorted(converter.items)
            for name, converter in rule._converters.items()
            if isinstance(converter, AnyConverter)
        ]
        for choice in choices[0] if choices else [None]:
            values = {name: samples.get(name, choice) for name in rule.arguments}
            url = urls.build(rule.endpoint, values)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield Route(rule.endpoint, method, url, right)
