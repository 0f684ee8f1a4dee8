"""Sessions, sign-in state, CSRF and security headers for the web pages."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, flash, redirect, request, url_for
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError

from app.extensions import csrf, login_manager
from app.services.accounts import sessions
from app.services.accounts.auth import end_lapsed_session
from app.services.errors import ServiceError
from app.services.tasks.task_forms import post_task_form
from app.web.posts import form_post
from app.web.sessions import ServerSessionInterface, ended_reason, forget_session, session_user, stored_session

CSP = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
    "connect-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'",
])
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_security(app: Flask) -> None:
    """Server sessions, Flask-Login, CSRF on every form (the token API excepted), session checks, headers."""
    # The cookie is read for a day beyond the longest session, so that whoever brings back a session
    # that has ended is told why; the session itself ends by the server's clock.
    app.permanent_session_lifetime = timedelta(hours=app.config["SESSION_MAX_HOURS"] + 24)
    app.session_interface = ServerSessionInterface()
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(session_user)
    app.before_request(_check_session)
    csrf.init_app(app)
    app.after_request(_security_headers)


def _signed_out_messages() -> dict[str, str]:
    settings = current_app.config
    return {
        sessions.IDLE: f"You were signed out because you had done nothing for {settings['SESSION_IDLE_MINUTES']} "
                       "minutes. Sign in again.",
        sessions.EXPIRED: f"You were signed out because you had been signed in for {settings['SESSION_MAX_HOURS']} "
                          "hours. Sign in again.",
        sessions.SIGNED_OUT: "You were signed out because you signed out in another window or browser. "
                             "Sign in again.",
        sessions.SWITCHED_OFF: "You were signed out because your account was switched off.",
        sessions.ROLES_CHANGED: "You were signed out because your roles changed. Sign in again.",
    }


def _check_session():
    """Every request: a session the server ended, or that has lapsed, signs the person out and says why."""
    if request.endpoint == "static":
        return None
    if ended_reason() is not None:
        return _told_signed_out(ended_reason(), kept=False)
    stored = stored_session()
    if stored is None:
        return None
    reason = sessions.lapsed(stored) or (None if current_user.is_authenticated else sessions.SWITCHED_OFF)
    if reason is None:
        sessions.note_activity(stored)
        return None
    user = current_user._get_current_object() if current_user.is_authenticated else None
    kept = user is not None and _keep_typed_answers(user)
    end_lapsed_session(user, stored.id, reason)
    logout_user()
    forget_session()
    return _told_signed_out(reason, kept)


def _told_signed_out(reason: str, kept: bool):
    message = _signed_out_messages().get(reason, "You were signed out. Sign in again.")
    if kept:
        message += " What you had typed has been saved as a draft."
    flash(message, "info")
    if getattr(current_app.view_functions.get(request.endpoint), "access_rule", None) == "public":
        return None  # the sign-in page itself: say why, and carry on
    back = request.path if kept or request.method == "GET" else None
    return redirect(url_for("auth.sign_in", next=back))


def _keep_typed_answers(user) -> bool:
    """A task form sent just after the session ran out is kept as a draft (if its CSRF token is good)."""
    if request.method != "POST" or request.endpoint != "inbox.task_post":
        return False
    try:
        csrf.protect()
        post = form_post(request)
        post.action = "draft"
        post_task_form(request.view_args["task_id"], user, post)
    except (CSRFError, ServiceError):
        return False
    return True


def _security_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response
