"""One source for each piece of markup: a page renders whole, or only its fragment for HTMX."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, current_app, make_response, redirect, render_template
from htmx_flask import request


def full_or_fragment(
    page: str, fragment: str, status: int = 200, page_context=None, **context
) -> Response:
    """`page_context()`, if given, adds what only the whole page shows: a fragment never pays
    for the queries of the page around it."""
    if request.htmx and not request.htmx.boosted:
        return make_response(render_template(fragment, **context), status)
    if page_context is not None:
        context = {**context, **page_context()}
    return make_response(render_template(page, **context), status)


def see_other(url: str) -> Response:
    """After a successful POST: 303 for a plain form, HX-Redirect for HTMX."""
    if request.htmx:
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


def is_htmx() -> bool:
    """The request came from htmx (htmx-flask's `request.htmx`), not a plain page load."""
    return bool(request.htmx)


def polled(etag: str, render: Callable[[], str]) -> Response:
    """A fragment polled with its ETag: 304 with no body while nothing changed, else what
    `render()` gives; either way with the ETag for the next poll."""
    if request.if_none_match.contains(etag):
        response = current_app.response_class(status=304)
    else:
        response = current_app.make_response(render())
    response.set_etag(etag)
    return response
