"""The session cookie.

Before sign-in it carries a few signed values (the form token, a message), as Flask's cookie does.
From sign-in on it carries only the id of a session the server keeps
(`app/services/accounts/sessions.py`): the session's values stay on the server, every request
checks the row, and the server can end it, whoever holds a copy of the cookie.
"""
from __future__ import annotations

from flask import Flask, Request, Response, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from app.services.accounts.auth import load_user
from app.services.accounts.sessions import NewSession, StoredSession, find_session, save_session_values

SESSION_ID = "session_id"


class ServerSession(SecureCookieSession):
    """A request's session: signed-cookie values before sign-in, the server's once signed in.

    `stored` is the server's session (None before sign-in); `ended` says why the session the cookie
    named had ended when the request arrived (None if it had not, or the server did not know it).
    """

    def __init__(self, initial=None, *, stored: StoredSession | None = None, token: str | None = None,
                 ended: str | None = None):
        super().__init__(initial)
        self.stored, self.token, self.ended, self.started = stored, token, ended, False


class ServerSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie before sign-in; the id of a server session after it."""

    session_class = ServerSession

    def open_session(self, app: Flask, request: Request) -> ServerSession | None:
        cookie = super().open_session(app, request)
        token = cookie.get(SESSION_ID) if cookie is not None else None
        if token is None or request.path.startswith(f"{app.static_url_path}/"):
            return cookie
        stored = find_session(token)
        if stored is None or stored.ended_reason:
            ended = self.session_class(ended=stored.ended_reason if stored else None)
            ended.modified = True  # the cookie is replaced (or removed) on the way out
            return ended
        return self.session_class(self.serializer.loads(stored.data) if stored.data else None, stored=stored,
                                  token=token)

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        if session.stored is None:
            return super().save_session(app, session, response)
        if session.accessed:
            response.vary.add("Cookie")
        if session.modified:
            save_session_values(session.stored.id, self.serializer.dumps(dict(session)))
        if session.started:
            self._send_session_id(app, session, response)
        return None

    def _send_session_id(self, app: Flask, session: ServerSession, response: Response) -> None:
        """The cookie: the signed session id, sent once, kept until the browser closes (the server
        decides when the session ends, and says so when the cookie comes back after that)."""
        response.set_cookie(
            self.get_cookie_name(app), self.get_signing_serializer(app).dumps({SESSION_ID: session.token}),
            httponly=self.get_cookie_httponly(app),
            domain=self.get_cookie_domain(app), path=self.get_cookie_path(app), secure=self.get_cookie_secure(app),
            partitioned=self.get_cookie_partitioned(app), samesite=self.get_cookie_samesite(app))
        response.vary.add("Cookie")


def begin_session(new: NewSession) -> None:
    """This browser's session is, from now on, the one the server has just started for it."""
    session.clear()
    session.stored, session.token, session.started = new.stored, new.token, True


def forget_session() -> None:
    """The session has ended: whatever follows (a message) rides in a signed cookie again."""
    session.clear()
    session.stored = session.token = None
    session.modified = True


def stored_session() -> StoredSession | None:
    """The server's session this request belongs to, if it is signed in."""
    return getattr(session._get_current_object(), "stored", None)


def ended_reason() -> str | None:
    """Why the session this request's cookie named had ended, if it had."""
    return getattr(session._get_current_object(), "ended", None)


def session_user(user_id: str):
    """Flask-Login's user loader: the person the server's session belongs to (never a cookie's say-so)."""
    stored = stored_session()
    if stored is None or str(stored.user_id) != str(user_id):
        return None
    return load_user(stored.user_id)
