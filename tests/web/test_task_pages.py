"""Task pages: the form from the deployed JSON Schema + UI schema, the case beside it, server-side
validation with an error summary, drafts, repeating groups without JavaScript, and conflicts."""
from __future__ import annotations

from app.services.tasks import human_tasks
from tests.web.conftest import open_concern, open_task_id, staff


def _triage_page(web, lead=None):
    reporter = staff()
    lead = lead or staff("safeguarding_team", name="Sam Lead")
    case = open_concern(reporter)
    task_id = open_task_id(case, "Triage the concern")
    web.sign_in(lead.username)
    return case, task_id, web.get(f"/tasks/{task_id}")


def test_the_task_page_shows_instructions_the_case_and_each_kind_of_field(web):
    case, _, page = _triage_page(web)
    assert page.h1 == "Triage the concern"
    assert "Decide whether a meeting is needed." in page.words
    assert f"Case {case.reference}" in page.words and "Alex Example" in page.words  # the case beside it
    assert "OFFICIAL-SENSITIVE" in page.all_words
    tree = page.tree
    assert [i.get("value") for i in tree.xpath("//input[@name='decision']")] == ["meeting", "no_further_action"]
    assert tree.xpath("//select[@name='risk_level']/option/@value") == ["", "low", "medium", "high"]
    assert tree.xpath("//textarea[@name='notes']")
    assert tree.xpath("//input[@type='file' and @name='report-upload']")
    # the reason sits inside the "No further action" option (conditional reveal)
    assert tree.xpath("//div[contains(@class,'govuk-radios__conditional')]//textarea[@name='nfa_reason']")


def test_errors_are_summarised_linked_to_their_fields_and_answers_kept(web):
    _, task_id, page = _triage_page(web)
    page = web.submit(page, {"decision": "no_further_action", "notes": "Spoke to the ward manager."})
    assert page.title == "Error: Triage the concern – Safeguarding cases"
    assert page.error_summary() == [("Answer 'Why is no further action needed?'.", "#nfa_reason"),
                                    ("Answer 'Risk level'.", "#risk_level")]
    assert {"nfa_reason", "risk_level"} <= page.ids()
    assert page.field("decision") == ["no_further_action"]
    assert page.field("notes") == "Spoke to the ward manager."
    done = web.submit(page, {"nfa_reason": "Not a safeguarding matter.", "risk_level": "low"})
    assert "You completed “Triage the concern”" in done.words
    assert "Triage the concern" not in [link for link in done.links()]  # gone from the inbox


def test_a_hidden_answer_under_an_unchosen_option_is_not_sent(web, app_ctx):
    case, task_id, page = _triage_page(web)
    web.submit(page, {"decision": "meeting", "nfa_reason": "typed then changed my mind", "risk_level": "high"})
    from app.services.cases.records import case_events

    answers = [e.data["answers"] for e in case_events(case) if e.event_type == "task_completed"][-1]
    assert answers == {"decision": "meeting", "risk_level": "high"}


def test_a_draft_is_saved_and_comes_back(web):
    _, task_id, page = _triage_page(web)
    saved = web.submit(page, {"notes": "Half way through"}, button=("_action", "draft"))
    assert "saved as a draft" in saved.words
    assert "Draft saved" in saved.words  # the inbox marks it
    again = web.get(f"/tasks/{task_id}")
    assert "You saved a draft of this task" in again.words
    assert again.field("notes") == "Half way through"


def test_attendees_are_added_and_removed_without_javascript(web):
    reporter, lead, chair = staff(), staff("safeguarding_team"), staff("meeting_chair", name="Chris Chair")
    case = open_concern(reporter)
    human_tasks.complete_task(open_task_id(case, "Triage the concern"), lead, {"decision": "meeting", "risk_level": "high"})
    web.sign_in(chair.username)
    page = web.get(f"/tasks/{open_task_id(case, 'Schedule the meeting')}")
    assert page.h1 == "Schedule the meeting"
    assert page.has_field("attendees-0-name") and not page.has_field("attendees-1-name")
    page = web.submit(page, {"attendees-0-name": "Ann"}, button=("_action", "add:attendees"))
    page = web.submit(page, {"attendees-1-name": "Bob"}, button=("_action", "add:attendees"))
    page = web.submit(page, {"attendees-2-name": "Cat"}, button=("_action", "remove:attendees:1"))
    assert [page.field(f"attendees-{i}-name") for i in range(2)] == ["Ann", "Cat"]
    assert not page.has_field("attendees-2-name")
    assert page.error_summary() == []  # adding and removing is not submitting
    page = web.submit(page, {"meeting_date-day": "1", "meeting_date-month": "12", "meeting_date-year": "2026"})
    assert ("Answer 'Role at the meeting' (attendee 1).", "#attendees-0-role") in page.error_summary()
    done = web.submit(page, {"attendees-0-role": "chair", "attendees-1-role": "hr",
                             "actions-0-action": "Suspend pending investigation", "actions-0-owner": "HR",
                             "actions-0-status": "open"})
    assert "You completed “Schedule the meeting”" in done.words
    case_page = web.get(f"/cases/{case.reference}")
    assert "Suspend pending investigation" in case_page.words  # actions agreed, with their state
    assert "Open" in case_page.words


