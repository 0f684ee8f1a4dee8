"""The retention pages: the cases due, a legal hold, and a disposal asked for by one manager and
approved by another, after which the case page shows only the tombstone."""
from __future__ import annotations

from datetime import datetime, time, timezone

import time_machine

from app.extensions import db
from app.models import RetentionRecord
from app.services.reporting.retention import flag_due_reviews
from tests.reports.conftest import run_route
from tests.web.conftest import staff


def test_two_managers_dispose_of_a_case_through_the_pages(web, other_web, documents_dir):
    case = run_route("pipot/threshold_not_met_no_further_action").case
    review_on = db.session.get(RetentionRecord, case.id).review_on
    first, second = staff("head_of_safeguarding", name="Pat Lee"), staff("head_of_safeguarding", name="Kim Wells")
    with time_machine.travel(datetime.combine(review_on, time(10), tzinfo=timezone.utc), tick=False):
        flag_due_reviews()
        web.sign_in(first.username)
        listing = web.get("/retention")
        assert case.reference in listing.words and "Due for review" in listing.words
        page = web.get(f"/retention/{case.reference}")
        refused = web.submit(page, {"reason": ""}, form="/request", status=400)
        assert refused.error_summary() == [("Enter why the record can be disposed of", "#reason")]
        held = web.submit(page, {"reason": "A complaint to the ombudsman is open."}, form="/hold")
        assert "Legal hold" in held.words and "Request disposal" not in held.words
        released = web.submit(held, {"reason": "The complaint is closed."}, form="/lift")
        asked = web.submit(released, {"reason": "Retention period over; nothing outstanding."}, form="/request")
        assert "Disposal awaiting approval" in asked.words
        same_person = web.submit(asked, form="/disposal/approve")
        assert "A disposal needs a second person" in same_person.words

        other_web.sign_in(second.username)
        done = other_web.submit(other_web.get(f"/retention/{case.reference}"), form="/disposal/approve")
        assert "The case has been disposed of" in done.words and "Disposed of" in done.words
        case_page = other_web.get(f"/cases/{case.reference}")
        assert "Alex Morgan" not in case_page.words and "Disposed of" in case_page.words


def test_the_auditor_sees_retention_but_has_no_buttons(web):
    case = run_route("pipot/threshold_not_met_no_further_action").case
    web.sign_in(staff("auditor").username)
    page = web.get(f"/retention/{case.reference}")
    assert "Kept" in page.words and page.tree.xpath("//main//form") == []
    assert case.reference in web.get("/retention?status=all").words
