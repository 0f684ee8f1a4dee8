"""Sessions the server ends, seen in a real browser: the person is told why, on a page axe-core passes."""
from __future__ import annotations

import os

import pytest

from tests.browser.forms import assert_accessible
from tests.web.conftest import staff
from tests.web.pages import PASSWORD

SCREENSHOTS = os.environ.get("SCREENSHOT_DIR")  # set it to keep the pages for a person to look at


def _sign_in(page, base: str, user) -> None:
    page.goto(f"{base}/sign-in")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("main button:has-text('Sign in')")
    assert page.locator("h1").inner_text() == "Your inbox"


def _keep(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


@pytest.fixture
def admin_page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(0)
    context.set_default_navigation_timeout(0)
    yield context.new_page()
    context.close()


def test_a_change_of_roles_signs_the_person_out_and_says_why(live_server, browser_page, admin_page):
    person, admin = staff("safeguarding_team"), staff("system_administrator")
    _sign_in(browser_page, live_server, person)
    _sign_in(admin_page, live_server, admin)
    admin_page.goto(f"{live_server}/admin/users/{person.id}")
    admin_page.uncheck("input[name='roles'][value='safeguarding_team']")
    admin_page.click("main button:has-text('Save changes')")
    assert "The changes have been saved." in admin_page.locator("main").inner_text()
    browser_page.get_by_role("link", name="Cases", exact=True).click()
    assert browser_page.locator("h1").inner_text() == "Sign in"
    assert "You were signed out because your roles changed. Sign in again." in browser_page.locator(
        "main").inner_text()
    assert_accessible(browser_page)
    _keep(browser_page, "signed-out-roles-changed")
    browser_page.fill("#username", person.username)
    browser_page.fill("#password", PASSWORD)
    browser_page.click("main button:has-text('Sign in')")
    assert browser_page.locator("h1").inner_text() == "Cases"  # back where they were going
    assert browser_page.console_errors == []
