"""Sessions the server can end: signing out, switching an account off and changing its roles end every
session of the person on the server, and a session lasts a working day from sign-in however active."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.jobs.accounts import sign_in_tidy_job
from app.models import AuditEvent, SignInCounter, UserSession
from app.services import people
from tests.web.conftest import staff
from tests.web.pages import WebClient

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)
COOKIE = "session"


def _copy_of(web: WebClient, app) -> WebClient:
    """Another browser holding a copy of `web`'s session cookie (as someone who copied it would)."""
    copy = WebClient(app, app.test_client())
    copy.client.set_cookie(COOKIE, web.client.get_cookie(COOKIE).value)
    return copy


def _edit(admin_web: WebClient, person, changes: dict) -> None:
    page = admin_web.get(f"/admin/users/{person.id}")
    saved = admin_web.submit(page, changes)
    assert "The changes have been saved." in saved.words


def test_a_cookie_copied_before_signing_out_is_refused_after_it(web, app):
    user = staff()
    inbox = web.sign_in(user.username)
    copied = _copy_of(web, app)
    assert copied.get("/inbox").h1 == "Your inbox"  # the copy works while the session lasts
    web.post("/sign-out", {"csrf_token": inbox.field("csrf_token")})
    page = copied.get("/inbox")
    assert page.h1 == "Sign in"
    assert "OFFICIAL-SENSITIVE" not in page.all_words


def test_signing_out_ends_the_persons_sessions_in_every_browser(web, other_web):
    user = staff()
    inbox = web.sign_in(user.username)
    other_web.sign_in(user.username)
    web.post("/sign-out", {"csrf_token": inbox.field("csrf_token")})
    page = other_web.get("/inbox")
    assert page.h1 == "Sign in"
    assert "You were signed out because you signed out in another window or browser. Sign in again." in page.words


def test_a_session_lasts_a_working_day_from_sign_in_however_active(web, app):
    user = staff()
    hours, idle = app.config["SESSION_MAX_HOURS"], app.config["SESSION_IDLE_MINUTES"]
    with time_machine.travel(NOW, tick=False):
        web.sign_in(user.username)
    moment = NOW
    while moment + timedelta(minutes=idle - 1) < NOW + timedelta(hours=hours):
        moment += timedelta(minutes=idle - 1)
        with time_machine.travel(moment, tick=False):
            assert web.get("/inbox").h1 == "Your inbox"  # busy all day, never idle
    with time_machine.travel(NOW + timedelta(hours=hours, seconds=1), tick=False):
        page = web.get("/inbox")
    assert page.h1 == "Sign in"
    assert f"You were signed out because you had been signed in for {hours} hours. Sign in again." in page.words
    assert web.sign_in(user.username).h1 == "Your inbox"  # signing in again starts a new day


def test_changing_a_persons_roles_ends_their_sessions(web, other_web):
    person, admin = staff("safeguarding_team"), staff("system_administrator")
    web.sign_in(person.username)
    other_web.sign_in(admin.username)
    _edit(other_web, person, {"roles": ["lado"], "active": "yes"})
    page = web.get("/inbox")
    assert page.h1 == "Sign in"
    assert "You were signed out because your roles changed. Sign in again." in page.words
    assert web.sign_in(person.username).h1 == "Your inbox"


def test_saving_a_person_without_changing_their_roles_keeps_their_session(web, other_web):
    person, admin = staff("safeguarding_team"), staff("system_administrator")
    web.sign_in(person.username)
    other_web.sign_in(admin.username)
    _edit(other_web, person, {"display_name": "A New Name", "active": "yes"})
    assert web.get("/inbox").h1 == "Your inbox"


def test_switching_an_account_off_ends_its_sessions_and_says_so(web, other_web):
    person, admin = staff("safeguarding_team"), staff("system_administrator")
    web.sign_in(person.username)
    other_web.sign_in(admin.username)
    _edit(other_web, person, {"active": "no"})
    page = web.get("/inbox")
    assert page.h1 == "Sign in"
    assert "You were signed out because your account was switched off." in page.words
    ended = db.session.scalars(select(AuditEvent).where(AuditEvent.event_type == "sessions_ended")).all()
    assert [(e.data["username"], e.data["reason"], e.data["sessions"]) for e in ended] == [
        (person.username, "account switched off", 1)]


def test_switching_an_account_off_revokes_its_api_token_for_good(client, app_ctx, web):
    person, admin = staff("safeguarding_team"), staff("system_administrator")
    token = people.issue_api_token(person.username)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/tasks", headers=headers).status_code == 200
    web.sign_in(admin.username)
    _edit(web, person, {"active": "no"})
    assert client.get("/api/tasks", headers=headers).status_code == 401
    _edit(web, person, {"active": "yes"})
    assert client.get("/api/tasks", headers=headers).status_code == 401  # switched back on: the old token stays dead


def test_the_hourly_tidy_forgets_sessions_ended_a_month_ago_and_closed_sign_in_windows(web, other_web, app):
    early, late = staff(), staff()
    with time_machine.travel(NOW, tick=False):
        web.sign_in(early.username)
        web.post("/sign-out", {"csrf_token": web.get("/inbox").field("csrf_token")})
        web.sign_in(late.username, "wrong")
    with time_machine.travel(NOW + timedelta(days=20), tick=False):
        other_web.sign_in(late.username)
    with time_machine.travel(NOW + timedelta(days=31), tick=False):
        sign_in_tidy_job(app)
        db.session.rollback()
        assert db.session.scalars(select(UserSession.user_id)).all() == [late.id]  # ran out 11 days ago: kept
        assert db.session.scalars(select(SignInCounter.value)).all() == []
