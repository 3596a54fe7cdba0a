"""The msgids a donor can read, found from the code rather than listed by hand.

Starting points: every view of a donor blueprint (kiosk.web.i18n.DONOR_BLUEPRINTS: the kiosk, the
ticket and its /t/ page, the wall display), the app's error pages, and the two layouts a donor
holds on paper (the ticket and the deferral or thank-you slip). From each function: the msgids in
its own source, the templates it renders (and everything they include, import or extend, with
the label tables they read from the Jinja globals), and, followed through its module's globals,
the functions it calls in kiosk.web and the tables of lazy messages it reads (validation
messages, stage labels, deferral reasons…).
"""

from __future__ import annotations

import inspect
import io
import re
import textwrap
from collections.abc import Callable, Iterable
from pathlib import Path
from types import CodeType, FunctionType

from babel.messages.extract import extract_python
from flask import Flask
from flask_babel.speaklater import LazyString
from jinja2 import nodes
from jinja2.ext import babel_extract

from kiosk.config import CHECKOUT
from kiosk.web.i18n import DONOR_BLUEPRINTS

TEMPLATES = CHECKOUT / "templates"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}
_TEMPLATE_NAME = re.compile(r"""["']([\w/.-]+\.html)["']""")
_TEMPLATE_LINK = re.compile(r"""{%-?\s*(?:include|import|from|extends)\s+["']([^"']+)["']""")


def donor_entry_points(app: Flask) -> list[Callable]:
    from kiosk.web.printing import slip_layout, ticket_layout

    views = [
        function
        for endpoint, function in app.view_functions.items()
        if endpoint.split(".")[0] in DONOR_BLUEPRINTS
    ]
    handlers = [
        handler
        for by_class in app.error_handler_spec[None].values()
        for handler in by_class.values()
    ]
    return [*views, *handlers, ticket_layout, slip_layout]


def donor_msgids(app: Flask) -> dict[str, str]:
    """msgid → where it was found (a template path or a function's name)."""
    found: dict[str, str] = {}
    templates: set[Path] = set()
    seen: set[int] = set()
    for function in donor_entry_points(app):
        _from_function(_unwrapped(function), found, templates, seen)
    for path in _template_closure(templates):
        _from_template(app, path, found)
    return found


def _unwrapped(function: Callable) -> Callable:
    return inspect.unwrap(function)


def _from_function(function, found: dict, templates: set, seen: set) -> None:
    if id(function) in seen or not isinstance(function, FunctionType):
        return
    seen.add(id(function))
    source = textwrap.dedent(inspect.getsource(function))
    where = f"{function.__module__}.{function.__qualname__}"
    for _, _, message, _ in extract_python(io.BytesIO(source.encode()), KEYWORDS, [], {}):
        found.setdefault(message if isinstance(message, str) else message[0], where)
    templates.update(TEMPLATES / name for name in _TEMPLATE_NAME.findall(source))
    for name in _names(function.__code__):
        value = function.__globals__.get(name)
        if isinstance(value, FunctionType) and value.__module__.startswith("kiosk.web"):
            _from_function(value, found, templates, seen)
        else:
            _from_value(value, found, f"{where} → {name}")


def _names(code: CodeType) -> Iterable[str]:
    yield from code.co_names
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            yield from _names(constant)


def _from_value(value, found: dict, where: str) -> None:
    if isinstance(value, LazyString):
        found.setdefault(value._args[0], where)
    elif isinstance(value, dict):
        for item in value.values():
            _from_value(item, found, where)
    elif isinstance(value, (tuple, list)):
        for item in value:
            _from_value(item, found, where)


def _template_closure(start: set[Path]) -> set[Path]:
    for folder in DONOR_BLUEPRINTS | {"errors"}:
        start |= set((TEMPLATES / folder).glob("*.html"))
    todo, done = list(start), set()
    while todo:
        path = todo.pop()
        if path in done or not path.is_file():
            continue
        done.add(path)
        todo.extend(TEMPLATES / name for name in _TEMPLATE_LINK.findall(path.read_text()))
    return done


def _from_template(app: Flask, path: Path, found: dict) -> None:
    where = str(path.relative_to(CHECKOUT))
    with path.open("rb") as handle:
        for _, _, message, _ in babel_extract(handle, KEYWORDS.keys(), [], {}):
            found.setdefault(message if isinstance(message, str) else message[0], where)
    parsed = app.jinja_env.parse(path.read_text())
    for name in {node.name for node in parsed.find_all(nodes.Name)}:
        _from_value(app.jinja_env.globals.get(name), found, f"{where} → {name}")
