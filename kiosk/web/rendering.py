"""One source for each piece of markup: a page renders whole, or only its fragment for HTMX."""

from __future__ import annotations

from flask import Response, make_response, redirect, render_template
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
