"""Deploy validation answers every problem with the element it belongs to."""
from __future__ import annotations

import json

import pytest

from app.calendar import WorkingCalendar
from app.workflow import build_helpers, validate_process

ROLES = {"member of staff", "staff", "safeguarding team", "safeguarding_team"}
GOOD_FORM = json.dumps({"type": "object", "properties": {"a": {"type": "string", "title": "A"}}})


def bpmn(task='', timer='<bpmn:timeDate>working_days_after(referral_at, 1)</bpmn:timeDate>',
         lane_name="Safeguarding team", executable="true", condition="decision == 'yes'",
         script='stage = "Review"', in_lane=True):
    lane_ref = "<bpmn:flowNodeRef>Task_review</bpmn:flowNodeRef>" if in_lane else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D" targetNamespace="x">
  <bpmn:process id="p" isExecutable="{executable}">
    <bpmn:laneSet id="LS"><bpmn:lane id="Lane_team" name="{lane_name}">{lane_ref}</bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Script_1" />
    <bpmn:scriptTask id="Script_1"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="F2" sourceRef="Script_1" targetRef="Task_review" />
    <bpmn:userTask id="Task_review" name="Review">
      <bpmn:extensionElements><spiffworkflow:properties>{task or
        '<spiffworkflow:property name="formJsonSchemaFilename" value="good.schema.json" />'}
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="Timer_deadline" name="Deadline" attachedToRef="Task_review">
      <bpmn:timerEventDefinition id="TD">{timer}</bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="F3" sourceRef="Task_review" targetRef="Gateway_1" />
    <bpmn:exclusiveGateway id="Gateway_1" default="F5" />
    <bpmn:sequenceFlow id="F4" sourceRef="Gateway_1" targetRef="EndEvent_1">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F5" sourceRef="Gateway_1" targetRef="EndEvent_1" />
    <bpmn:sequenceFlow id="F6" sourceRef="Timer_deadline" targetRef="EndEvent_1" />
    <bpmn:endEvent id="EndEvent_1" />
  </bpmn:process>
