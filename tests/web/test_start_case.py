"""Start a case: any member of staff can send the first form of a pathway; errors are shown
GOV.UK-style with what was typed kept."""
from __future__ import annotations

from tests.web.conftest import deploy, staff

CONCERN = {"subject_name": "Alex Example", "summary": "Shouted at a patient.", "immediate_danger": "false",
           "subject_date_of_birth-day": "3", "subject_date_of_birth-month": "2", "subject_date_of_birth-year": "1980"}


def test_start_page_lists_pathways_that_begin_with_a_form_for_staff(web):
    deploy("web", "concern")
    web.sign_in(staff().username)
    page = web.get("/cases/new")
    assert page.h1 == "Start a case"
    assert "Test concern pathway" in page.words
    assert "Starts with: Raise a concern." in page.words


def test_a_referral_with_mistakes_shows_each_error_and_keeps_the_answers(web):
    deploy("web", "concern")
    web.sign_in(staff().username)
    form = web.get("/cases/new/concern")
    assert form.h1 == "Raise a concern"
    assert "OFFICIAL-SENSITIVE" in form.all_words
    page = web.submit(form, {"subject_name": "Alex Example", "subject_date_of_birth-day": "31",
                             "subject_date_of_birth-month": "2", "subject_date_of_birth-year": "1980"})
    assert page.title.startswith("Error: Raise a concern")
    errors = dict(page.error_summary())
    assert errors == {
        "'Their date of birth' must be a real date, for example 27 3 2026.": "#subject_date_of_birth-day",
        "Answer 'What happened?'.": "#summary",
        "Answer 'Is anyone in immediate danger?'.": "#immediate_danger",
    }
    for target in errors.values():
        assert target[1:] in page.ids()
    assert page.field("subject_name") == "Alex Example"
    assert page.field("subject_date_of_birth-day") == "31"


def test_a_correct_referral_opens_the_case_and_shows_it_to_the_team(web, other_web):
    deploy("web", "concern")
    web.sign_in(staff(name="Rita Reporter").username)
    receipt = web.submit(web.get("/cases/new/concern"), CONCERN)
    assert receipt.h1 == "Your concern has been received"
    reference = receipt.tree.xpath("//div[contains(@class, 'govuk-panel__body')]//strong/text()")[0]
    assert reference.startswith("CONCERN-") and "Alex Example" not in receipt.all_words
    other_web.sign_in(staff("safeguarding_team").username)
    page = other_web.get(f"/cases/{reference}")
    assert page.h1 == f"Case {reference}"
    assert "Alex Example" in page.words
    assert "Triage the concern" in page.words  # the open task, waiting for the safeguarding team
    assert "Triage deadline" in page.words  # the clock now running, and what happens when it runs out
    assert "“Escalation: triage overdue” goes to On-call manager; “Triage the concern” carries on." in page.words
    assert "Completed “Raise a concern”" in page.words
