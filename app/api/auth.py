"""API authentication: per-user bearer tokens."""
from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_smorest import abort

from app.services.people import user_for_token

_UNREAD = object()


def bearer_user():
    """The active user whose token this request carries (None without one), read once per request."""
    user = g.get("bearer_user", _UNREAD)
    if user is _UNREAD:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        user = user_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        g.bearer_user = user
    return user


def token_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        user = bearer_user()
        if user is None:
            abort(401, message="Send a valid API token: 'Authorization: Bearer <token>'.")
        g.api_user = user
        return view(*args, **kwargs)

    return wrapper
