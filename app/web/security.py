"""Sessions, sign-in state, CSRF and security headers for the web pages."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError

from app import clock
from app.extensions import csrf, login_manager
from app.services.accounts.auth import load_user, sign_out
from app.services.errors import ServiceError
from app.services.tasks.task_forms import post_task_form
from app.web.posts import form_post

SESSION_MAX_HOURS = 12
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
    """Flask-Login, CSRF on every form (the token API excepted), idle timeout, headers."""
    # The cookie lasts a working day at most; idleness is judged on the server, so the person is
    # told why they were signed out.
    app.permanent_session_lifetime = timedelta(hours=SESSION_MAX_HOURS)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    app.before_request(_end_idle_session)
    csrf.init_app(app)
    app.after_request(_security_headers)


def _end_idle_session():
    """Sign out anyone idle for longer than SESSION_IDLE_MINUTES (checked on the server)."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now, seen = clock.now().timestamp(), session.get("seen")
    minutes = current_app.config["SESSION_IDLE_MINUTES"]
    if seen is not None and now - float(seen) > minutes * 60:
        user = current_user._get_current_object()
        kept = _keep_typed_answers(user)
        sign_out(user, reason="idle")
        logout_user()
        session.clear()
        message = f"You were signed out because you had done nothing for {minutes} minutes. Sign in again."
        if kept:
            message += " What you had typed has been saved as a draft."
        flash(message, "info")
        back = request.path if kept or request.method == "GET" else None
        return redirect(url_for("auth.sign_in", next=back))
    session["seen"] = now
    return None


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
