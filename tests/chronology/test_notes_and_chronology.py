"""Case notes (append-only, corrected by addendum) and the chronology: notes, meetings, decisions,
outcomes and clocks in the order they happened, filterable, printable, for the case team only."""
from __future__ import annotations

from datetime import datetime, timezone

import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.models import AccessLog, AuditEvent
from app.services import people
from app.services.audit import verify_audit
from app.services.cases import lifecycle
from app.services.cases.timers import sweep_timers
from tests.factories import auth
from tests.need_to_know.conftest import CONCERN, person
from tests.need_to_know.test_pipot_route import TRUST_ROLES, _walk_to
from tests.web.pages import WebClient

NOTE = {"happened_at-day": "23", "happened_at-month": "11", "happened_at-year": "2026", "happened_at-time": "09:15",
        "contact_kind": "police", "with_whom": "DC Priya Patel, Northshire Police",
        "what_happened": "Police will not investigate.\nThey asked to be told of the meeting date."}


def _case(org):
    return lifecycle.start_case("pipot", CONCERN | {"case_unit": "care-group-a", "incident_date": "2026-11-20"},
                                org.person("raiser"))


def _web(app, org, who: str) -> WebClient:
    web = WebClient(app, app.test_client())
    web.sign_in(org.person(who).username)
    return web


def _add_note(web, reference: str, changes: dict | None = None):
    page = web.get(f"/cases/{reference}/notes/new")
    return web.submit(page, NOTE | (changes or {}))


def test_a_note_is_added_to_the_chronology_in_the_order_things_happened(app, org):
    case = _case(org)
    web = _web(app, org, "head-of-safeguarding")
    chronology = _add_note(web, case.reference)
    assert chronology.h1 == f"Chronology of case {case.reference}"
    assert "The note has been added to the case." in chronology.all_words
    words = chronology.words
    assert "Contact with the police with DC Priya Patel, Northshire Police" in words
    assert "Police will not investigate." in words
    # The incident (20 Nov, as reported) comes before the note (23 Nov, 09:15), which comes before
    # nothing else: the filter shows notes only after adding one.
    everything = web.get(f"/cases/{case.reference}/chronology").words
    assert everything.index("The incident happened (as reported)") < everything.index("DC Priya Patel")
    assert "Concern raised" in everything or "Completed “Raise a concern”" in everything or "Opened the case" in everything
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                       AuditEvent.event_type == "case_note"))
    assert event.data["with_whom"] == "DC Priya Patel, Northshire Police"
    assert event.data["happened_at"].startswith("2026-11-23T09:15")


def test_a_note_is_corrected_only_by_an_addendum_and_the_chain_stays_intact(app, org):
    case = _case(org)
    web = _web(app, org, "head-of-safeguarding")
    _add_note(web, case.reference)
    seq = db.session.scalar(select(AuditEvent.seq).where(AuditEvent.case_id == case.id,
                                                         AuditEvent.event_type == "case_note"))
    form = web.get(f"/cases/{case.reference}/notes/{seq}/addendum")
    assert "Police will not investigate." in form.words  # the note being corrected is shown
    assert not form.has_field("what_happened")  # the note itself cannot be edited
    empty = web.submit(form, {"addendum": "   "})
    assert empty.error_summary() == [("Enter the correction or addition", "#addendum")]
    after = web.submit(form, {"addendum": "The officer was DC Priya Patil, not Patel."})
    words = after.words
    assert "Addendum by Head Of Safeguarding" in words and "DC Priya Patil, not Patel." in words
    assert "Police will not investigate." in words  # the original stays as written
    assert verify_audit() == []
    web.get(f"/cases/{case.reference}/notes/999/addendum", status=404)  # not a note of this case


def test_a_note_with_answers_missing_or_from_the_future_says_what_to_fix_and_saves_nothing(app, org):
    case = _case(org)
    web = _web(app, org, "head-of-safeguarding")
    blank = web.submit(web.get(f"/cases/{case.reference}/notes/new"), {})
    assert blank.error_summary() == [
        ("Enter the date and time it happened, for example 27 3 2026 and 14:30", "#happened_at-day"),
        ("Select what kind of contact it was", "#contact_kind"),
        ("Enter who it was with", "#with_whom"),
        ("Enter what was said or agreed", "#what_happened")]
    future = _add_note(web, case.reference, {"happened_at-year": "2027"})
    assert future.error_summary() == [("The time it happened must be now or in the past", "#happened_at-day")]
    assert future.field("with_whom") == "DC Priya Patel, Northshire Police"  # what was typed is kept
    count = select(func.count()).select_from(AuditEvent).where(AuditEvent.event_type == "case_note")
    assert db.session.scalar(count) == 0


def test_the_chronology_shows_meetings_decisions_and_clocks_and_filters_by_kind(app, org):
    for role in TRUST_ROLES:
        person(org, role, [(role, "riverside")])
    case = _case(org)
    _walk_to(org, case, "Task_record_meeting_decisions")
    with time_machine.travel(datetime(2026, 12, 21, 10, 0, tzinfo=timezone.utc)):
        sweep_timers("test")  # the review and the actions fall due
    web = _web(app, org, "head-of-safeguarding")
    words = web.get(f"/cases/{case.reference}/chronology").words
    assert "PiPoT meeting held" in words
    assert "Clock ran out" in words
    assert "Clock started" not in words  # the clocks running are on the case page, not in the record
    meetings = web.get(f"/cases/{case.reference}/chronology?show=meeting")
    assert "PiPoT meeting held" in meetings.words and "Clock ran out" not in meetings.words
    decisions = web.get(f"/cases/{case.reference}/chronology?show=decision").words
    assert "PiPoT meeting held" not in decisions and "Clock started" not in decisions
    assert "Is the PiPoT threshold met?Yes" in decisions  # triage, with its rationale
    assert "Alleged physical harm to an adult" in decisions
    assert "Report to the Disclosure and Barring ServiceConsider a referral" in decisions  # the meeting's
    unknown = web.get(f"/cases/{case.reference}/chronology?show=nonsense").words
    assert "Clock ran out" in unknown  # an unknown filter shows everything rather than nothing


