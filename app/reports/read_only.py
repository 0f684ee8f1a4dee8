"""The auditor reads reports and audit trails and changes nothing: every request that could change
something (anything but GET, HEAD and OPTIONS), on a page or through the API, is refused for an
account holding the auditor role. Signing out is the one exception."""
from __future__ import annotations

from flask import abort, request
from flask_login import current_user

from app.api.auth import bearer_user
from app.services.report_access import AUDITOR, REPORT_ROLES

READING = {"GET", "HEAD", "OPTIONS"}
ALLOWED = {"auth.sign_out", "auth.sign_in_post", "auth.oidc_callback"}


def refuse_auditor_changes():
    """before_request: 403 for a change asked for by an auditor."""
    if request.method in READING or request.endpoint in ALLOWED or request.endpoint == "static":
        return None
    user = _requesting_user()
    if user is not None and AUDITOR in user.role_keys:
        abort(403)
    return None


def _requesting_user():
    if current_user.is_authenticated:
        return current_user
    return bearer_user()


def navigation() -> dict:
    """`reports_nav`: whether the header shows "Reports" (to anyone who may read one)."""
    return {"reports_nav": current_user.is_authenticated and bool(REPORT_ROLES & current_user.role_keys)}
