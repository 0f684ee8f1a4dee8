"""Signing in: argon2 passwords, lockout, audit, idle timeout, CSRF, cookies and security headers."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote, urljoin, urlsplit

import pytest
import time_machine
from lxml import html as lxml_html
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import AuditEvent, SignInAttempt
from tests.web.conftest import staff
from tests.web.pages import PASSWORD, WebClient

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


def _events(kind: str) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.event_type == kind)).all()


def test_pages_need_signing_in(web):
    page = web.get("/inbox")
    assert page.h1 == "Sign in"
    assert "Sign in to continue." in page.words
    assert "OFFICIAL-SENSITIVE" not in page.all_words  # no case data before signing in


def test_passwords_are_argon2_and_a_wrong_one_is_refused_and_audited(web):
    user = staff(name="Pat Person")
    assert user.password_hash.startswith("$argon2")
    page = web.sign_in(user.username, "not the password")
    assert page.h1 == "Sign in"
    assert page.error_summary() == [("Enter a correct username and password.", "#username")]
    assert page.field("username") == user.username
    assert [e.data["username"] for e in _events("sign_in_failed")] == [user.username]
    inbox = web.sign_in(user.username)
    assert inbox.h1 == "Your inbox"
    assert [e.actor_label for e in _events("signed_in")] == ["Pat Person"]


def test_repeated_failures_lock_the_account_even_against_the_right_password(web, app):
    user = staff()
    with time_machine.travel(NOW, tick=False):
        for _ in range(app.config["SIGNIN_MAX_FAILURES"] - 1):
            assert "Enter a correct username" in web.sign_in(user.username, "wrong").words
        locked = web.sign_in(user.username, "wrong")
        assert "This account is locked" in locked.words
        assert "This account is locked" in web.sign_in(user.username).words
        assert len(_events("account_locked")) == 1
        assert len(_events("sign_in_locked_out")) == 1
    with time_machine.travel(NOW + timedelta(minutes=app.config["SIGNIN_LOCKOUT_MINUTES"], seconds=1), tick=False):
        assert web.sign_in(user.username).h1 == "Your inbox"


def test_signing_in_clears_the_count_of_failures(web, other_web, app):
    user = staff()
    limit = app.config["SIGNIN_MAX_FAILURES"]
    with time_machine.travel(NOW, tick=False):
        for _ in range(limit - 1):
            web.sign_in(user.username, "wrong")
        assert other_web.sign_in(user.username).h1 == "Your inbox"
        for _ in range(limit - 1):
            assert "Enter a correct username" in web.sign_in(user.username, "wrong").words
        assert "This account is locked" in web.sign_in(user.username, "wrong").words


def test_an_administrator_can_lift_a_lockout(web, other_web, app):
    user, admin = staff(), staff("system_administrator")
    with time_machine.travel(NOW, tick=False):
        for _ in range(app.config["SIGNIN_MAX_FAILURES"]):
            web.sign_in(user.username, "wrong")
        other_web.sign_in(admin.username)
        account = other_web.get(f"/admin/users/{user.id}")
        assert "This account is locked" in account.words
        other_web.submit(account, form=f"/admin/users/{user.id}/unlock")
        assert web.sign_in(user.username).h1 == "Your inbox"
    assert len(_events("account_unlocked")) == 1


def test_signing_out_ends_the_session(web):
    user = staff()
    inbox = web.sign_in(user.username)
    page = web.post("/sign-out", {"csrf_token": inbox.field("csrf_token")})
    assert "You have signed out." in page.words
    assert web.get("/inbox").h1 == "Sign in"
    assert len(_events("signed_out")) == 1


def test_an_idle_session_expires(web, app):
    user = staff()
    minutes = app.config["SESSION_IDLE_MINUTES"]
    with time_machine.travel(NOW, tick=False):
        web.sign_in(user.username)
    with time_machine.travel(NOW + timedelta(minutes=minutes - 1), tick=False):
        assert web.get("/inbox").h1 == "Your inbox"  # activity keeps it alive
    with time_machine.travel(NOW + timedelta(minutes=2 * minutes - 1), tick=False):
        assert web.get("/inbox").h1 == "Your inbox"
    with time_machine.travel(NOW + timedelta(minutes=3 * minutes), tick=False):
        page = web.get("/inbox")
    assert page.h1 == "Sign in"
    assert f"had done nothing for {minutes} minutes" in page.words
    assert _events("signed_out")[-1].data["reason"] == "idle"


def test_a_form_without_its_csrf_token_is_refused(web):
    user = staff()
    page = web.sign_in(user.username)
    refused = web.post("/sign-out", {}, status=400)
    assert refused.h1 == "Your form could not be sent"
    forged = web.post("/sign-out", {"csrf_token": "made-up"}, status=400)
    assert forged.h1 == "Your form could not be sent"
    assert web.get("/inbox").h1 == "Your inbox"  # still signed in: nothing happened
    assert page


def test_sign_in_itself_needs_the_csrf_token(web):
    user = staff()
    page = web.post("/sign-in", {"username": user.username, "password": "x"}, status=400)
    assert page.h1 == "Your form could not be sent"


def test_session_cookie_is_secure_http_only_and_same_site(web, client):
    user = staff()
    page = web.get("/sign-in")
    response = client.post("/sign-in", data={"csrf_token": page.field("csrf_token"), "username": user.username,
                                             "password": "correct horse battery staple"})
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_security_headers_on_every_page(web):
    page = web.get("/sign-in")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["Cache-Control"] == "no-store"
    assert "<script>" not in page.text and "style=" not in page.text  # nothing inline for the CSP to allow


def test_only_local_paths_are_followed_after_signing_in(web):
    user = staff()
    page = web.get("/sign-in?next=https://evil.example/")
    landed = web.submit(page, {"username": user.username, "password": "correct horse battery staple"})
    assert landed.h1 == "Your inbox"


def _where_a_browser_goes(location: str) -> tuple[str, str]:
    """(host, path) a browser would go to from a Location header: it drops tab, CR and LF, trims
    spaces and control characters, and reads a backslash as a slash."""
    cleaned = re.sub(r"^[\x00-\x20]+|[\x00-\x20]+$", "", re.sub(r"[\t\r\n]", "", location)).replace("\\", "/")
    parts = urlsplit(urljoin("http://localhost/sign-in", cleaned))
    return parts.netloc, parts.path


def _signed_in_to(client, query: str, user, *, next_field=None) -> str:
    """Sign in from `/sign-in?<query>` (or posting `next_field` as the form's next); where the answer points."""
    with client.application.app_context():
        page = client.get(f"/sign-in?{query}")
        assert page.status_code == 200
        tree = lxml_html.fromstring(page.get_data(as_text=True))
        shown = tree.xpath("//input[@name='next']/@value") or [""]
        form = {"csrf_token": tree.xpath("//input[@name='csrf_token']/@value")[0], "username": user.username,
                "password": PASSWORD, "next": shown[0] if next_field is None else next_field}
        answer = client.post("/sign-in", data=form)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    return answer.headers["Location"]


OFF_SITE = [
    "next=/%09/evil.example", "next=%09//evil.example", "next=/%0D%0A/evil.example", "next=/%0Aevil.example",
    "next=/%0D%0ASet-Cookie:%20a=b", "next=%20//evil.example", "next=//evil.example", "next=https://evil.example/",
    "next=/%5Cevil.example", "next=%5C%5Cevil.example", "next=/%5C/evil.example", "next=/%252F/evil.example",
    "next=/%2F/evil.example", "next=/%2F%2Fevil.example", "next=javascript:alert(1)", "next=http:/evil.example",
    "next=%2F%2Fevil.example", "next=/%250D%250A/evil.example", "next=/.%09/evil.example",
]


def test_a_nul_in_next_is_refused_outright(client, app_ctx):
    """Every request with a NUL in it is refused (400), so a NUL never reaches where next leads."""
    with client.application.app_context():
        answer = client.get("/sign-in?next=/%00/evil.example")
        posted = client.post("/sign-in", data={"username": "x", "password": "y", "next": "\x00"})
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert posted.status_code == 400 and "Location" not in posted.headers


@pytest.mark.parametrize("query", OFF_SITE)
def test_next_never_leads_off_site_nor_to_an_error(client, app_ctx, query):
    user = staff()
    location = _signed_in_to(client, query, user)
    host, path = _where_a_browser_goes(location)
    assert host == "localhost" and not unquote(unquote(path)).startswith("//"), location
    assert "\n" not in location and "\r" not in location and "\t" not in location


@pytest.mark.parametrize("posted", ["/\t/evil.example", "/\r\nLocation: https://evil.example", "\\\\evil.example",
                                    "/\\evil.example", "/%0a", "/\u3002evil.example", "/" + "a" * 5000])
def test_a_next_posted_by_hand_never_leads_off_site_nor_to_an_error(client, app_ctx, posted):
    user = staff()
    location = _signed_in_to(client, "", user, next_field=posted)
    host, path = _where_a_browser_goes(location)
    assert host == "localhost" and not path.startswith("//"), location


@pytest.mark.parametrize("query, landing", [
    ("next=/inbox?pathway=pipot%26x", "/inbox?pathway=pipot&x"),
    ("next=/tasks/12", "/tasks/12"),
    ("next=/cases?q=a%2520b", "/cases?q=a%20b"),
    ("next=/cases/PIPOT-2026-0001%23timeline", "/cases/PIPOT-2026-0001#timeline"),
])
def test_a_path_on_this_site_is_followed(client, app_ctx, query, landing):
    user = staff()
    assert _signed_in_to(client, query, user) == landing


def test_a_deactivated_account_cannot_sign_in(web):
    user = staff()
    user.is_active = False
    db.session.commit()
    assert "Enter a correct username and password." in web.sign_in(user.username).words


def test_answers_sent_after_the_session_ran_out_are_kept_as_a_draft(web, app):
    from tests.web.conftest import open_concern, open_task_id

    lead = staff("safeguarding_team")
    minutes = app.config["SESSION_IDLE_MINUTES"]
    with time_machine.travel(NOW, tick=False):
        task_id = open_task_id(open_concern(staff()), "Triage the concern")
        web.sign_in(lead.username)
        form = web.get(f"/tasks/{task_id}")
    with time_machine.travel(NOW + timedelta(minutes=minutes + 5), tick=False):
        page = web.submit(form, {"notes": "A long careful note typed slowly"})
        assert page.h1 == "Sign in"
        assert "What you had typed has been saved as a draft." in page.words
        back = web.submit(page, {"username": lead.username, "password": "correct horse battery staple"})
    assert back.h1 == "Triage the concern"
    assert back.field("notes") == "A long careful note typed slowly"


def test_too_many_failures_from_one_address_are_refused(web, app):
    app.config["SIGNIN_MAX_FAILURES_PER_ADDRESS"] = 3
    try:
        for n in range(3):
            web.sign_in(f"nobody{n}", "wrong")
        page = web.sign_in(staff().username)
    finally:
        app.config["SIGNIN_MAX_FAILURES_PER_ADDRESS"] = 30
    assert "too many attempts to sign in from this device" in page.words
    assert len(_events("sign_in_rate_limited")) == 1


@pytest.fixture
def behind_one_proxy(database_url):
    """The application as deployed behind one reverse proxy (TRUSTED_PROXIES=1), on the test database."""
    proxied = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "SECRET_KEY": "test",
                          "TRUSTED_PROXIES": 1, "SIGNIN_MAX_FAILURES_PER_ADDRESS": 3})
    yield WebClient(proxied, proxied.test_client())
    with proxied.app_context():
        db.session.remove()
        db.engine.dispose()


