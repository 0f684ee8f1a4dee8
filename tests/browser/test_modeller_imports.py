"""Other modellers' files in the browser: each MIWG reference model opens in the modeller (bpmn-js) and
in the viewer of the deploy page without errors, a file with several diagrams offers a choice, and
unsafe files are refused with the reason in the page. axe-core checks every page."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.services.modeller import drafts
from tests.browser.forms import assert_accessible
from tests.web.conftest import staff
from tests.web.pages import PASSWORD

DATA = Path(__file__).resolve().parent.parent / "data"
BUNDLED = Path(__file__).resolve().parents[2] / "bpmn"
MIWG = sorted((DATA / "miwg").glob("*.bpmn"))


def sign_in(page, base: str, user) -> None:
    page.goto(f"{base}/sign-in")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("main button:has-text('Sign in')")
    assert_accessible(page)


def open_modeller(page, url: str) -> None:
    page.goto(url)
    page.locator("#modeller-status").filter(has_text=re.compile("open|did not work")).wait_for()
    status = page.inner_text("#modeller-status")
    assert "did not work" not in status, status
    assert page.locator("#modeller .djs-element").count() > 1
    assert_accessible(page)


def open_viewer(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(".app-diagram--enhanced .djs-element")
    assert_accessible(page)


@pytest.fixture
def owner(app_ctx):
    return staff("process_owner", name="Pat Owner")


def test_every_miwg_model_opens_in_the_modeller_and_the_viewer(owner, live_server, browser_page):
    page = browser_page
    sign_in(page, live_server, owner)
    for path in MIWG:
        draft = drafts.import_draft(path.name, path.read_bytes(), owner)
        open_modeller(page, f"{live_server}/processes/drafts/{draft.id}")
        open_viewer(page, f"{live_server}/processes/drafts/{draft.id}/deploy")
    assert [e for e in page.console_errors if "favicon" not in e] == []


@pytest.mark.parametrize("name", ["pipot", "lado", "quarterly_report"])
def test_the_bundled_processes_open_without_a_warning_or_a_flag(owner, live_server, browser_page, name):
    page = browser_page
    sign_in(page, live_server, owner)
    path = BUNDLED / f"{name}.bpmn"
    draft = drafts.import_draft(path.name, path.read_bytes(), owner)
    open_modeller(page, f"{live_server}/processes/drafts/{draft.id}")
    assert page.inner_text("#modeller-status") == "The model is open."  # no warning from the BPMN reader
    assert page.locator(".app-problem").count() == 0  # nothing flagged as a construct the engine cannot run
    assert [e for e in page.console_errors if "favicon" not in e] == []


def test_a_file_with_two_diagrams_offers_a_choice(owner, live_server, browser_page):
    page = browser_page
    sign_in(page, live_server, owner)
    path = DATA / "modeller" / "two_diagrams.bpmn"
    draft = drafts.import_draft(path.name, path.read_bytes(), owner)
    open_modeller(page, f"{live_server}/processes/drafts/{draft.id}")
    assert page.locator("#modeller [data-element-id='Task_call_back']").count() == 0
    page.select_option("#diagram-choice", label="Follow-up")
    page.wait_for_selector("#modeller .djs-element[data-element-id='Task_call_back']")
    assert_accessible(page)


def test_a_file_in_iso_8859_1_keeps_its_letters(owner, live_server, browser_page):
    page = browser_page
    sign_in(page, live_server, owner)
    path = DATA / "modeller" / "latin1.bpmn"
    draft = drafts.import_draft(path.name, path.read_bytes(), owner)
    open_modeller(page, f"{live_server}/processes/drafts/{draft.id}")
    page.select_option("#diagram-choice", label="Follow-up")
    page.wait_for_selector("#modeller .djs-element[data-element-id='Task_call_back']")
    name = page.evaluate("window.appModeller.get('elementRegistry').get('Task_call_back').businessObject.name")
    assert name == "Rückruf für Frau Müller"


def test_an_unsafe_file_is_refused_with_the_reason(owner, live_server, browser_page):
    page = browser_page
    sign_in(page, live_server, owner)
    page.goto(f"{live_server}/processes")
    page.set_input_files("#file", str(DATA / "unsafe" / "xxe_file.bpmn"))
    page.click("main button:has-text('Import as a draft')")
    page.wait_for_selector(".govuk-error-summary")  # the answer has loaded before axe reads it
    assert_accessible(page)
    assert "not read" in page.inner_text(".govuk-error-summary")
    page.set_input_files("#file", str(DATA / "unsafe" / "sandbox_escape_script.bpmn"))
    page.click("main button:has-text('Import as a draft')")
    page.wait_for_selector("#modeller-status")
    page.click("#go-deploy")
    page.wait_for_selector(".govuk-error-summary")
    assert_accessible(page)
    assert "__class__" in page.inner_text(".govuk-error-summary")
    assert page.locator("#deploy").count() == 0

