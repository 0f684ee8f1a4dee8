from argon2 import PasswordHasher

from app.extensions import db
from tests.browser.forms import assert_accessible
from tests.web.pages import PASSWORD
from tests.web.test_task_context import _open, _walk_until

SHOTS = "/tmp/wt16-shots"


def _login(page, base, user):
    user.password_hash = PasswordHasher().hash(PASSWORD)
    db.session.commit()
    page.goto(f"{base}/sign-in")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("main button:has-text('Sign in')")


def test_shots(live_server, browser_page):
    import os
    os.makedirs(SHOTS, exist_ok=True)
    page, base = browser_page, live_server
    run = _walk_until("Task_meeting_action_reporting_manager")
    _login(page, base, run.user("reporting_manager"))
    page.goto(f"{base}/tasks/{_open(run, 'Task_meeting_action_reporting_manager').id}")
    assert_accessible(page)
    page.screenshot(path=f"{SHOTS}/action_task.png", full_page=True)
    page.goto(f"{base}/notifications")
    page.screenshot(path=f"{SHOTS}/notifications.png", full_page=True)
    page.goto(f"{base}/cases/{run.case.reference}")
    page.wait_for_selector("#case-diagram.app-diagram--enhanced .djs-element")
    assert_accessible(page)
    page.screenshot(path=f"{SHOTS}/case.png", full_page=True)
