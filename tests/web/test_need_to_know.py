"""Need to know: only the case team and the pathway's oversight roles see a case; nobody sees a
case about themselves; outsiders get 404 everywhere; every view is in the access log."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AccessLog
from app.services import access, people
from app.services.tasks import human_tasks
from tests.factories import auth
from tests.web.conftest import open_concern, open_task_id, staff

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def oversight(monkeypatch):
    """The test pathway names the head of safeguarding for oversight, as PiPoT does."""
    monkeypatch.setitem(access.OVERSIGHT_ROLES, "concern", {"head_of_safeguarding"})


def _actions(user) -> list[str]:
    return list(db.session.scalars(select(AccessLog.action).where(AccessLog.user_id == user.id).order_by(AccessLog.id)))


def _case_with_document(web, documents_dir):
    reporter, lead = staff(), staff("safeguarding_team")
    case = open_concern(reporter)
    task_id = open_task_id(case, "Triage the concern")
    web.sign_in(lead.username)
    page = web.get(f"/tasks/{task_id}")
    web.submit(page, {"decision": "meeting", "risk_level": "low"}, files={"report-upload": ("report.pdf", PDF)})
    document_id = web.get(f"/cases/{case.reference}").tree.xpath("//a[text()='report.pdf']/@href")[0].rsplit("/", 1)[1]
    return case, lead, int(document_id)


def test_an_outsider_gets_404_for_the_case_its_documents_its_tasks_and_the_api(web, other_web, documents_dir):
    case, _, document_id = _case_with_document(web, documents_dir)
    outsider = staff("people_experience")
    meeting_task = open_task_id(case, "Schedule the meeting")
    other_web.sign_in(outsider.username)
    for url in (f"/cases/{case.reference}", f"/cases/{case.reference}/documents/{document_id}",
                f"/tasks/{meeting_task}", f"/tasks/{meeting_task}/reassign", "/cases/NOPE-2026-0001"):
        assert other_web.get(url, status=404).h1 == "Page not found", url
    token = people.issue_api_token(outsider.username)
    assert other_web.client.get(f"/api/cases/{case.reference}", headers=auth(token)).status_code == 404
    assert other_web.client.get(f"/api/cases/{case.reference}/events", headers=auth(token)).status_code == 404
    assert other_web.client.post(f"/api/tasks/{meeting_task}/claim", headers=auth(token)).status_code == 404
    assert case.reference not in other_web.get("/cases?status=all").words
    assert case.reference not in other_web.get(f"/cases?q={case.reference}&status=all").words


def test_the_team_sees_the_case_and_downloads_its_documents(web, documents_dir):
    case, lead, document_id = _case_with_document(web, documents_dir)
    response = web.client.get(f"/cases/{case.reference}/documents/{document_id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert not list((documents_dir.parent).glob("**/report.pdf"))  # stored under a random name
    assert documents_dir.exists() and "static" not in str(documents_dir)


def test_the_subject_cannot_find_or_open_a_case_about_them(web, oversight):
    subject = staff("safeguarding_team", "head_of_safeguarding", name="Alex Example", staff_number="E1234")
    reporter = staff()
    case = open_concern(reporter, subject_staff_number=" e1234 ")
    task_id = open_task_id(case, "Triage the concern")
    web.sign_in(subject.username)
    assert "Triage the concern" not in web.get("/inbox").words  # not even their role's task
    assert case.reference not in web.get("/cases?q=Alex&status=all").words
    assert web.get(f"/cases/{case.reference}", status=404).h1 == "Page not found"
    assert web.get(f"/tasks/{task_id}", status=404).h1 == "Page not found"
    token = people.issue_api_token(subject.username)
    assert web.client.get(f"/api/cases/{case.reference}", headers=auth(token)).status_code == 404
    assert web.client.get("/api/tasks", headers=auth(token)).json == []
    assert "You have no notifications." in web.get("/notifications").words


def test_someone_added_to_the_team_with_a_reason_can_see_the_case(web, other_web, oversight):
    head, hr = staff("head_of_safeguarding"), staff("people_experience", name="Harper HR")
    case = open_concern(staff())
    other_web.sign_in(hr.username)
    assert other_web.get(f"/cases/{case.reference}", status=404)
    web.sign_in(head.username)
    page = web.get(f"/cases/{case.reference}")
    web.submit(page, {"username": hr.username, "reason": "Advising on suspension"}, form=f"/cases/{case.reference}/team")
    seen = other_web.get(f"/cases/{case.reference}")
    assert seen.h1 == f"Case {case.reference}"
    assert "Harper HR: Advising on suspension" in seen.words
    assert "Added Harper HR to the case team: Advising on suspension" in seen.words


def test_every_view_and_search_is_in_the_access_log_which_oversight_can_read(web, other_web, oversight, documents_dir):
    case, lead, document_id = _case_with_document(web, documents_dir)
    web.get(f"/cases/{case.reference}/documents/{document_id}")
    web.get("/cases?q=Alex")
    assert _actions(lead) == ["view_task", "view_case", "view_document", "search_cases"]
    assert "Who has looked at this case" not in web.get(f"/cases/{case.reference}").words
    head = staff("head_of_safeguarding")
    other_web.sign_in(head.username)
    log = other_web.get(f"/cases/{case.reference}")
    assert "Who has looked at this case" in log.words
    assert "Downloaded report.pdf" in log.words and "Opened a task" in log.words


def test_the_api_view_of_a_case_is_logged_too(web, client):
    reporter, lead = staff(), staff("safeguarding_team")
    case = open_concern(reporter)
    token = people.issue_api_token(lead.username)
    assert client.get(f"/api/cases/{case.reference}", headers=auth(token)).status_code == 200
    assert _actions(lead) == ["view_case"]


def test_a_completed_task_cannot_be_read_by_someone_no_longer_on_the_team(web):
    reporter, lead, other_lead = staff(), staff("safeguarding_team"), staff("safeguarding_team")
    case = open_concern(reporter)
    task_id = open_task_id(case, "Triage the concern")
    human_tasks.complete_task(task_id, lead, {"decision": "meeting", "risk_level": "low"})
    web.sign_in(other_lead.username)
    assert web.get(f"/tasks/{task_id}", status=404).h1 == "Page not found"