def test_a_task_completed_by_someone_else_gives_back_what_was_typed_and_names_nobody(web):
    case, task_id, page = _triage_page(web)
    colleague = staff("safeguarding_team", name="Casey Colleague")
    human_tasks.complete_task(task_id, colleague, {"decision": "meeting", "risk_level": "low"})
    result = web.submit(page, {"decision": "no_further_action", "nfa_reason": "All explained", "risk_level": "low",
                               "notes": "My careful notes"}, status=404)
    assert result.h1 == "This task is no longer waiting for you"
    assert "What you typed" in result.words
    assert "My careful notes" in result.words and "All explained" in result.words
    assert "Casey Colleague" not in result.all_words  # no longer theirs: who took it is not said
    assert "Alex Example" not in result.all_words  # nor anything about the case


def test_a_stale_form_keeps_the_answers_and_can_be_sent_again(web):
    case, task_id, page = _triage_page(web)
    changed = page.field("_version")
    result = web.submit(page, {"_version": str(int(changed) - 1), "decision": "meeting", "risk_level": "medium"})
    assert "The case has changed" in result.words
    assert result.field("decision") == ["meeting"] and result.field("risk_level") == "medium"
    assert result.field("_version") == changed
    done = web.submit(result)
    assert "You completed “Triage the concern”" in done.words


def test_a_completed_task_shows_who_completed_it_and_what_was_submitted(web):
    case, task_id, page = _triage_page(web)
    web.submit(page, {"decision": "meeting", "risk_level": "high", "notes": "Seen by the ward sister"})
    done = web.get(f"/tasks/{task_id}")
    assert "Completed by Sam Lead on" in done.words
    assert "What was submitted" in done.words
    assert "What happens next? Hold a meeting" in done.words and "Risk level High" in done.words
    assert not done.tree.xpath("//button[@value='submit']")


def test_submitting_a_task_commits_once_and_the_draft_goes_with_it(web, app_ctx, monkeypatch):
    from sqlalchemy import event, func, select
    from sqlalchemy.orm import Session

    from app.extensions import db
    from app.models import TaskDraft

    _, task_id, page = _triage_page(web)
    web.submit(page, {"notes": "First thoughts"}, button=("_action", "draft"))
    action, values = web.get(f"/tasks/{task_id}").form_data()
    data = {k: v[0] for k, v in values.items() if len(v) == 1} | {"decision": "meeting", "risk_level": "low"}
    commits = []
    # telling people about the next task is a transaction of its own after this one (fanout.py)
    monkeypatch.setitem(app_ctx.config, "NOTIFY_FANOUT", "worker")

    def count_commit(session):
        commits.append(session)

    event.listen(Session, "after_commit", count_commit)
    try:
        sent = web.post(action, data, status=302, follow=False)  # the submission alone, not the page after it
    finally:
        event.remove(Session, "after_commit", count_commit)
    assert sent.status == 302 and len(commits) == 1
    assert db.session.scalar(select(func.count()).select_from(TaskDraft).where(TaskDraft.task_id == task_id)) == 0


def test_when_a_task_is_done_or_cancelled_every_draft_of_it_goes(app_ctx):
    """A draft is only of use while its task is open. Once the task is completed or cancelled, what
    anybody had typed into it goes too (the database does it as the task's status changes: the step
    sends no DELETE of its own); a draft of another task stays."""
    from sqlalchemy import event, func, select

    from app.extensions import db
    from app.models import HumanTask, TaskDraft
    from app.services.tasks.drafts import save_draft

    lead, colleague = staff("safeguarding_team"), staff("safeguarding_team")
    first, second = open_concern(staff()), open_concern(staff())
    done_id, cancelled_id = open_task_id(first, "Triage the concern"), open_task_id(second, "Triage the concern")
    for task_id in (done_id, cancelled_id):
        save_draft(task_id, lead, {"notes": "Half way through"})
        save_draft(task_id, colleague, {"notes": "My thoughts too"})

    def drafts_of(task_id):
        return db.session.scalar(select(func.count()).select_from(TaskDraft).where(TaskDraft.task_id == task_id))

    sent = []
    listener = lambda _c, _cur, statement, *_rest: sent.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        human_tasks.complete_task(done_id, lead, {"decision": "meeting", "risk_level": "low"})
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert not [s for s in sent if s.startswith("DELETE FROM task_draft")], sent
    assert drafts_of(done_id) == 0
    assert drafts_of(cancelled_id) == 2  # the other case's task is still open

    db.session.execute(HumanTask.__table__.update().where(HumanTask.id == cancelled_id).values(status="cancelled"))
    db.session.commit()
    assert drafts_of(cancelled_id) == 0
