"""API authentication: per-user bearer tokens."""
from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_smorest import abort

from app.services.people import user_for_token


def token_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        user = user_for_token(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            abort(401, message="Send a valid API token: 'Authorization: Bearer <token>'.")
        g.api_user = user
        return view(*args, **kwargs)

    return wrapper
