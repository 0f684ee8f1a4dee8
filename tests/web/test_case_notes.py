"""Case notes (append-only, corrected by addendum) and the chronology (notes, decisions, meetings,
clocks and outcomes in date order; filterable; printable)."""
from __future__ import annotations

from datetime import datetime, timezone

import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, CaseNote, HumanTask
from app.services import people
from app.services.tasks import human_tasks
from tests.factories import auth
from tests.web.conftest import open_concern, staff

NOON = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)


def _note_page(web, case, lead):
    web.sign_in(lead.username)
    return web.get(f"/cases/{case.reference}/notes/new")


def test_a_note_is_added_shown_in_the_chronology_and_corrected_only_by_addendum(web):
    with time_machine.travel(NOON, tick=False):
        lead = staff("safeguarding_team", name="Sara Lead")
        case = open_concern(staff())
        page = _note_page(web, case, lead)
        assert page.h1 == "Add a case note"
        refused = web.submit(page, {"kind": "police", "happened-day": "9", "happened-month": "12",
                                    "happened-year": "2026"})
        assert dict(refused.error_summary()) == {
            "The date it happened must be today or in the past.": "#happened-day",
            "Enter what was said or done.": "#summary"}
        done = web.submit(refused, {"happened-day": "1", "happened-time": "15:10", "with_whom": "DC Jones, Northshire Police",
                                    "summary": "Police will interview the patient on Friday."})
        assert done.h1 == "Chronology"
        rows = [" ".join(" ".join(r.itertext()).split()) for r in done.tree.xpath("//tr[contains(@class,'app-chronology__row')]")]
        assert rows == ["1 Dec 2026, 15:10 Case notes Contact with the police with DC Jones, Northshire Police "
                        "Police will interview the patient on Friday. Written 2 Dec 2026, 12:00. Correct this note "
                        "of 1 Dec 2026, 15:10 Sara Lead"]
        note = db.session.scalars(select(CaseNote).where(CaseNote.case_id == case.id)).one()
        fix = web.get(f"/cases/{case.reference}/notes/new?corrects={note.id}")
        assert fix.h1 == "Correct a note" and "Police will interview the patient on Friday." in fix.words
        fixed = web.submit(fix, {"happened-day": "2", "happened-month": "12", "happened-year": "2026",
                                 "summary": "The interview is on Thursday, not Friday."})
        assert "Addendum by Sara Lead" in fixed.words and "The interview is on Thursday, not Friday." in fixed.words
        assert "Police will interview the patient on Friday." in fixed.words  # the note itself is unchanged
        assert db.session.get(CaseNote, note.id).summary == "Police will interview the patient on Friday."
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                             AuditEvent.event_type == "case_note_added")).all()
        assert [e.data["corrects"] for e in events] == [None, note.id]


def test_the_chronology_merges_in_date_order_and_filters(web):
    from app.services.tasks import human_tasks
    from tests.web.conftest import open_task_id

    lead = staff("safeguarding_team", "meeting_chair", name="Sara Lead")
    with time_machine.travel(datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc), tick=False):
        case = open_concern(staff())
    with time_machine.travel(NOON, tick=False):
        human_tasks.complete_task(open_task_id(case, "Triage the concern"), lead,
                                  {"decision": "meeting", "risk_level": "high"})
        page = _note_page(web, case, lead)
        web.submit(page, {"kind": "phone_call", "happened-day": "1", "happened-month": "12", "happened-year": "2026",
                          "summary": "Rang the ward manager."})
        everything = web.get(f"/cases/{case.reference}/chronology")
        whats = [" ".join(" ".join(r.xpath(".//td[2]//p[1]")[0].itertext()).split())
                 for r in everything.tree.xpath("//tr[contains(@class,'app-chronology__row')]")]
        assert whats.index("The case was opened") < whats.index("Phone call") < whats.index("Completed “Triage the concern”")
        notes_only = web.get(f"/cases/{case.reference}/chronology?kind=note")
        kinds = notes_only.tree.xpath("//tr[contains(@class,'app-chronology__row')]/@class")
        assert kinds and all("app-chronology__row--note" in k for k in kinds)


