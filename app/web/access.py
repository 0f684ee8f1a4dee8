"""Every page declares who may use it (a test fails any route that does not)."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def public(view):
    """Anyone, signed in or not."""
    view.access_rule = "public"
    return view


def signed_in(view):
    """Any signed-in member of staff (need to know is then checked by the service)."""
    wrapped = login_required(view)
    wrapped.access_rule = "signed in"
    return wrapped


def role_required(role_key: str):
    """Signed in and holding `role_key`; anyone else gets 404 (no hint that the page exists)."""
    def decorate(view):
        @wraps(view)
        def check(*args, **kwargs):
            if role_key not in current_user.role_keys:
                abort(404)
            return view(*args, **kwargs)

        wrapped = login_required(check)
        wrapped.access_rule = f"role {role_key}"
        return wrapped

    return decorate
