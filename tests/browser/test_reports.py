"""The head of safeguarding's reports in Debian's chromium: the dashboard and the cases behind a
figure, the process audit view with its heat map (the bpmn-js viewer with the figures as overlays),
and the governance report with its charts, printed to PDF. axe-core checks every page."""
from __future__ import annotations

import pytest

from tests.browser.forms import assert_accessible
from tests.reports.conftest import run_route
from tests.web.conftest import staff
from tests.web.pages import PASSWORD


@pytest.fixture
def cases(app_ctx):
    """An open PiPoT case with an escalation waiting, and a closed one."""
    open_case = run_route("pipot/meeting_deadline_missed_over_christmas", before="Task_escalate_meeting_head").case
    closed_case = run_route("pipot/threshold_not_met_no_further_action").case
    return open_case, closed_case


def _visit(page, url: str) -> None:
    page.goto(url)
    assert_accessible(page)


def test_the_dashboard_and_the_heat_map(cases, live_server, browser_page):
    page, base = browser_page, live_server
    open_case, closed_case = cases
    head = staff("head_of_safeguarding", name="Pat Lee")
    _visit(page, f"{base}/sign-in")
    page.fill("#username", head.username)
    page.fill("#password", PASSWORD)
    page.click("main button:has-text('Sign in')")
    page.wait_for_url("**/inbox")

    page.click("nav a:has-text('Reports')")
    page.wait_for_url("**/reports")
    assert_accessible(page)
    page.click("main a:has-text('PiPoT dashboard')")
    page.wait_for_url("**/reports/pipot/dashboard")
    assert_accessible(page)
    assert "Open cases you may see: 1" in page.inner_text("main")
    page.locator("main a[href*='figure=escalations']").click()
    page.wait_for_url("**/dashboard/cases?**")
    assert_accessible(page)
    assert page.locator("main table a").all_inner_texts() == [open_case.reference]

    _visit(page, f"{base}/reports/pipot/process")
    page.wait_for_selector("#heat-map-diagram[data-heat-map-ready='true']")
    assert page.locator("#heat-map-diagram .djs-element.app-mark--heat-4").count() >= 1
    badges = page.locator(".app-heat-badge").all_inner_texts()
    assert "fired 1 of 1" in badges and any(text.startswith("2 cases") for text in badges)
    assert_accessible(page)

    _visit(page, f"{base}/reports/pipot/governance?period={_quarter(open_case.opened_at)}")
    assert page.locator("main svg[role='img']").count() >= 3
    page.click("main a:has-text('Printable version')")
    page.wait_for_url("**/governance/print?**")
    assert_accessible(page)
    page.emulate_media(media="print")
    assert not page.locator(".govuk-service-navigation").is_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


def _quarter(moment) -> str:
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"