def test_the_chronology_is_printable_and_its_views_are_logged(app, org):
    case = _case(org)
    web = _web(app, org, "head-of-safeguarding")
    page = web.get(f"/cases/{case.reference}/chronology")
    assert page.tree.xpath("//link[contains(@href, 'reports.css')]"), "the print stylesheet is loaded"
    assert page.tree.xpath("//button[@data-app-print]")
    assert "OFFICIAL-SENSITIVE" in page.all_words
    assert db.session.scalar(select(func.count()).select_from(AccessLog).where(
        AccessLog.case_id == case.id, AccessLog.action == "view_chronology")) == 1


def test_people_off_the_case_cannot_read_or_write_notes(app, org):
    case = _case(org)
    _add_note(_web(app, org, "head-of-safeguarding"), case.reference)
    seq = db.session.scalar(select(AuditEvent.seq).where(AuditEvent.event_type == "case_note"))
    for who in ("raiser", "subject", "manager-b", "colleague"):
        web = _web(app, org, who)
        web.get(f"/cases/{case.reference}/chronology", status=404)
        web.get(f"/cases/{case.reference}/notes/new", status=404)
        token = web.get("/inbox").tree.xpath("//input[@name='csrf_token']/@value")[0]
        web.post(f"/cases/{case.reference}/notes/new", NOTE | {"csrf_token": token}, status=404)
        web.post(f"/cases/{case.reference}/notes/{seq}/addendum", {"addendum": "x", "csrf_token": token}, status=404)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.event_type.in_(("case_note", "case_note_addendum")))) == 1


def test_a_meeting_has_a_printable_record_with_its_arrangements_attendance_decisions_and_actions(app, org):
    for role in TRUST_ROLES:
        person(org, role, [(role, "riverside")])
    case = _case(org)
    _walk_to(org, case, "Task_record_meeting_decisions")
    web = _web(app, org, "head-of-safeguarding")
    chronology = web.get(f"/cases/{case.reference}/chronology?show=meeting")
    link = chronology.tree.xpath("//a[starts-with(normalize-space(.), 'Meeting record')]/@href")
    assert len(link) == 1
    record = web.get(link[0])
    assert record.h1.startswith("PiPoT meeting held,")
    headings = [h.text_content() for h in record.tree.findall(".//h2")]
    assert headings == ["Arrange the PiPoT meeting", "Record who attended the PiPoT meeting",
                        "Record the PiPoT meeting decisions and actions"]
    words = record.words
    assert "Report to the Disclosure and Barring Service" in words  # a decision
    captions = [c.text_content().strip() for c in record.tree.xpath("//caption")]
    assert captions == ["People invited", "Who attended, apart from the chair", "Actions agreed"]  # as tables
    assert record.tree.xpath("//button[@data-app-print]")
    web.get(f"/cases/{case.reference}/meetings/1", status=404)  # the first event is not a meeting
    outsider = _web(app, org, "manager-b")
    outsider.get(link[0], status=404)


def test_the_api_adds_notes_and_addenda_and_reads_the_chronology_for_the_team_only(app, org, client):
    case = _case(org)
    token = people.issue_api_token(org.person("head-of-safeguarding").username)
    url = f"/api/cases/{case.reference}"
    note = {"happened_at": "2026-11-23T09:15:00+00:00", "contact_kind": "phone_call",
            "with_whom": "Jo Patel, ward manager", "what_happened": "Rota checked: two other shifts."}
    with app.app_context():
        missing = client.post(f"{url}/notes", json=note | {"with_whom": " ", "happened_at": "soon"}, headers=auth(token))
    assert missing.status_code == 422
    assert missing.json["errors"] == {"with_whom": "Enter who it was with",
                                      "happened_at": "Enter the date and time it happened, for example 27 3 2026 and 14:30"}
    with app.app_context():
        added = client.post(f"{url}/notes", json=note, headers=auth(token))
    assert added.status_code == 201 and added.json["with_whom"] == "Jo Patel, ward manager"
    with app.app_context():
        corrected = client.post(f"{url}/notes/{added.json['seq']}/addenda", json={"addendum": "Three shifts."},
                                headers=auth(token))
    assert corrected.status_code == 201
    assert [a["text"] for a in corrected.json["addenda"]] == ["Three shifts."]
    assert corrected.json["text"] == "Rota checked: two other shifts."
    with app.app_context():
        entries = client.get(f"{url}/chronology?show=note", headers=auth(token)).json
    assert [(e["kind"], e["note"]["with_whom"]) for e in entries] == [("note", "Jo Patel, ward manager")]
    for who in ("raiser", "subject", "manager-b", "colleague"):
        outsider = people.issue_api_token(org.person(who).username)
        with app.app_context():
            answers = [client.get(f"{url}/chronology", headers=auth(outsider)),
                       client.post(f"{url}/notes", json=note, headers=auth(outsider)),
                       client.post(f"{url}/notes/{added.json['seq']}/addenda", json={"addendum": "x"},
                                   headers=auth(outsider))]
        assert [a.status_code for a in answers] == [404, 404, 404], who
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.event_type.in_(("case_note", "case_note_addendum")))) == 2
