"""What every page shares: sign-in sessions, CSRF, security headers, templates and error pages."""
from __future__ import annotations

from flask import Flask

from app.web import errors, oidc, request_checks, security, serving, templating


def init_web(app: Flask) -> None:
    """Bind the web extensions and hooks to the app."""
    serving.init_serving(app)
    request_checks.init_request_checks(app)
    security.init_security(app)
    templating.init_templating(app)
    errors.init_error_pages(app)
    oidc.init_oidc(app)
