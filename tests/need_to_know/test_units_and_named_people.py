"""Need to know by design (issue 14): a role task goes to the holders of the role in the case's unit;
where the procedure names a person, to that person; the person who raised a concern keeps a receipt;
a task id is no key to a case; the subject is excluded however their staff number is written."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, Notification
from app.services.cases import lifecycle
from app.services.tasks import human_tasks
from tests.factories import auth
from tests.need_to_know.conftest import CONCERN
from tests.web.pages import WebClient


def _concern(org, **answers):
    return lifecycle.start_case("pipot", CONCERN | answers, org.person("raiser"))


def _open(case, bpmn_id):
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.bpmn_id == bpmn_id,
                                                     HumanTask.status == "open"))


def _told(user) -> int:
    return len(db.session.scalars(select(Notification).where(Notification.user_id == user.id)).all())


def _web(app, user):
    web = WebClient(app, app.test_client())
    web.sign_in(user.username)
    return web


def test_a_concern_in_care_group_a_reaches_the_managers_of_a_only(app, org):
    case = _concern(org, case_unit="care-group-a")
    first_steps = _open(case, "Task_first_steps")
    assert first_steps.assignee_id is None
    for who in ("manager-a", "manager-a2"):
        assert [t.id for t in human_tasks.list_tasks(org.person(who))] == [first_steps.id]
        assert _told(org.person(who)) == 1
    assert human_tasks.list_tasks(org.person("manager-b")) == [] and _told(org.person("manager-b")) == 0
    _web(app, org.person("manager-b")).get(f"/cases/{case.reference}", status=404)
    _web(app, org.person("manager-b")).get(f"/tasks/{first_steps.id}", status=404)
    assert _web(app, org.person("manager-a")).get(f"/cases/{case.reference}").h1


def test_the_manager_named_on_the_concern_gets_the_first_steps_and_other_managers_see_nothing(app, org):
    case = _concern(org, case_unit="care-group-a", manager_informed=True,
                    reporting_manager=org.person("manager-a2").username)
    first_steps = _open(case, "Task_first_steps")
    assert first_steps.assignee_id == org.person("manager-a2").id
    assert [t.id for t in human_tasks.list_tasks(org.person("manager-a2"))] == [first_steps.id]
    assert human_tasks.list_tasks(org.person("manager-a")) == [] and _told(org.person("manager-a")) == 0
    _web(app, org.person("manager-a")).get(f"/cases/{case.reference}", status=404)
    _web(app, org.person("manager-a")).get(f"/tasks/{first_steps.id}", status=404)


def test_a_person_picker_refuses_someone_who_does_not_hold_the_role(org):
    from app.services.errors import ValidationFailed

    try:
        _concern(org, manager_informed=True, reporting_manager=org.person("colleague").username)
    except ValidationFailed as refused:
        assert set(refused.errors) == {"reporting_manager"}
    else:
        raise AssertionError("a colleague who is not a manager was accepted as the manager told")


def test_the_nurse_director_task_goes_to_the_care_group_of_the_case(org):
    case = _concern(org, case_unit="care-group-b")
    held = {(t.role_key, t.unit_id) for t in db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id))}
    assert ("reporting_manager", case.unit_id) in held
    assert case.unit_id != org.person("manager-a").holdings[-1].unit_id


def test_the_raiser_sees_a_receipt_and_never_the_case(app, org, client):
    web = _web(app, org.person("raiser"))
    form = web.get("/cases/new/pipot")
    answers = {k: ("true" if v is True else "false" if v is False else v) for k, v in CONCERN.items()}
    answers |= {"date_became_aware-day": "23", "date_became_aware-month": "11", "date_became_aware-year": "2026",
                "case_unit": "care-group-a"}
    answers.pop("date_became_aware")
    receipt = web.submit(form, answers)
    assert receipt.h1 == "Your concern has been received"
    reference = receipt.tree.xpath("//div[contains(@class, 'govuk-panel__body')]//strong/text()")[0]
    assert "the trust's safeguarding team" in receipt.words
    assert "Alex Morgan" not in receipt.all_words
    web.get(f"/cases/{reference}", status=404)
    listed = web.get("/cases")
    assert reference in listed.words and "Alex Morgan" not in listed.all_words


def test_the_api_gives_the_raiser_a_receipt_and_refuses_a_case_without_answers(org, client):
    from app.services import people

    token = people.issue_api_token(org.person("raiser").username)
    refused = client.post("/api/cases", json={"pathway": "pipot", "data": None}, headers=auth(token))
    assert refused.status_code == 422
    assert {"subject_name", "allegation_summary"} <= set(refused.json["errors"])
    started = client.post("/api/cases", json={"pathway": "pipot", "data": CONCERN | {"case_unit": "care-group-a"}},
                          headers=auth(token))
    assert started.status_code == 201, started.json
    assert set(started.json) == {"reference", "pathway", "raised_at", "received_by"}
    assert client.get(f"/api/cases/{started.json['reference']}", headers=auth(token)).status_code == 404


def test_the_first_task_is_no_key_to_the_case(app, org, client):
    from app.services import people

    case = _concern(org, case_unit="care-group-a")
    first = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id,
                                                      HumanTask.bpmn_id == "Task_raise_concern"))
    outsider = org.person("colleague")
    web = _web(app, outsider)
    web.get(f"/tasks/{first.id}", status=404)
    token = people.issue_api_token(outsider.username)
    for verb in ("claim", "complete"):
        answer = client.post(f"/api/tasks/{first.id}/{verb}", json={"data": {}} if verb == "complete" else None,
                             headers=auth(token))
        assert answer.status_code == 404
        assert "Raiser" not in answer.get_data(as_text=True)


def test_the_subject_is_left_out_however_the_staff_number_is_written(app, org):
    case = _concern(org, case_unit="care-group-a", subject_staff_number="RD\u00a01234")
    subject = org.person("subject")  # "rd<TAB>1234"
    people_holding = org.person("head-of-safeguarding")
    from app.services import people

    people.set_role_holdings(subject, [("staff", "all"), ("head_of_safeguarding", "riverside")])
    db.session.commit()
    web = _web(app, subject)
    web.get(f"/cases/{case.reference}", status=404)
    assert case.reference not in web.get("/cases").words
    assert case.reference in _web(app, people_holding).get("/cases").words


def test_a_task_nobody_holds_the_role_for_tells_the_administrators(org):
    from app.services import people

    admin = people.create_user("admin-on-duty", "Admin On Duty", ["system_administrator", "staff"])
    people.set_role_holdings(org.person("manager-b"), [("staff", "all")])  # care group B has no manager now
    db.session.commit()
    case = _concern(org, case_unit="care-group-b")
    first_steps = _open(case, "Task_first_steps")
    assert first_steps.assignee_id is None and first_steps.unit_id == case.unit_id
    told = [n.kind for n in db.session.scalars(select(Notification).where(Notification.user_id == admin.id))]
    assert told == ["no_holder"]
    other = _concern(org, case_unit="care-group-a", subject_name="Jo Bloggs")
    assert _open(other, "Task_first_steps") is not None
    assert len(db.session.scalars(select(Notification).where(Notification.user_id == admin.id)).all()) == 1


def test_the_on_call_person_of_another_authority_is_not_given_its_escalations(org):
    from datetime import datetime, timedelta, timezone

    from app.models import OnCallShift
    from app.services.notifications.escalations import route_new_task

    south = org.person("lado-south")
    from app.services import people

    people.set_role_holdings(south, [("staff", "all"), ("lado", "southby-lado"), ("out_of_hours", "southby-lado")])
    now = datetime.now(timezone.utc)
    db.session.add(OnCallShift(role_key="out_of_hours", user_id=south.id, starts_at=now - timedelta(hours=1),
                               ends_at=now + timedelta(hours=8)))
    db.session.commit()
    case = lifecycle.start_case("pipot", CONCERN | {"case_unit": "care-group-a"}, org.person("raiser"))
    task = _open(case, "Task_first_steps")
    task.role_key = "out_of_hours"  # as an escalation to the out-of-hours role of another organisation would be
    said, _record = route_new_task(task)
    assert task.assignee_id != south.id and not said.get("assigned_to")
