"""Walking a case in the browser as the people on it would: signing in and out, opening a task from
the inbox, submitting it, and answering a long form a section at a time. axe-core checks every page."""
from __future__ import annotations

import os
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

from app.services.runtime import get_calendar
from tests.browser.forms import assert_accessible, fill_form
from tests.web.pages import PASSWORD


def working_morning() -> datetime:
    """10:00 on the next working day: the walk happens in business hours, whenever the suite runs."""
    calendar = get_calendar()
    day = calendar.local(datetime.now(timezone.utc)).date() + timedelta(days=1)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, time(10, 0), tzinfo=calendar.zone)


def shoot(page, name: str) -> None:
    """A full-page screenshot into $SCREENSHOTS (when set), to look at the pages as a person would."""
    if os.environ.get("SCREENSHOTS"):
        folder = Path(os.environ["SCREENSHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def visit(page, url: str):
    page.goto(url)
    assert_accessible(page)


def sign_in(page, base: str, user) -> None:
    visit(page, f"{base}/sign-in")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("main button:has-text('Sign in')")
    assert page.locator("h1").inner_text() == "Your inbox"
    assert_accessible(page)


def sign_out(page) -> None:
    page.click("button:has-text('Sign out')")
    assert_accessible(page)


def open_task(page, title: str) -> None:
    page.locator("main table a", has_text=title).first.click()
    assert page.locator("h1").inner_text() == title
    assert_accessible(page)


def submit(page, expect: str) -> None:
    page.click("main button[value='submit']:visible")
    assert_accessible(page)
    assert expect in page.locator("main").inner_text(), page.locator("main").inner_text()[:1500]


def answer_task(page, answers: dict) -> None:
    """Answer the task's form: a section at a time when it is a long one; questions the page does not
    ask (who did it comes from the sign-in) are left to it."""
    if page.locator(".govuk-task-list__item a").count():
        answer_in_sections(page, answers)
    else:
        fill_form(page, {key: value for key, value in answers.items() if _asked_here(page, key)})


def answer_in_sections(page, answers: dict, shot: str = "") -> list[str]:
    """Open each section of a long form from its task list, answer the questions on that page (what
    the case carried forward is kept where `answers` is silent), save and continue; the section titles."""
    titles = page.locator(".govuk-task-list__item a").all_inner_texts()
    assert titles, "the form is not in sections"
    if shot:
        shoot(page, f"{shot}-sections")
    for number, title in enumerate(titles):
        page.locator(".govuk-task-list__item a", has_text=title).click()
        assert_accessible(page)
        if shot and number == 1:
            shoot(page, f"{shot}-section-2")
        fill_form(page, {key: value for key, value in answers.items() if _asked_here(page, key)})
        page.click("main button[value='section']:visible")
        assert_accessible(page)
        assert f"“{title}” is saved" in page.locator("main").inner_text(), page.locator("main").inner_text()[:1500]
    statuses = page.locator(".govuk-task-list__status").all_inner_texts()
    assert [s.strip() for s in statuses] == ["Completed"] * len(titles)
    return titles


def _asked_here(page, key: str) -> bool:
    return page.locator(f"[name='{key}'], [name='{key}-day'], [name^='{key}-0-'], "
                        f"button[value='add:{key}']").count() > 0
