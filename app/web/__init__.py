"""What every page shares: sign-in sessions, CSRF, security headers, templates and error pages."""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.web import errors, oidc, security, templating


def init_web(app: Flask) -> None:
    """Bind the web extensions and hooks to the app."""
    _trust_proxies(app)
    security.init_security(app)
    templating.init_templating(app)
    errors.init_error_pages(app)
    oidc.init_oidc(app)


def _trust_proxies(app: Flask) -> None:
    """Read the client's address and scheme through the TRUSTED_PROXIES reverse proxies in front (none
    by default: then a forwarded header, which anyone can send, is ignored)."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
