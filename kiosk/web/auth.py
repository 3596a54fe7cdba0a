"""Staff login: the login page, logout, and the guard every staff view goes through."""

from __future__ import annotations

from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext

from kiosk.db import db
from kiosk.domain.staff import LoginRefused, log_in, log_out, may, resume
from kiosk.models import StaffSession
from kiosk.web.context import device, now, pause
from kiosk.web.device_cookie import device_mark
from kiosk.web.rendering import is_htmx

bp = Blueprint("auth", __name__)

SESSION_KEY = "staff"


def current_staff() -> StaffSession | None:
    """The logged-in staff session of this request, or None."""
    if "staff_session" not in g:
        idle = timedelta(seconds=current_app.config["STAFF_IDLE_SECONDS"])
        g.staff_session = resume(db.session, session.get(SESSION_KEY), now(), idle)
    return g.staff_session


def staff_required(right: str = "staff"):
    """Not logged in: to the login page (HTMX: HX-Redirect). Logged in without the right: 403."""

    def decorator(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            staff = current_staff()
            if staff is None:
                return _to_login()
            if not may(staff.user.role, right):
                abort(403)
            return view(*args, **kwargs)

        guarded.required_right = right  # what the route walk of the security tests checks
        return guarded

    return decorator


def _to_login():
    target = url_for("auth.login", next=request.full_path.rstrip("?"))
    if is_htmx():
        response = make_response("", 401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def _safe_next(target: str | None) -> str:
    """Only a path on this server: never an open redirect to another site."""
    if not target:
        return url_for("staff.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("staff.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_staff() is not None:
            return redirect(next_url)
        return render_template("staff/login.html", next_url=next_url, error=None)
    username = (request.form.get("username") or "")[:100]
    password = (request.form.get("password") or "")[:1000]
    try:
        user, token = log_in(
            db.session, username, password, device(), now(), sleep=pause, device=device_mark()
        )
    except LoginRefused as refused:
        if refused.reason == "throttled":
            message = gettext(
                "Too many failed attempts. Please wait %(seconds)s seconds and try again.",
                seconds=refused.retry_after,
            )
            status = 429
        else:
            message = gettext("Wrong username or password.")
            status = 401
        page = render_template(
            "staff/login.html", next_url=next_url, error=message, username=username
        )
        return page, status
    session.clear()  # a new session for a new login: nothing carried over
    session[SESSION_KEY] = token
    session.permanent = True
    return redirect(next_url, code=303)


@bp.post("/logout")
def logout():
    log_out(db.session, session.get(SESSION_KEY), now())
    session.clear()
    return redirect(url_for("auth.login"), code=303)