</bpmn:definitions>""".encode()


def problems(document: bytes, forms=None):
    forms = {"good.schema.json": GOOD_FORM} if forms is None else forms
    _, found = validate_process(document, "model.bpmn", load_form=forms.get, role_names=ROLES,
                                helpers=build_helpers(WorkingCalendar()), max_bytes=1_000_000)
    return [(p.element_id, p.message) for p in found]


def test_a_good_model_has_no_problems():
    assert problems(bpmn()) == []


def test_unparseable_xml():
    [(element, message)] = problems(b"<bpmn:definitions><oops></bpmn:definitions>")
    assert element is None and "not well-formed XML" in message


def test_no_executable_process():
    [(element, message)] = problems(bpmn(executable="false"))
    assert "No executable process" in message


def test_a_user_task_outside_a_lane():
    assert ("Task_review", "User task 'Review' is not in a lane, so nobody would be given it.") in problems(
        bpmn(in_lane=False))


def test_a_lane_that_is_not_a_role():
    [(element, message)] = problems(bpmn(lane_name="Wizards"))
    assert element == "Lane_team" and "Lane 'Wizards' is not a role" in message


@pytest.mark.parametrize("forms, expected", [
    ({}, "Form 'good.schema.json' does not exist in forms/."),
    ({"good.schema.json": "{not json"}, "Form 'good.schema.json' is not valid JSON"),
    ({"good.schema.json": json.dumps({"type": "wibble"})}, "Form 'good.schema.json' is not a valid JSON Schema"),
])
def test_a_missing_or_broken_form(forms, expected):
    [(element, message)] = problems(bpmn(), forms)
    assert element == "Task_review" and message.startswith(expected)


def test_a_task_without_a_form():
    [(element, message)] = problems(bpmn(task='<spiffworkflow:property name="dueDate" value="now()" />'))
    assert element == "Task_review" and "names no form" in message


@pytest.mark.parametrize("timer, expected", [
    ("<bpmn:timeDate>no_such_helper(referral_at)</bpmn:timeDate>", "does not evaluate"),
    ("<bpmn:timeDuration>P3D</bpmn:timeDuration>", "quote a literal value"),
    ('<bpmn:timeDate>"P3D"</bpmn:timeDate>', "is a duration; a timeDate needs a date and time"),
    ('<bpmn:timeDuration>"three days"</bpmn:timeDuration>', "is not a valid ISO 8601 duration"),
    ("<bpmn:timeDate>__import__('os')</bpmn:timeDate>", "'__import__' is not allowed"),
    ("<bpmn:timeDate></bpmn:timeDate>", "has no expression"),
])
def test_timer_expressions_that_do_not_evaluate(timer, expected):
    [(element, message)] = problems(bpmn(timer=timer))
    assert element == "Timer_deadline" and expected in message


def test_a_quoted_duration_is_fine():
    assert problems(bpmn(timer='<bpmn:timeDuration>"PT4H"</bpmn:timeDuration>')) == []


def test_conditions_and_scripts_are_checked_by_the_sandbox():
    found = problems(bpmn(condition="().__class__.__base__.__subclasses__()", script="import os"))
    assert ("F4", "condition: line 1: attribute '__class__' is not allowed") in found
    assert any(element == "Script_1" and "'import' is not allowed" in message for element, message in found)


def test_ids_the_engine_reserves_are_refused():
    document = bpmn().replace(b'"StartEvent_1"', b'"Start"')
    assert ("Start", "The id 'Start' is reserved by the workflow engine; rename the element "
                     "(for example 'StartEvent_1').") in problems(document)


def test_every_problem_is_reported_not_just_the_first():
    found = problems(bpmn(lane_name="Wizards", condition="__import__('os')"), {})
    assert {element for element, _ in found} >= {"Lane_team", "Task_review", "F4"}


def test_a_timer_reading_a_number_of_days_from_the_case_can_be_tried():
    timer = "<bpmn:timeDate>working_days_after(review_started_at, review_cycle_working_days)</bpmn:timeDate>"
    assert problems(bpmn(timer=timer)) == []


PERSON_FORM = json.dumps({"type": "object", "properties": {
    "manager": {"type": "string", "title": "Manager", "format": "person", "x-roles": ["reporting_manager"]},
    "notes": {"type": "string", "title": "Notes"}}})


def _assigned(expression: str) -> bytes:
    return bpmn(task='<spiffworkflow:property name="formJsonSchemaFilename" value="good.schema.json" />'
                     f'<spiffworkflow:property name="assignee" value="{expression}" />')


def test_an_assignee_must_read_a_person_question():
    forms = {"good.schema.json": PERSON_FORM}
    assert problems(_assigned("manager"), forms) == []
    [(element, message)] = problems(_assigned("notes"), forms)
    assert element == "Task_review" and "'notes' is not a person question" in message
    found = problems(_assigned("__import__('os')"), forms)
    assert found and all(element == "Task_review" and message.startswith("assignee:") for element, message in found)


def _with_context(entries: str) -> bytes:
    return bpmn(task='<spiffworkflow:property name="formJsonSchemaFilename" value="good.schema.json" />'
                     f'<spiffworkflow:property name="context" value="{entries}" />')


def test_a_task_context_names_forms_questions_or_linked_cases_of_this_process():
    """What a task page shows beside the form is declared on the task; deploy refuses what the case
    could never have."""
    assert problems(_with_context("good.schema.json, a, linked_cases")) == []
    found = problems(_with_context("missing.schema.json, nothing_asked"))
    assert [element for element, _ in found] == ["Task_review", "Task_review"]
    assert "no task of this process asks the form 'missing.schema.json'" in found[0][1]
    assert "'nothing_asked' is not a question" in found[1][1]


def test_the_bundled_models_declare_a_context_that_deploys():
    from pathlib import Path

    from app.workflow import read_process

    root = Path(__file__).resolve().parents[2]
    forms = {p.name: p.read_text() for p in (root / "forms").glob("*.json")}
    for name in ("pipot.bpmn", "lado.bpmn"):
        document = (root / "bpmn" / name).read_bytes()
        _, found = validate_process(document, name, load_form=forms.get, role_names=ROLES | _roles(root),
                                    helpers=build_helpers(WorkingCalendar()), max_bytes=5_000_000)
        assert [p for p in found if "context" in p.message] == []
    pipot = read_process((root / "bpmn" / "pipot.bpmn").read_bytes(), "pipot.bpmn", max_bytes=5_000_000)
    assert "pipot_referral.schema.json" in pipot.user_tasks["Task_triage"].context
    assert "pipot_referral.schema.json" in pipot.user_tasks["Task_check_referral"].context
    assert "pipot_investigation_report.schema.json" in pipot.user_tasks["Task_outcome_meeting"].context
    assert "linked_cases" in pipot.user_tasks["Task_outcome_meeting"].context
    assert "meeting_action" in pipot.user_tasks["Task_meeting_action_reporting_manager"].context
    lado = read_process((root / "bpmn" / "lado.bpmn").read_bytes(), "lado.bpmn", max_bytes=5_000_000)
    assert "action" in lado.user_tasks["Task_action_lado"].context


def _roles(root) -> set[str]:
    roles = json.loads((root / "bpmn" / "roles.json").read_text())
    items = roles if isinstance(roles, list) else roles.get("roles", [])
    return {str(r.get(k, "")).lower() for r in items for k in ("key", "name")}
