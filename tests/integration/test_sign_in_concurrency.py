"""Wrong passwords sent all at once: no more are checked than the limit allows, per username and per
address, however many arrive together."""
from __future__ import annotations

import threading
from collections import Counter

import pytest
from lxml import html as lxml_html
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, SignInAttempt
from app.services import people

PARALLEL = 16
PASSWORD = "correct horse battery staple"


def _attempt_together(app, usernames: list[str], password: str) -> list[tuple[int, str]]:
    """Each username tried at the same moment from its own browser (a thread, its own application context)."""
    barrier = threading.Barrier(len(usernames))
    answers: list[tuple[int, str]] = []

    def attempt(username: str) -> None:
        client = app.test_client()
        page = client.get("/sign-in")
        token = lxml_html.fromstring(page.get_data(as_text=True)).xpath("//input[@name='csrf_token']/@value")[0]
        barrier.wait()
        answer = client.post("/sign-in", data={"csrf_token": token, "username": username, "password": password})
        answers.append((answer.status_code, answer.get_data(as_text=True)))

    threads = [threading.Thread(target=attempt, args=(name,)) for name in usernames]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _outcomes() -> Counter:
    db.session.rollback()  # a fresh transaction: see what the threads committed
    counted = db.session.execute(select(SignInAttempt.outcome, func.count()).group_by(SignInAttempt.outcome))
    return Counter(dict(counted.all()))


def test_parallel_wrong_passwords_for_one_account_get_no_more_checks_than_the_limit(app, app_ctx):
    user = people.create_user("target", "Target Person", ["staff"], password=PASSWORD)
    limit = app.config["SIGNIN_MAX_FAILURES"]
    answers = _attempt_together(app, [user.username] * PARALLEL, "wrong password")
    assert [status for status, _ in answers] == [200] * PARALLEL
    assert _outcomes() == {"failure": limit, "refused": PARALLEL - limit}
    assert sum("Enter a correct username and password." in text for _, text in answers) == limit - 1
    assert sum("This account is locked" in text for _, text in answers) == PARALLEL - limit + 1
    locked = db.session.scalars(select(AuditEvent).where(AuditEvent.event_type == "account_locked")).all()
    assert len(locked) == 1


@pytest.fixture
def address_limit(app):
    previous = app.config["SIGNIN_MAX_FAILURES_PER_ADDRESS"]
    app.config["SIGNIN_MAX_FAILURES_PER_ADDRESS"] = 5
    yield 5
    app.config["SIGNIN_MAX_FAILURES_PER_ADDRESS"] = previous


def test_parallel_wrong_passwords_from_one_address_get_no_more_checks_than_its_limit(app, app_ctx, address_limit):
    answers = _attempt_together(app, [f"nobody{n}" for n in range(PARALLEL)], "wrong password")
    assert [status for status, _ in answers] == [200] * PARALLEL
    assert _outcomes() == {"failure": address_limit, "refused": PARALLEL - address_limit}
    assert sum("too many attempts to sign in from this device" in text for _, text in answers) == (
        PARALLEL - address_limit)