def _sign_in_from(web: WebClient, address: str, username: str, password: str = "wrong") -> str:
    page = web.get("/sign-in")
    with web.app.app_context():
        answer = web.client.post("/sign-in", headers={"X-Forwarded-For": address}, data={
            "csrf_token": page.field("csrf_token"), "username": username, "password": password})
    return answer.get_data(as_text=True)


def test_the_address_is_read_through_the_trusted_proxy(behind_one_proxy, app_ctx):
    for n in range(3):
        _sign_in_from(behind_one_proxy, "203.0.113.9", f"nobody{n}")
    assert "too many attempts to sign in from this device" in _sign_in_from(behind_one_proxy, "203.0.113.9", "x")
    assert "Enter a correct username and password." in _sign_in_from(behind_one_proxy, "198.51.100.7", "x")
    addresses = db.session.scalars(select(SignInAttempt.address).order_by(SignInAttempt.id)).all()
    assert addresses == ["203.0.113.9"] * 4 + ["198.51.100.7"]


def test_without_a_trusted_proxy_a_forwarded_address_is_ignored(web, app):
    _sign_in_from(web, "203.0.113.9", "nobody")
    assert db.session.scalars(select(SignInAttempt.address)).all() == ["127.0.0.1"]


@pytest.mark.parametrize("username, password", [
    ("x" * 5000, "wrong"), ("   ", ""), ("\u00a0\t\n", "x"), ("bob", "p" * 100_000), ("🙂" * 200, "wrong"),
])
def test_odd_sign_in_details_get_the_usual_answer(web, username, password):
    page = web.get("/sign-in")
    answer = web.submit(page, {"username": username, "password": password})
    assert answer.error_summary() == [("Enter a correct username and password.", "#username")]
    assert web.get("/inbox").h1 == "Sign in"


@pytest.mark.parametrize("username, password", [("al\x00ice", "wrong"), ("bob", "a\x00b")])
def test_a_nul_in_the_sign_in_details_is_refused_with_the_reason(web, username, password):
    page = web.get("/sign-in")
    answer = web.submit(page, {"username": username, "password": password}, status=400)
    assert "The form contained a NUL character" in answer.words
    assert web.get("/inbox").h1 == "Sign in"