def test_notes_are_for_the_case_team_only(web):
    lead, outsider = staff("safeguarding_team"), staff()
    case = open_concern(staff())
    web.sign_in(outsider.username)
    web.get(f"/cases/{case.reference}/chronology", status=404)
    web.get(f"/cases/{case.reference}/notes/new", status=404)
    assert lead  # the team's lead sees it (the other tests)


def test_the_api_adds_notes_and_addenda_and_reads_the_chronology_for_the_team_only(app, app_ctx, client):
    with time_machine.travel(NOON, tick=False):
        lead = staff("safeguarding_team", name="Sara Lead")
        outsider = staff("safeguarding_team", name="Someone Else")
        case = open_concern(staff())
        task = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open")).first()
        human_tasks.claim_task(task.id, lead)  # the lead is on the case's team
        url, token = f"/api/cases/{case.reference}", people.issue_api_token(lead.username)
        note = {"happened_at": "2026-12-01T15:10", "kind": "police", "with_whom": "DC Jones",
                "summary": "Police will interview the patient on Friday."}
        with app.app_context():
            refused = client.post(f"{url}/notes", json=note | {"happened_at": "Friday", "summary": " "},
                                  headers=auth(token))
        assert refused.status_code == 422
        assert set(refused.json["errors"]) == {"happened_at"}  # the date is read first
        with app.app_context():
            future = client.post(f"{url}/notes", json=note | {"happened_at": "2026-12-09", "summary": " "},
                                 headers=auth(token))
        assert future.json["errors"] == {"happened_at": "The date it happened must be today or in the past.",
                                         "summary": "Enter what was said or done."}
        with app.app_context():
            added = client.post(f"{url}/notes", json=note, headers=auth(token))
        assert added.status_code == 201, added.json
        assert added.json["summary"] == note["summary"] and added.json["happened_at"].startswith("2026-12-01T15:10")
        with app.app_context():
            addendum = client.post(f"{url}/notes", json={"happened_at": "2026-12-01T15:10", "kind": "police",
                                                          "summary": "It was DC Jonas.", "corrects": added.json["id"]},
                                   headers=auth(token))
        assert addendum.status_code == 201 and addendum.json["corrects"] == added.json["id"]
        with app.app_context():
            entries = client.get(f"{url}/chronology?kind=note", headers=auth(token)).json
        assert [e["note_id"] for e in entries] == [added.json["id"]]
        other = people.issue_api_token(outsider.username)
        with app.app_context():
            answers = [client.get(f"{url}/chronology", headers=auth(other)),
                       client.post(f"{url}/notes", json=note, headers=auth(other)),
                       client.post(f"{url}/notes", json={"x": 1}, headers=auth(other))]
        assert [a.status_code for a in answers] == [404, 404, 404]
        assert db.session.scalar(select(func.count()).select_from(CaseNote).where(CaseNote.case_id == case.id)) == 2


def _pipot_meeting_route(through: str) -> dict:
    """The PiPoT route up to `through` (included), the meeting arranged for Friday 27 November and,
    the chair being free sooner, held on Thursday 26 November."""
    import json

    from app.scenarios import ROOT

    scenario = json.loads((ROOT / "tests" / "scenarios" / "pipot" / "outcome_substantiated.json").read_text())
    steps = []
    for step in scenario["steps"]:
        if any(key.startswith("expect") for key in step):
            continue
        if step.get("complete") == "Task_arrange_meeting":
            step = step | {"answers": step["answers"] | {"meeting_date": "2026-11-27"}}
        if step.get("advance_to") == "2026-11-25T16:00:00+00:00":
            step = {"advance_to": "2026-11-26T16:00:00+00:00"}
        if step.get("complete") == "Task_record_attendance":
            step = step | {"answers": step["answers"] | {"meeting_held_on": "2026-11-26"}}
        steps.append(step)
        if step.get("complete") == through:
            break
    return scenario | {"steps": steps}


def _meeting_rows(web, run) -> list[str]:
    from tests.web.test_task_context import _signed_in

    _signed_in(web, run, "head_of_safeguarding")
    page = web.get(f"/cases/{run.case.reference}/chronology?kind=meeting")
    return [" ".join(" ".join(r.xpath("./td[1] | ./td[2]//p[1]")[0].itertext()).split()) + " | "
            + " ".join(" ".join(r.xpath(".//td[2]//p[1]")[0].itertext()).split())
            for r in page.tree.xpath("//tr[contains(@class,'app-chronology__row')]")]


