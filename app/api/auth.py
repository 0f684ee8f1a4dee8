"""API authentication: per-user bearer tokens."""
from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_smorest import abort

from app.services.people import user_for_token

BEARER_USER = "safeguarding.bearer_user"  # the request's own cache (`g` may outlive a request in tests)


def bearer_user():
    """The active user whose token this request carries (None without one), read once per request."""
    if BEARER_USER not in request.environ:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        request.environ[BEARER_USER] = (user_for_token(token.strip())
                                        if scheme.lower() == "bearer" and token.strip() else None)
    return request.environ[BEARER_USER]


def token_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        user = bearer_user()
        if user is None:
            abort(401, message="Send a valid API token: 'Authorization: Bearer <token>'.")
        g.api_user = user
        return view(*args, **kwargs)

    return wrapper
