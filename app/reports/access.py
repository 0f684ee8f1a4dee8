"""Route access rules for the reports pages (a test fails any route without one)."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def any_role(*role_keys: str):
    """Signed in and holding one of `role_keys`; anyone else gets 404 (no hint that the page exists).
    Which pathways the person may see is then checked by the service."""
    def decorate(view):
        @wraps(view)
        def check(*args, **kwargs):
            if not set(role_keys) & current_user.role_keys:
                abort(404)
            return view(*args, **kwargs)

        wrapped = login_required(check)
        wrapped.access_rule = "roles " + ", ".join(sorted(role_keys))
        return wrapped

    return decorate