def test_the_chronology_gives_a_meeting_not_yet_held_on_its_planned_day_labelled_as_planned(web):
    from app.scenarios import run_steps

    arranged = run_steps(_pipot_meeting_route("Task_arrange_meeting"))
    assert _meeting_rows(web, arranged) == [
        "27 Nov 2026 | Planned: Date of the meeting (recorded in “Arrange the PiPoT meeting”)"]


def test_once_held_the_meeting_is_in_the_chronology_on_the_day_it_was_held_only(web):
    from app.scenarios import run_steps

    held = run_steps(_pipot_meeting_route("Task_record_attendance"))
    assert _meeting_rows(web, held) == [
        "26 Nov 2026 | PiPoT meeting held (recorded in “Record who attended the PiPoT meeting”)"]


def test_an_outcome_amended_at_closure_is_in_the_chronology_from_what_to_what_and_why(web):
    import json

    from app.scenarios import ROOT, run_steps
    from tests.web.test_task_context import _signed_in

    scenario = json.loads((ROOT / "tests" / "scenarios" / "pipot" / "outcome_amended_at_closure.json").read_text())
    run = run_steps(scenario | {"steps": [s for s in scenario["steps"] if not any(k.startswith("expect") for k in s)]})
    _signed_in(web, run, "head_of_safeguarding")
    page = web.get(f"/cases/{run.case.reference}/chronology?kind=outcome")
    rows = [" ".join(" ".join(r.itertext()).split()) for r in page.tree.xpath("//tr[contains(@class,'app-chronology__row')]")]
    amended = [row for row in rows if "Outcome amended" in row]
    assert len(amended) == 1, rows
    assert "Amended 'Overall outcome' from Substantiated to Unsubstantiated" in amended[0]
    assert "Why: The police disclosed CCTV after the outcome meeting: it does not show the incident." in amended[0]


def test_the_chronology_says_what_each_review_decided_next(web):
    import json

    from app.scenarios import ROOT, run_steps
    from tests.web.test_task_context import _signed_in

    scenario = json.loads((ROOT / "tests" / "scenarios" / "lado" / "pot_meeting_substantiated.json").read_text())
    steps = [s for s in scenario["steps"] if not any(k.startswith("expect") for k in s)]
    run = run_steps(scenario | {"steps": steps[:next(i for i, s in enumerate(steps) if s.get("complete") == "Task_interim_pot_meeting")]})
    _signed_in(web, run, "lado")
    page = web.get(f"/cases/{run.case.reference}/chronology?kind=decision")
    rows = [" ".join(" ".join(r.itertext()).split()) for r in page.tree.xpath("//tr[contains(@class,'app-chronology__row')]")]
    [review] = [row for row in rows if "Review the police and internal investigations" in row]
    assert "What happens next?: Call an interim POT meeting" in review


def test_the_chronology_says_whether_the_dbs_referral_was_agreed_and_made(web):
    import json

    from app.scenarios import ROOT, run_steps
    from tests.web.test_task_context import _signed_in

    scenario = json.loads((ROOT / "tests" / "scenarios" / "lado" / "pot_meeting_substantiated.json").read_text())
    run = run_steps(scenario | {"steps": [s for s in scenario["steps"] if not any(k.startswith("expect") for k in s)]})
    _signed_in(web, run, "lado_manager")
    page = web.get(f"/cases/{run.case.reference}/chronology?kind=decision")
    rows = [" ".join(" ".join(r.itertext()).split()) for r in page.tree.xpath("//tr[contains(@class,'app-chronology__row')]")]
    [final] = [row for row in rows if "Completed “Chair the final meeting" in row]
    assert "Should the person be referred to the Disclosure and Barring Service?: Yes" in final
    [made] = [row for row in rows if "Completed “Make the DBS and regulator referrals”" in row]
    assert "Has the DBS referral been made?: Yes" in made and "Has the regulator referral been made?: Yes" in made
