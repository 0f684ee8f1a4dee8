"""The LADO pathway model (`bpmn/lado.bpmn`) and its forms (`forms/lado_*.json`).

Two halves:

* the model's conventions (bpmn/README.md): lanes are roles, every user task has a valid form and
  instructions, every flow node has DI, splits only through gateways, expressions only read case
  data and the approved helpers, and the POT meeting form carries every agenda item of the county
  council guidance (seed 000);
* every route of issue 4 run end to end on SpiffWorkflow itself, with stand-ins for the helpers
  (`working_days_after`, `working_days_between`, `now`, `is_out_of_hours`, ...) and time moved
  with time-machine. Every answer given to a user task is first validated against its form, so the
  forms and the model cannot drift apart.
"""
from __future__ import annotations

import ast
import builtins
import json
import re
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

ROOT = Path(__file__).resolve().parents[2]
BPMN_FILE = ROOT / "bpmn" / "lado.bpmn"
FORMS = ROOT / "forms"
SEED = ROOT.parent / "shared" / "seeds" / "000_a52250698502df9e.txt"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
LANES = {"Member of staff", "Employer case manager", "LADO", "LADO manager", "Police", "Children's social care",
         "HR adviser", "Designated or named nurse", "Out of hours", "Director on call"}
FLOW_NODE_TAGS = ("startEvent", "endEvent", "intermediateThrowEvent", "intermediateCatchEvent", "boundaryEvent",
                  "userTask", "scriptTask", "exclusiveGateway", "parallelGateway", "inclusiveGateway", "subProcess")
ENGINE_FIELDS = {"case_reference", "case_opened_at", "out_of_hours"}   # set by the engine on every case
UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")


# ====================================================================== helper stand-ins
# England and Wales bank holidays in the period the scenarios run through.
BANK_HOLIDAYS = {date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 4), date(2026, 5, 25), date(2026, 8, 31),
                 date(2026, 12, 25), date(2026, 12, 28), date(2027, 1, 1), date(2027, 3, 26), date(2027, 3, 29)}


def _when(value) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif len(value) == 10:                                   # a date: 09:00 that day in London
        moment = datetime.combine(date.fromisoformat(value), time(9), LONDON)
    else:
        moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _working(day: date) -> bool:
    return day.weekday() < 5 and day not in BANK_HOLIDAYS


def working_days_after(when, n) -> str:
    day = _when(when).astimezone(LONDON).date()
    counted = 0
    while counted < int(n):
        day += timedelta(days=1)
        counted += _working(day)
    while not _working(day):
        day += timedelta(days=1)
    return datetime.combine(day, time(17), LONDON).astimezone(UTC).isoformat()


def working_days_between(start, end) -> int:
    day, last = _when(start).astimezone(LONDON).date(), _when(end).astimezone(LONDON).date()
    counted = 0
    while day < last:
        day += timedelta(days=1)
        counted += _working(day)
    return counted


def now() -> str:
    return datetime.now(UTC).isoformat()


def today() -> str:
    return datetime.now(UTC).astimezone(LONDON).date().isoformat()


def hours_after(when, hours) -> str:
    return (_when(when) + timedelta(hours=float(hours))).isoformat()


def is_out_of_hours(when=None) -> bool:
    local = _when(when or now()).astimezone(LONDON)
    return not _working(local.date()) or not time(9) <= local.time() < time(17)


HELPERS = {"now": now, "today": today, "working_days_after": working_days_after, "hours_after": hours_after,
           "is_out_of_hours": is_out_of_hours, "working_days_between": working_days_between}
ALLOWED_BUILTINS = {"len", "min", "max", "any", "all", "sorted", "str", "int", "bool", "dict", "list", "set", "abs",
                    "round", "sum", "isinstance", "range", "enumerate", "zip", "None", "True", "False"}


# ====================================================================== the model
@pytest.fixture(scope="module")
def xml():
    return etree.fromstring(BPMN_FILE.read_bytes())


@pytest.fixture(scope="module")
def parsed():
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(BPMN_FILE.read_bytes())
    return parser, parser.get_spec("lado"), parser.get_subprocess_specs("lado")


@pytest.fixture(scope="module")
def roles():
    return json.loads((ROOT / "bpmn" / "roles.json").read_text(encoding="utf-8"))


def _user_tasks(xml):
    return xml.findall(".//bpmn:userTask", NS)


def _properties(task) -> dict:
    return {p.get("name"): p.get("value") for p in task.iterfind(".//spiffworkflow:property", NS)}


def _form(name: str) -> dict:
    return json.loads((FORMS / name).read_text(encoding="utf-8"))


def _form_of(xml, task_id: str) -> dict:
    task = xml.find(f".//bpmn:userTask[@id='{task_id}']", NS)
    return _form(_properties(task)["formJsonSchemaFilename"])


def _lane_of(xml) -> dict[str, str]:
    return {ref.text: ref.getparent().get("name") for ref in xml.iterfind(".//bpmn:flowNodeRef", NS)}


def _schemas():
    return sorted(FORMS.glob("lado_*.schema.json"))


def _subschemas(schema):
    """Every object schema inside a form (properties, items, if/then, allOf...)."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "properties" in node:
                yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def test_the_file_is_one_executable_process_in_the_spiff_dialect(xml, parsed):
    processes = xml.findall("bpmn:process", NS)
    assert [(p.get("id"), p.get("isExecutable")) for p in processes] == [("lado", "true")]
    assert xml.nsmap["spiffworkflow"] == NS["spiffworkflow"]
    participants = xml.findall("bpmn:collaboration/bpmn:participant", NS)
    assert [p.get("processRef") for p in participants] == ["lado"]
    parser, spec, subprocess_specs = parsed
    assert spec.name == "lado"
    assert set(subprocess_specs) == {"SubProcess_allegation_management", "SubProcess_actions_and_reviews",
                                     "SubProcess_agreed_actions", "SubProcess_action_work",
                                     "SubProcess_investigation_reviews"}


def test_every_lane_is_a_role_of_the_role_table(xml, roles):
    names = {r["name"].lower() for r in roles} | {r["key"].lower() for r in roles}
    lanes = [lane.get("name") for lane in xml.iterfind(".//bpmn:lane", NS)]
    assert set(lanes) == LANES and len(lanes) == len(LANES)
    assert all(lane.lower() in names for lane in lanes)


def test_every_lane_has_work_in_it(xml):
    tasks_by_lane = {}
    for task_id, lane in _lane_of(xml).items():
        if xml.find(f".//bpmn:userTask[@id='{task_id}']", NS) is not None:
            tasks_by_lane.setdefault(lane, []).append(task_id)
    assert set(tasks_by_lane) == LANES


def test_every_user_task_has_a_lane_a_form_and_instructions(xml, parsed):
    lane_of = _lane_of(xml)
    _, spec, subprocess_specs = parsed
    spiff_lanes = {ts.bpmn_id: ts.lane for s in [spec, *subprocess_specs.values()] for ts in s.task_specs.values()}
    for task in _user_tasks(xml):
        task_id, props = task.get("id"), _properties(task)
        assert lane_of.get(task_id) in LANES, task_id
        assert spiff_lanes[task_id] == lane_of[task_id], f"SpiffWorkflow puts {task_id} in another lane"
        assert (FORMS / props["formJsonSchemaFilename"]).is_file(), task_id
        assert props["formJsonSchemaFilename"].startswith("lado_")
        if "formUiSchemaFilename" in props:
            assert (FORMS / props["formUiSchemaFilename"]).is_file(), task_id
        instructions = task.findtext(".//spiffworkflow:instructionsForEndUser", "", NS).strip()
        assert len(instructions) > 40, task_id


def test_the_first_user_task_is_the_referral_in_the_member_of_staff_lane(xml):
    start = xml.find(".//bpmn:process/bpmn:startEvent[@id='StartEvent_contact']", NS)
    first = xml.find(f".//bpmn:sequenceFlow[@sourceRef='{start.get('id')}']", NS).get("targetRef")
    assert first == "Task_contact"
    assert _lane_of(xml)[first] == "Member of staff"
    assert _properties(xml.find(".//bpmn:userTask[@id='Task_contact']", NS))["formJsonSchemaFilename"] == \
        "lado_referral.schema.json"


CLOCKED_TASKS = {
    "Task_record_consultation": "working_days_after(contact_received_at, 1)",
    "Task_review_linked_referral": "working_days_after(referral_received_at, 1)",
    "Task_initial_response": "working_days_after(referral_received_at, 1)",
    "Task_threshold_decision": "threshold_decision_due_at",  # 1 working day from the referral, or from a re-decision
    "Task_action_police": "working_days_after(action['due_date'], 0)",
    "Task_investigation_review": "working_days_after(review_due_at, 1)",
    "Task_interim_pot_meeting": "working_days_after(next_meeting_date, 0)",
}


def test_tasks_with_a_clock_have_a_due_date_and_escalations_are_flagged(xml):
    tasks = {t.get("id"): _properties(t) for t in _user_tasks(xml)}
    for task_id, due in CLOCKED_TASKS.items():
        assert tasks[task_id]["dueDate"] == due
    flagged = {task_id for task_id, props in tasks.items() if props.get("escalation") == "true"}
    assert flagged == {"Task_escalation_initial_response_manager", "Task_escalation_initial_response_ooh",
                       "Task_escalation_initial_response_director", "Task_action_overdue",
                       "Task_escalation_threshold_decision_manager", "Task_escalation_threshold_decision_director"}
    timer = xml.find(".//bpmn:boundaryEvent[@id='Timer_initial_response']", NS)
    assert timer.get("attachedToRef") == "Task_initial_response" and timer.get("cancelActivity") == "false"
    assert timer.findtext(".//bpmn:timeDate", None, NS) == "working_days_after(referral_received_at, 1)"


@pytest.mark.parametrize("path", _schemas(), ids=lambda p: p.name)
def test_each_form_is_a_valid_schema_with_titles_and_known_required_fields(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"], "a form asks for something"
    properties = schema["properties"]
    for node in _subschemas(schema):
        for name, prop in node["properties"].items():
            if node is schema or "type" in prop:
                assert prop.get("title"), f"{path.name}: {name} has no title"
        for name in node.get("required", []):
            assert name in properties or name in node["properties"], f"{path.name}: {name} is required but unknown"
    for branch in schema.get("allOf", []):
        for name in branch["then"]["required"] + list(branch["if"]["properties"]):
            assert name in properties, f"{path.name}: condition names unknown field {name}"
    text = path.read_text(encoding="utf-8")
    for american in ("organization", "behavior", "authorized", "center\"", " color"):
        assert american not in text.lower(), f"{path.name}: write British English ({american})"


@pytest.mark.parametrize("path", _schemas(), ids=lambda p: p.name)
def test_a_required_answer_cannot_be_blank(path):
    """The web forms leave a blank answer out (so that `required` catches it): a required text must have a
    minimum length and a required list at least one item, or the question could never be answered blank
    and could not be skipped either. Lists that may be empty are optional instead."""
    schema = json.loads(path.read_text(encoding="utf-8"))
    for node in _subschemas(schema):
        required = set(node.get("required", []))
        for branch in node.get("allOf", []):
            required |= set(branch["then"]["required"])
        for name in required & set(node["properties"]):
            prop = node["properties"][name]
            if prop.get("type") == "string" and "oneOf" not in prop and "format" not in prop:
                assert prop.get("minLength", 0) >= 1, f"{path.name}: {name}"
            if prop.get("type") == "array":
                assert prop.get("minItems", 0) >= 1, f"{path.name}: {name}"


@pytest.mark.parametrize("path", sorted(FORMS.glob("lado_*.uischema.json")), ids=lambda p: p.name)
def test_each_ui_schema_lays_out_fields_of_its_form(path):
    ui = json.loads(path.read_text(encoding="utf-8"))
    schema = _form(path.name.replace(".uischema.json", ".schema.json"))
    assert set(ui["ui:order"]) == set(schema["properties"])
    for section in ui.get("ui:sections", []):  # a long form asked a section at a time
        assert set(section["fields"]) <= set(schema["properties"]), f"{path.name}: {section['title']}"
    for name, options in ui.items():
        if name in ("ui:order", "ui:sections"):
            continue
        assert name in schema["properties"], f"{path.name}: {name}"
        reveal = options.get("ui:reveal")
        if reveal:
            assert reveal["field"] in schema["properties"]


def test_every_flow_node_and_flow_is_drawn(xml):
    shapes = {s.get("bpmnElement"): s for s in xml.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in xml.iterfind(".//bpmndi:BPMNEdge", NS)}
    plane = xml.find(".//bpmndi:BPMNPlane", NS)
    assert plane.get("bpmnElement") == xml.find("bpmn:collaboration", NS).get("id")
    nodes = [n.get("id") for tag in FLOW_NODE_TAGS for n in xml.iterfind(f".//bpmn:{tag}", NS)]
    assert len(nodes) > 80
    for element_id in nodes + ["Participant_lado"] + [lane.get("id") for lane in xml.iterfind(".//bpmn:lane", NS)]:
        assert element_id in shapes, f"{element_id} has no shape"
    for flow in xml.iterfind(".//bpmn:sequenceFlow", NS):
        assert len(edges[flow.get("id")].findall("di:waypoint", NS)) >= 2, flow.get("id")


def test_the_diagram_reads_left_to_right(xml):
    def left(element_id):
        bounds = xml.find(f".//bpmndi:BPMNShape[@bpmnElement='{element_id}']/*", NS)
        return float(bounds.get("x"))
    path = ["StartEvent_contact", "Task_contact", "Task_initial_response", "Task_threshold_decision",
            "Task_convene_pot_meeting", "Task_pot_meeting", "SubProcess_allegation_management",
            "Task_final_pot_meeting", "Task_case_closure", "EndEvent_case_closed"]
    assert [left(e) for e in path] == sorted(left(e) for e in path)


def test_splits_only_through_gateways(xml):
    for element in xml.iter():
        tag = etree.QName(element).localname
        if tag in FLOW_NODE_TAGS and not tag.endswith("Gateway"):
            outgoing = xml.findall(f".//bpmn:sequenceFlow[@sourceRef='{element.get('id')}']", NS)
            assert len(outgoing) <= 1, element.get("id")


def test_ids_are_readable(xml):
    node = re.compile(r"^(Task|Script|Gateway|StartEvent|EndEvent|Event|Timer|Boundary|SubProcess)_[a-z0-9_]+$")
    for tag in FLOW_NODE_TAGS:
        for element in xml.iterfind(f".//bpmn:{tag}", NS):
            assert node.match(element.get("id")), element.get("id")
    other = re.compile(r"^(Flow|Lane|Participant|Collaboration|Message|MessageEventDefinition|TimerEventDefinition|"
                       r"Escalation|EscalationEventDefinition|LaneSet|Definitions|BPMNDiagram|BPMNPlane|Task|Script|"
                       r"Gateway|StartEvent|EndEvent|Event|Timer|Boundary|SubProcess)_[A-Za-z0-9_]+$")
    data_items = {"action", "action_result", "actions", "action_results", "lado"}
    for element in xml.iter():
        element_id = element.get("id")
        if element_id and element_id not in data_items:
            assert other.match(element_id), element_id


# ---------------------------------------------------------------------- expressions
def _expressions(xml):
    """(element id, source, mode) for every condition, script, timer, due date, loop and payload."""
    for flow in xml.iterfind(".//bpmn:sequenceFlow", NS):
        condition = flow.findtext("bpmn:conditionExpression", None, NS)
        if condition:
            yield flow.get("id"), condition, "eval"
    for task in xml.iterfind(".//bpmn:scriptTask", NS):
        yield task.get("id"), task.findtext("bpmn:script", "", NS), "exec"
    for tag in ("timeDate", "timeDuration", "timeCycle", "loopCondition"):
        for element in xml.iterfind(f".//bpmn:{tag}", NS):
            yield tag, element.text, "eval"
    for element in xml.iterfind(".//spiffworkflow:messagePayload", NS):
        yield "messagePayload", element.text, "eval"
    for task in _user_tasks(xml):
        if "dueDate" in _properties(task):
            yield task.get("id"), _properties(task)["dueDate"], "eval"


def _known_fields(xml):
    fields = set(ENGINE_FIELDS)
    for path in _schemas():
        fields |= set(json.loads(path.read_text(encoding="utf-8"))["properties"])
    for _, source, mode in _expressions(xml):
        if mode == "exec":
            fields |= {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)
                       and isinstance(n.ctx, ast.Store)}
    fields |= {item.get("id") for item in xml.iterfind(".//bpmn:inputDataItem", NS)}
    fields |= {item.get("id") for item in xml.iterfind(".//bpmn:outputDataItem", NS)}
    fields |= {v.text for v in xml.iterfind(".//spiffworkflow:messageVariable", NS)}
    fields |= {ref.text for ref in xml.iterfind(".//bpmn:loopDataOutputRef", NS)}  # a multi-instance's results
    return fields


def test_expressions_read_only_case_data_and_the_helpers(xml):
    known = _known_fields(xml) | set(HELPERS) | ALLOWED_BUILTINS
    for element_id, source, mode in _expressions(xml):
        tree = ast.parse(source.strip() if mode == "eval" else source, mode=mode)
        bound = {n.id for c in ast.walk(tree) if isinstance(c, ast.comprehension) for n in ast.walk(c.target)
                 if isinstance(n, ast.Name)}
        for node in ast.walk(tree):
            assert not isinstance(node, (ast.Import, ast.ImportFrom, ast.Lambda, ast.FunctionDef, ast.Try,
                                         ast.While)), element_id
            if isinstance(node, ast.Attribute):
                assert node.attr in {"get", "strip", "items"}, f"{element_id}: .{node.attr}"
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                assert node.id in known or node.id in bound, f"{element_id} reads unknown name {node.id!r}"
                assert node.id not in set(dir(builtins)) - ALLOWED_BUILTINS, f"{element_id}: {node.id}"
    assert not set(HELPERS) & (_known_fields(xml) - ENGINE_FIELDS), "a field would hide a helper"


# ---------------------------------------------------------------------- the seed
# Every agenda item of the county council guidance on POT meetings, and the fields that record it.
AGENDA_ITEMS = {
    "Address the scope of the investigation": ["scope_of_investigation", "other_children_at_risk"],
    "Consider whether any parallel disciplinary process": ["parallel_disciplinary_process",
                                                           "information_sharing_protocol"],
    "Consider the current allegation in the context of any previous": ["previous_allegations_considered"],
    "Where appropriate, take account of any entitlement by staff to use reasonable force": [
        "reasonable_force_considered"],
    "Consider whether a complex abuse investigation": ["complex_abuse_investigation"],
    "Plan enquiries if needed, allocate tasks, and set timescales": ["enquiries_planned", "actions"],
    "Decide what information can be shared with whom and when": ["information_sharing_decisions"],
    "Ensure that the child/ren involved and or affected are safeguarded": [
        "children_safeguarded", "emergency_action_needed", "front_door_referral_needed"],
    "Consider what support should be provided to all children": ["support_for_children"],
    "Consider what support should be provided to the member of staff and others": [
        "support_for_staff_member", "support_for_others", "progress_updates_arrangements"],
    "Ensure that investigations are sufficiently independent": ["investigation_independence"],
    "Make recommendations where appropriate regarding suspension": ["suspension_recommendation"],
    "Identify a lead contact manager within each agency": ["lead_contacts"],
    "Agree protocols for reviewing investigations and monitoring progress": [
        "review_protocol", "review_cycle_working_days"],
    "Consider issues for the attention of senior management": [
        "senior_management_issues", "media_interest", "resource_implications"],
    "Consider reports for consideration for barring": ["barring_consideration"],
    "Consider risk assessments to inform the employer": ["risk_assessment"],
    "Agree dates for future meetings/discussions": ["next_meeting_date"],
}
MEETING_PARAGRAPHS = {
    "attendance": ["chaired_by_lado", "attendees", "police_attended", "social_care_attended", "employer_attended",
                   "hr_adviser_invited", "designated_nurse_invited"],
    "confidentiality": ["confidentiality_agreed"],
    "informing the member of staff and the parents": [
        "staff_member_informed_by", "staff_member_information", "parents_informed_by", "parents_information",
        "information_sharing_stages"],
    "cross-authority joint meeting": ["joint_meeting", "other_authority_attended"],
    "closely associated person": ["capacity_to_protect", "protection_measures", "role_compromised"],
}


def _seed_bullets(start: str, end: str) -> list[str]:
    text = SEED.read_text(encoding="utf-8")
    block = text[text.index(start):text.index(end)]
    lines = [line.strip() for line in block.splitlines()]
    return [" ".join(line.lstrip("·•").split()) for line in lines if line[:1] in ("·", "•")]


def test_every_agenda_item_of_the_seed_is_a_field_of_the_meeting_form():
    meeting = _form("lado_pot_meeting.schema.json")
    for item, fields in {**AGENDA_ITEMS, **MEETING_PARAGRAPHS}.items():
        for name in fields:
            assert name in meeting["properties"], f"{item}: {name}"
    required = set(meeting["required"])
    for item, fields in AGENDA_ITEMS.items():
        assert fields[0] in required, f"agenda item '{item}' must be answered"


@pytest.mark.skipif(not SEED.exists(), reason="the seed documents are not checked out next to the repository")
def test_the_agenda_table_covers_every_bullet_of_the_seed():
    bullets = _seed_bullets("The meeting should:", "It is vital")
    assert len(bullets) == 18
    for bullet in bullets:
        assert any(bullet.replace("’", "'").startswith(key) for key in AGENDA_ITEMS), bullet
    assert len(AGENDA_ITEMS) == len(bullets)


@pytest.mark.skipif(not SEED.exists(), reason="the seed documents are not checked out next to the repository")
def test_the_seed_lists_are_the_forms_lists():
    circumstances = _seed_bullets("under the following circumstances", "The harm threshold")
    reasons = [o["title"] for o in _form("lado_convene_pot_meeting.schema.json")["properties"]
               ["pot_meeting_reason"]["oneOf"]]
    assert [c.rstrip(".") for c in circumstances] == reasons
    limbs = _seed_bullets("The harm threshold is", "Meetings should not")
    threshold = _form("lado_threshold_decision.schema.json")["properties"]
    assert len(limbs) == len([k for k in threshold if k.startswith("limb_")]) == 4
    considerations = _seed_bullets("the POT meeting should consider", "Outcome/Subsequent")
    assert len(considerations) == 3
    outcomes = {o["const"] for o in _form("lado_final_meeting.schema.json")["properties"]["final_outcome"]["oneOf"]}
    assert outcomes == {"substantiated", "false", "malicious", "unfounded", "unsubstantiated"}
    for word in ("Substantiated", "False", "Malicious", "Unfounded", "Unsubstantiated"):
        assert f"{word} –" in SEED.read_text(encoding="utf-8") or f"{word} -" in SEED.read_text(encoding="utf-8")


# ====================================================================== running the routes
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)       # a Monday, in business hours
REFERENCE = "LADO-2026-0001"


class Case:
    """One LADO case run on SpiffWorkflow the way the engine runs it."""

    def __init__(self, workflow: BpmnWorkflow, xml):
        self.wf, self.xml = workflow, xml

    def ready(self, bpmn_id: str | None = None):
        tasks = self.wf.get_tasks(state=TaskState.READY, manual=True)
        return [t for t in tasks if bpmn_id is None or t.task_spec.bpmn_id == bpmn_id]

    def ready_ids(self) -> list[str]:
        return sorted(t.task_spec.bpmn_id for t in self.ready())

    def lane(self, bpmn_id: str) -> str:
        return _lane_of(self.xml)[bpmn_id]

    def complete(self, bpmn_id: str, answers: dict, *, validate: bool = True, task=None):
        task = task or self.only(bpmn_id)
        if validate:
            _validator(_form_of(self.xml, bpmn_id)).validate(answers)
        task.set_data(**answers)
        task.run()
        self.wf.do_engine_steps()
        return task

    def only(self, bpmn_id: str):
        tasks = self.ready(bpmn_id)
        assert len(tasks) == 1, f"{bpmn_id}: ready are {self.ready_ids()}"
        return tasks[0]

    def fire_timers(self):
        self.wf.refresh_timers()
        self.wf.do_engine_steps()

    @property
    def data(self) -> dict:
        """The case data: the final data, else what the ready tasks carry, else the last task's."""
        if self.wf.is_completed():
            return self.wf.data
        ready = self.ready()
        return ready[0].data if ready else self.wf.last_task.data

    def due(self, task) -> datetime:
        expression = _properties(self.xml.find(f".//bpmn:userTask[@id='{task.task_spec.bpmn_id}']", NS))["dueDate"]
        return _when(self.wf.script_engine.evaluate(task, expression))


def _validator(schema):
    return Draft202012Validator(schema, format_checker=FormatChecker())


def _engine():
    return PythonScriptEngine(environment=TaskDataEnvironment(dict(HELPERS)))


def _new_workflow(parsed, out_of_hours):
    _, spec, subprocess_specs = parsed
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=_engine())
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(case_reference=REFERENCE, case_opened_at=now(), out_of_hours=out_of_hours)
    return workflow


def start_case(parsed, xml, *, out_of_hours=False) -> Case:
    """A case started by a person: the none start event."""
    workflow = _new_workflow(parsed, out_of_hours)
    workflow.do_engine_steps()
    return Case(workflow, xml)


def start_case_by_message(parsed, xml, payload: dict, *, out_of_hours=False) -> Case:
    """A case started by the `lado_referral` message of a PiPoT case.

    The contract with the engine (as spiff-arena does it): cancel the start events that do not
    match the message before the first engine step, run to the message start event, deliver."""
    workflow = _new_workflow(parsed, out_of_hours)
    for task in workflow.get_tasks(spec_class=StartEvent):
        definition = task.task_spec.event_definition
        if not (isinstance(definition, MessageEventDefinition) and definition.name == "lado_referral"):
            task.cancel()
    workflow.do_engine_steps()
    event = BpmnEvent(MessageEventDefinition("lado_referral"), payload=payload)
    assert workflow.event_manager.catch(event, internal=False) == 1
    workflow.do_engine_steps()
    return Case(workflow, xml)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


# ---------------------------------------------------------------------- answers
def referral(**changes) -> dict:
    answers = {
        "contact_type": "referral", "referrer_name": "Sam Okafor", "referrer_role": "Designated safeguarding lead",
        "referrer_organisation": "Oakfield Primary School", "referrer_agency_type": "education",
        "referrer_email": "dsl@oakfield.example", "referrer_phone": "01632 960000",
        "referrer_senior_manager_aware": True, "organisation_status": "local_authority",
        "hr_lead_name": "Priya Shah", "hr_lead_contact": "hr@oakfield.example",
        "subject_name": "Daniel Hughes", "subject_known_as": "Dan", "subject_date_of_birth": "1985-06-14",
        "subject_sex": "male", "subject_ethnicity": "White British", "subject_home_address": "1 High Street, Anytown",
        "lives_in_other_authority": False, "job_role": "Teaching assistant", "employer": "Oakfield Primary School",
        "length_of_service": "4 years", "employment_basis": "permanent", "subject_health_professional": False,
        "works_with_children_elsewhere": False, "works_with_adults": False, "has_own_children": False,
        "previous_allegations_or_concerns": False, "allegation_categories": ["physical"],
        "after_authorised_restraint": False, "incident_date": "2026-02-26", "employer_aware_date": "2026-02-27",
        "referred_date": "2026-03-02", "allegation_summary": "A pupil says he was pushed against a wall.",
        "allegation_made_by": "child", "allegation_how_made": "Disclosure to the class teacher",
        "children": [{"child_full_name": "Amelia Rose Clarke", "child_date_of_birth": "2017-09-03",
                      "child_address": "2 Mill Lane, Anytown", "child_parents_or_carers": "Joanne Clarke",
                      "child_has_social_worker": False}],
        "actions_taken": "Moved to duties away from the class", "subject_suspended": False,
        "police_informed": False, "parents_informed": True, "other_people_accused": False,
        "child_in_immediate_danger": False,
    }
    answers.update(changes)
    return answers


def initial_response(**changes):
    return {"referrer_contacted": True, "initial_response_summary": "Spoke to the DSL; advised on keeping records.",
            "immediate_safeguarding_needed": False, "checks_made": ["lado_records", "police"],
            "previous_lado_involvement": False, **changes}


LIMBS_NONE = {"limb_harmed_child": False, "limb_criminal_offence": False, "limb_risk_of_harm": False,
              "limb_unsuitable": False}


def threshold(met: bool, **changes):
    answers = {**LIMBS_NONE, "historical_allegation": False, "no_named_children": False,
               "closely_associated_person": False, "transferable_risk_private_life": False,
               "strategy_discussion_threshold_met": False, "police_threshold_met": False, "works_with_adults": False,
               "threshold_met": met, "threshold_rationale": "Considered against the four limbs."}
    if met:
        answers |= {"limb_harmed_child": True, "harm_indication": "The child has a bruise consistent with the account."}
    else:
        answers |= {"below_threshold_route": "advice"}
    answers.update(changes)
    if met and "met_route" not in changes:  # the route the LADO chose: a strategy discussion when one is needed
        needed = answers["strategy_discussion_threshold_met"] or answers["police_threshold_met"]
        answers |= {"met_route": "strategy_discussion" if needed else "pot_meeting",
                    "met_route_rationale": "Chosen having considered the harm threshold."}
    return answers


def attendee(name, role, attended=True):
    return {"name": name, "role": role, "agency": "Agency", "attended": attended}


def action(description, owner_role, due_date):
    return {"description": description, "owner_role": owner_role, "owner_name": "A Person", "agency": "Agency",
            "due_date": due_date}


def convene(**changes):
    return {"pot_meeting_reason": "referral_received",
            "harm_indication": "The child has a bruise consistent with the account.",
            "pot_meeting_date": "2026-03-06", "pot_meeting_time": "14:00", "pot_meeting_venue": "Online",
            "police_invited": True, "social_care_invited": True, "employer_invited": True, "hr_adviser_invited": True,
            "subject_health_professional": False, "joint_meeting": False,
            "invitees": [attendee("Jo Lado", "lado"), attendee("PC Smith", "police")], **changes}


SHARING = [{"information": "That an allegation has been made", "shared_with": "The member of staff",
            "when": "After the police have spoken to them", "responsible": "Headteacher"}]


def pot_meeting(actions, **changes):
    answers = {
        "meeting_date": "2026-03-06", "chair_name": "Jo Lado", "chaired_by_lado": True,
        "attendees": [attendee("Jo Lado", "lado"), attendee("PC Smith", "police"),
                      attendee("Kim Reyes", "social_worker"), attendee("Head Teacher", "employer")],
        "police_attended": True, "social_care_attended": True, "employer_attended": True, "hr_adviser_invited": True,
        "subject_health_professional": False, "joint_meeting": False, "confidentiality_agreed": True,
        "scope_of_investigation": "The incident on 26 February and the class he supports.",
        "other_children_at_risk": "Children in the after-school club he runs.",
        "parallel_disciplinary_process": "not_yet", "information_sharing_protocol": "Through the LADO.",
        "previous_allegations_considered": "None known.", "reasonable_force_considered": "Not applicable.",
        "complex_abuse_investigation": False, "enquiries_planned": "Police to speak to the child.",
        "information_sharing_decisions": SHARING, "children_safeguarded": "The child is in another class.",
        "emergency_action_needed": False, "front_door_referral_needed": False,
        "support_for_children": "School counsellor.", "support_for_staff_member": "Employee assistance programme.",
        "support_for_others": "Class teacher supported by the head.",
        "progress_updates_arrangements": "Weekly call from the headteacher.",
        "investigation_independence": "Investigating officer from another school.",
        "suspension_recommendation": "alternatives_to_suspension",
        "suspension_alternatives": "Duties away from children.",
        "lead_contacts": [{"agency": "Police", "name": "PC Smith", "role": "Officer in charge", "contact": "101"}],
        "review_protocol": "The LADO reviews every cycle against the target timescales.",
        "review_cycle_working_days": 20, "senior_management_issues": "None", "media_interest": False,
        "barring_consideration": "consider_at_conclusion", "risk_assessment": "Risk assessment by the employer.",
        "next_meeting_date": "2026-04-03", "staff_member_informed_by": "Headteacher",
        "staff_member_information": "That an allegation has been made and is being looked into.",
        "parents_informed_by": "Social worker", "parents_information": "The planned action.",
        "information_sharing_stages": SHARING, "closely_associated_person": False,
    }
    if actions:                       # a form leaves an empty group out of its answers
        answers["actions"] = actions
    answers.update(changes)
    return answers


def action_done(status="completed"):
    return {"action_status": status, "action_update": "Done as agreed.", "action_closed_on": today()}


def overdue_followed_up():
    return {"action_overdue_acknowledged": True, "action_overdue_decision": "new_due_date",
            "action_overdue_new_due_date": working_days_after(now(), 5)[:10],
            "action_overdue_action_taken": "Spoke to the owner; a new date is agreed."}


def review(decision, **changes):
    answers = {"police_investigation_progress": "Interview held.", "internal_investigation_progress": "On hold.",
               "actions_progress": "On track.", "staff_member_updated_on": today(), "staff_member_updated_by": "Head",
               "children_updated_on": today(), "children_updated_by": "Social worker",
               "welfare_support": "Counselling in place.", "suspension_reviewed": True,
               "review_cycle_working_days": 20, "review_decision": decision}
    if decision != "continue_monitoring":
        answers["proposed_meeting_date"] = working_days_after(now(), 3)[:10]
    answers.update(changes)
    return answers


def interim_meeting(actions, **changes):
    return {"interim_meeting_date": today(), "interim_chair_name": "Jo Lado", "interim_chaired_by_lado": True,
            "interim_attendees": [attendee("Jo Lado", "lado")],
            "actions_review": [{"description": "Speak to the child", "owner_role": "police",
                                "status": "carried_forward"}],
            "police_investigation_progress": "Continuing.", "internal_investigation_progress": "Waiting.",
            "staff_member_update": "Updated weekly.", "children_update": "Updated by the social worker.",
            "risk_assessment_update": "No change.", "suspension_review": "Alternatives continue.",
            "next_steps": "Police to conclude.", "review_cycle_working_days": 20,
            "next_meeting_date": working_days_after(now(), 20)[:10], **({"actions": actions} if actions else {}),
            **changes}


def final_meeting(outcome, **changes):
    return {"final_meeting_date": today(), "final_chair_name": "Jo Lado", "final_chaired_by_lado": True,
            "final_attendees": [attendee("Jo Lado", "lado")], "all_tasks_completed": True,
            "strand_outcomes": [{"strand": "lado_enquiry", "strand_outcome": outcome}], "final_outcome": outcome,
            "outcome_rationale": "On the balance of probabilities.", "disciplinary_outcome": "Final written warning.",
            "dbs_referral_required": outcome == "substantiated", "dbs_referral_reason": "Harm test met or not.",
            "regulator_referral": "none", "staff_member_informed_of_outcome_by": "Headteacher",
            "parents_informed_of_outcome_by": "Social worker", "lessons_learnt": "Supervision of one-to-one work.",
            "lessons_learnt_action_plan": [{"description": "Refresh training", "owner": "Head",
                                            "due_date": "2026-09-01"}], **changes}


def closure():
    return {"staff_member_informed_on": today(), "staff_member_informed_by": "Headteacher",
            "parents_informed_on": today(), "personnel_file_summary": "Summary kept on file.",
            "outstanding_actions": "None", "closure_date": today(), "closure_approved_by": "Lee Manager"}


def through_threshold(case: Case, clock, met=True, **threshold_changes):
    case.complete("Task_initial_response", initial_response())
    case.complete("Task_threshold_decision", threshold(met, **threshold_changes))


def referred(parsed, xml, clock, **referral_changes) -> Case:
    case = start_case(parsed, xml)
    case.complete("Task_contact", referral(**referral_changes))
    return case


def review_due(case: Case) -> datetime:
    """When the waiting review timer falls due, as the engine reads it."""
    [due] = [e.value for e in case.wf.waiting_events() if e.name == "Review due"]
    return _when(due)


def wait_for_review(case: Case, clock):
    clock.move_to(review_due(case) + timedelta(minutes=1))
    case.fire_timers()


# ---------------------------------------------------------------------- routes
def test_a_consultation_carries_no_names_and_closes_as_advice_given(parsed, xml, clock):
    case = start_case(parsed, xml)
    assert case.ready_ids() == ["Task_contact"]
    case.complete("Task_contact", {"contact_type": "consultation", "referrer_agency_type": "sport_and_leisure",
                                   "consultation_question": "A parent complained about a coach's language."})
    task = case.only("Task_record_consultation")
    assert case.lane("Task_record_consultation") == "LADO"
    assert case.due(task) == datetime(2026, 3, 3, 17, tzinfo=UTC)
    case.complete("Task_record_consultation", {
        "consultation_date": today(), "consultation_summary": "Coach swearing at training.",
        "consultation_category": "conduct_suitability", "advice_given": "Deal with it as a conduct matter.",
        "referral_advised": False})
    assert case.wf.is_completed()
    assert case.data["outcome"] == "advice_given"
    assert case.data["days_to_conclusion"] == 0
    assert "subject_name" not in case.data


@pytest.mark.parametrize("route, task_id, lane, answers", [
    ("advice", "Task_record_advice", "LADO",
     {"advice_date": "2026-03-02", "advice_to_employer": "Supervise and record.", "employer_keeps_record": True}),
    ("employer_procedures", "Task_employer_procedures", "Employer case manager",
     {"employer_procedure": "conduct", "employer_action_summary": "Conduct meeting.",
      "employer_outcome": "Management advice.", "employer_procedure_completed_on": "2026-03-20"}),
    ("low_level_concern", "Task_low_level_concern", "Employer case manager",
     {"llc_date_raised": "2026-02-27", "llc_raised_by_role": "Teacher", "llc_concern_details": "Over-familiar.",
      "llc_action_taken": "Spoken to.", "llc_recorded": True, "llc_previous_low_level_concerns": False,
      "llc_threshold_now_met": False}),
])
def test_below_the_harm_threshold_each_route_closes_with_its_outcome(parsed, xml, clock, route, task_id, lane,
                                                                     answers):
    case = referred(parsed, xml, clock)
    case.complete("Task_initial_response", initial_response())
    clock.shift(timedelta(hours=2))
    case.complete("Task_threshold_decision", threshold(False, below_threshold_route=route))
    assert case.ready_ids() == [task_id] and case.lane(task_id) == lane
    case.complete(task_id, answers)
    assert case.wf.is_completed()
    data = case.data
    assert data["outcome"] == route
    assert data["days_to_initial_response"] == 0 and data["days_to_threshold_decision"] == 0
    assert data["days_to_conclusion"] == 0
    assert data["case_stage"] == "Closed: below the harm threshold"


@pytest.mark.parametrize("aware, referred_on, within", [("2026-02-27", "2026-03-02", True),
                                                        ("2026-02-25", "2026-03-02", False),
                                                        ("2026-03-02", "2026-03-02", True)])
def test_the_case_records_whether_the_employer_told_the_lado_within_1_working_day(parsed, xml, clock, aware,
                                                                                  referred_on, within):
    case = referred(parsed, xml, clock, employer_aware_date=aware, referred_date=referred_on)
    assert case.data["employer_informed_within_1_working_day"] is within
    assert case.data["referral_received_at"] == START.isoformat()
    assert case.data["subject_name"] == "Daniel Hughes" and case.data["case_stage"] == "Initial response"


def test_strategy_discussion_when_the_police_threshold_is_met(parsed, xml, clock):
    case = referred(parsed, xml, clock)
    through_threshold(case, clock, police_threshold_met=True, limb_criminal_offence=True)
    assert case.ready_ids() == ["Task_strategy_discussion_police", "Task_strategy_discussion_social_care"]
    assert case.lane("Task_strategy_discussion_police") == "Police"
    assert case.lane("Task_strategy_discussion_social_care") == "Children's social care"
    case.complete("Task_strategy_discussion_police", {
        "police_investigation": True, "crime_reference": "CR/123/26", "police_officer_in_charge": "DC Jones",
        "police_information_sharing": "Nothing to the member of staff before interview.",
        "police_summary": "Criminal investigation opened."})
    case.complete("Task_strategy_discussion_social_care", {
        "strategy_discussion_date": today(), "strategy_attendees": [attendee("DC Jones", "police")],
        "section_47_enquiry": True, "front_door_referral_made": False, "social_care_summary": "Section 47 enquiry."})
    case.complete("Task_strategy_discussion_outcome", {"strategy_chaired_by_lado": True,
        "strategy_outcome_summary": "Police investigate; LADO monitors.", "staff_member_informed_by": "Police",
        "staff_member_information": "Nothing until interview.", "parents_informed_by": "Social worker",
        "parents_information": "That the police are investigating.", "information_sharing_stages": SHARING,
        "actions": [action("Interview the member of staff", "police", "2026-03-20")],
        "review_cycle_working_days": 20, "next_meeting_date": "2026-04-01", "strategy_next_step": "actions_and_review"})
    task = case.only("Task_action_police")
    assert task.data["action"]["description"] == "Interview the member of staff"
    assert case.due(task) == datetime(2026, 3, 20, 17, tzinfo=UTC)
    assert case.data["last_meeting_type"] == "strategy_discussion"
    case.complete("Task_action_police", action_done(), task=task)
    wait_for_review(case, clock)
    case.complete("Task_investigation_review", review("final_meeting"))
    case.complete("Task_final_pot_meeting", final_meeting("unsubstantiated"))
    case.complete("Task_case_closure", closure())
    assert case.wf.is_completed() and case.data["outcome"] == "unsubstantiated"


def test_a_strategy_discussion_can_lead_to_a_pot_meeting(parsed, xml, clock):
    case = referred(parsed, xml, clock)
    through_threshold(case, clock, strategy_discussion_threshold_met=True)
    case.complete("Task_strategy_discussion_police", {
        "police_investigation": False, "police_officer_in_charge": "DC Jones",
        "police_information_sharing": "No restrictions.", "police_summary": "No crime."})
    case.complete("Task_strategy_discussion_social_care", {
        "strategy_discussion_date": today(), "strategy_attendees": [attendee("DC Jones", "police")],
        "section_47_enquiry": False, "front_door_referral_made": False, "social_care_summary": "No section 47."})
    case.complete("Task_strategy_discussion_outcome", {"strategy_chaired_by_lado": True,
        "strategy_outcome_summary": "POT meeting to plan.", "staff_member_informed_by": "Head",
        "staff_member_information": "All.", "parents_informed_by": "Head", "parents_information": "All.",
        "information_sharing_stages": SHARING, "review_cycle_working_days": 20,
        "next_meeting_date": "2026-03-10", "strategy_next_step": "pot_meeting"})
    assert case.ready_ids() == ["Task_convene_pot_meeting"]


def _meeting_with_two_actions(parsed, xml, clock, **changes) -> Case:
    case = referred(parsed, xml, clock)
    through_threshold(case, clock)
    assert case.ready_ids() == ["Task_convene_pot_meeting"]
    case.complete("Task_convene_pot_meeting", convene())
    assert case.due(case.only("Task_pot_meeting")) == datetime(2026, 3, 6, 17, tzinfo=UTC)
    case.complete("Task_pot_meeting", pot_meeting([
        action("Start the disciplinary investigation", "employer_case_manager", "2026-03-13"),
        action("Speak to the child", "police", "2026-03-20")], **changes))
    return case


@pytest.mark.parametrize("outcome", ["substantiated", "false", "malicious", "unfounded", "unsubstantiated"])
def test_pot_meeting_actions_interim_meeting_final_meeting_outcome(parsed, xml, clock, outcome):
    case = _meeting_with_two_actions(parsed, xml, clock)
    # every action is a task for its owner, due on its due date
    employer = case.only("Task_action_employer")
    case.only("Task_action_police")  # exactly one police action is open too
    assert case.lane("Task_action_employer") == "Employer case manager" and case.lane("Task_action_police") == "Police"
    assert case.due(employer) == datetime(2026, 3, 13, 17, tzinfo=UTC)
    assert case.data["case_stage"] == "Actions and reviews" and case.data["last_meeting_type"] == "initial"
    case.complete("Task_action_employer", action_done(), task=employer)
    # the review comes round after review_cycle_working_days (20 working days; the clocks go forward), not before
    due = review_due(case)
    assert due == datetime(2026, 3, 30, 16, tzinfo=UTC)
    clock.move_to(due - timedelta(minutes=1))
    case.fire_timers()
    assert not case.ready("Task_investigation_review")
    clock.move_to(due + timedelta(minutes=1))
    case.fire_timers()
    case.complete("Task_investigation_review", review("interim_meeting"))
    # the interim meeting reviews the open police action: its task closes, the meeting carries it forward
    assert not case.ready("Task_action_police")
    assert case.ready_ids() == ["Task_interim_pot_meeting"]
    case.complete("Task_interim_pot_meeting", interim_meeting(
        [action("Speak to the child (carried forward)", "police", "2026-04-24")]))
    assert case.data["interim_meetings_held"] == 1 and case.data["round_number"] == 2
    case.complete("Task_action_police", action_done())
    wait_for_review(case, clock)
    case.complete("Task_investigation_review", review("final_meeting"))
    assert case.ready_ids() == ["Task_final_pot_meeting"]
    results = case.data["action_results"]
    assert [(r["description"], r["status"]) for r in results] == [("Speak to the child (carried forward)",
                                                                     "completed")]
    case.complete("Task_final_pot_meeting", final_meeting(outcome))
    if outcome == "substantiated":
        assert case.ready_ids() == ["Task_dbs_referral"] and case.lane("Task_dbs_referral") == "Employer case manager"
        case.complete("Task_dbs_referral", {"dbs_referral_made": True, "dbs_referral_date": today(),
                                            "regulator_referral_made": False})
    assert case.ready_ids() == ["Task_case_closure"] and case.lane("Task_case_closure") == "LADO manager"
    case.complete("Task_case_closure", closure())
    assert case.wf.is_completed()
    data = case.data
    assert data["outcome"] == outcome and data["case_stage"] == "Closed"
    assert data["days_to_conclusion"] == working_days_between(START, data["concluded_at"]) > 20
    assert data["conclusion_within_target"]["twelve_months"] is True
    assert data["conclusion_within_target"]["one_month"] is False


def test_a_regulator_referral_goes_to_the_employer_even_without_a_dbs_referral(parsed, xml, clock):
    case = _meeting_with_two_actions(parsed, xml, clock)
    for task_id in ("Task_action_employer", "Task_action_police"):
        case.complete(task_id, action_done())
    wait_for_review(case, clock)
    case.complete("Task_investigation_review", review("final_meeting"))
    case.complete("Task_final_pot_meeting", final_meeting("unsubstantiated", regulator_referral="tra"))
    assert case.ready_ids() == ["Task_dbs_referral"]


def test_the_final_meeting_waits_for_open_actions(parsed, xml, clock):
    case = _meeting_with_two_actions(parsed, xml, clock)
    wait_for_review(case, clock)
    case.complete("Task_investigation_review", review("final_meeting"))
    # both actions are long overdue, so each has been escalated to the LADO, who chairs the meetings
    assert case.ready_ids() == ["Task_action_employer", "Task_action_overdue", "Task_action_overdue",
                                "Task_action_police"]
    case.complete("Task_action_employer", action_done())
    case.complete("Task_action_police", action_done("not_completed"))
    assert case.ready_ids() == ["Task_action_overdue", "Task_action_overdue"]  # each action waits for its follow-up
    for task in case.ready("Task_action_overdue"):
        case.complete("Task_action_overdue", overdue_followed_up(), task=task)
    assert case.ready_ids() == ["Task_final_pot_meeting"]
    assert {r["status"] for r in case.data["action_results"]} == {"completed", "not_completed"}


def test_reviews_repeat_on_a_configurable_cycle(parsed, xml, clock):
    case = _meeting_with_two_actions(parsed, xml, clock, review_cycle_working_days=5)
    for cycle in range(3):
        due = _when(working_days_after(now(), 5))
        clock.move_to(due - timedelta(minutes=1))
        case.fire_timers()
        assert not case.ready("Task_investigation_review"), cycle
        clock.move_to(due + timedelta(minutes=1))
        case.fire_timers()
        case.complete("Task_investigation_review", review("continue_monitoring", review_cycle_working_days=5))
    # the person changes the cycle at a review: the next one follows the new value
    clock.shift(timedelta(days=7))
    case.fire_timers()
    case.complete("Task_investigation_review", review("continue_monitoring", review_cycle_working_days=10))
    due = _when(working_days_after(now(), 10))
    clock.move_to(due - timedelta(minutes=1))
    case.fire_timers()
    assert not case.ready("Task_investigation_review")
    clock.move_to(due + timedelta(minutes=1))
    case.fire_timers()
    assert case.ready("Task_investigation_review")
    assert case.ready_ids() == ["Task_action_employer", "Task_action_overdue", "Task_action_overdue",
                                "Task_action_police", "Task_investigation_review"]


def test_thirty_five_interim_meetings_do_not_reach_the_task_iterator_depth_limit(parsed, xml, clock):
    def deepest():
        return max(t.depth for w in [case.wf, *case.wf.subprocesses.values()] for t in w.get_tasks())

    case = _meeting_with_two_actions(parsed, xml, clock)
    depths = []
    for meeting in range(35):
        for task in case.ready("Task_action_employer") + case.ready("Task_action_police"):
            case.complete(task.task_spec.bpmn_id, action_done(), task=task)
        wait_for_review(case, clock)
        case.complete("Task_investigation_review", review("interim_meeting"))
        case.complete("Task_interim_pot_meeting", interim_meeting(
            [action(f"Action from interim meeting {meeting + 1}", "police", working_days_after(now(), 10)[:10])]))
        assert case.ready_ids() == ["Task_action_police"], meeting
        depths.append(deepest())
    assert case.data["interim_meetings_held"] == 35 and case.data["round_number"] == 36
    assert max(depths) == depths[0] < 40, "the task tree does not grow deeper with each meeting"
    case.complete("Task_action_police", action_done())
    wait_for_review(case, clock)
    case.complete("Task_investigation_review", review("final_meeting"))
    case.complete("Task_final_pot_meeting", final_meeting("unfounded"))
    case.complete("Task_case_closure", closure())
    assert case.wf.is_completed() and case.data["outcome"] == "unfounded"


@pytest.mark.parametrize("out_of_hours, lanes", [(False, {"LADO manager"}), (True, {"LADO manager", "Out of hours"})])
def test_a_missed_initial_response_escalates(parsed, xml, clock, out_of_hours, lanes):
    case = start_case(parsed, xml, out_of_hours=out_of_hours)
    case.complete("Task_contact", referral())
    due = datetime(2026, 3, 3, 17, tzinfo=UTC)            # close of business on the next working day
    assert case.due(case.only("Task_initial_response")) == due
    clock.move_to(due - timedelta(minutes=1))
    case.fire_timers()
    assert case.ready_ids() == ["Task_initial_response"]
    clock.move_to(due + timedelta(minutes=1))
    case.fire_timers()
    escalations = [t for t in case.ready() if t.task_spec.bpmn_id.startswith("Task_escalation")]
    assert {case.lane(t.task_spec.bpmn_id) for t in escalations} == lanes
    assert case.ready("Task_initial_response"), "the LADO still has to respond"
    for task in escalations:
        case.complete(task.task_spec.bpmn_id, {"escalation_acknowledged": True, "child_at_immediate_risk": False,
                                               "escalation_action_taken": "Allocated to the duty LADO."}, task=task)
    case.complete("Task_initial_response", initial_response())
    assert case.data["days_to_initial_response"] == 1
    # the threshold decision was due with the initial response: it is late at once, and escalates
    assert case.ready_ids() == ["Task_escalation_threshold_decision_manager", "Task_threshold_decision"]


def test_a_timely_initial_response_raises_no_escalation(parsed, xml, clock):
    case = referred(parsed, xml, clock)
    case.complete("Task_initial_response", initial_response())
    clock.shift(timedelta(days=5))
    case.fire_timers()
    # only the threshold decision's own clock, not the initial response's
    assert case.ready_ids() == ["Task_escalation_threshold_decision_manager", "Task_threshold_decision"]
    assert not [t for t in case.wf.event_manager.tasks.values() if t.task_spec.bpmn_id == "Timer_initial_response"]


def test_a_meeting_cannot_be_convened_without_an_indication_of_harm(parsed, xml, clock):
    schema = _form_of(xml, "Task_threshold_decision")
    with pytest.raises(ValidationError):
        _validator(schema).validate({k: v for k, v in threshold(True).items() if k != "harm_indication"})
    with pytest.raises(ValidationError):
        _validator(schema).validate(threshold(True, limb_harmed_child=False))
    case = referred(parsed, xml, clock)
    case.complete("Task_initial_response", initial_response())
    case.complete("Task_threshold_decision", threshold(True, harm_indication="   "), validate=False)
    assert case.ready_ids() == ["Task_threshold_decision"], "back to the decision, no meeting"


def test_cross_authority_liaison_and_a_joint_meeting(parsed, xml, clock):
    case = referred(parsed, xml, clock, lives_in_other_authority=True, home_local_authority="Medway")
    through_threshold(case, clock)
    assert case.ready_ids() == ["Task_cross_authority_liaison"] and case.lane("Task_cross_authority_liaison") == "LADO"
    case.complete("Task_cross_authority_liaison", {
        "other_authority_name": "Medway", "other_authority_lado_name": "Chris Bell",
        "other_authority_contact": "lado@medway.example", "liaison_date": today(), "joint_meeting": True,
        "liaison_notes": "Joint meeting agreed."})
    assert case.data["joint_meeting"] is True
    case.complete("Task_convene_pot_meeting", convene(joint_meeting=True))
    meeting = _validator(_form_of(xml, "Task_pot_meeting"))
    with pytest.raises(ValidationError):
        meeting.validate(pot_meeting([], joint_meeting=True))
    case.complete("Task_pot_meeting", pot_meeting([], joint_meeting=True, other_authority_attended=True))
    assert case.data["other_authority_attended"] is True


def test_a_closely_associated_person_needs_the_three_considerations(parsed, xml, clock):
    case = referred(parsed, xml, clock)
    through_threshold(case, clock, closely_associated_person=True)
    case.complete("Task_convene_pot_meeting", convene())
    meeting = _validator(_form_of(xml, "Task_pot_meeting"))
    with pytest.raises(ValidationError):
        meeting.validate(pot_meeting([], closely_associated_person=True))
    considerations = {"capacity_to_protect": "Willing and able.", "protection_measures": "None needed.",
                      "role_compromised": "Not compromised."}
    case.complete("Task_pot_meeting", pot_meeting([], closely_associated_person=True, **considerations))
    assert all(case.data[k] for k in considerations)


def test_a_health_professional_means_the_designated_nurse_is_invited(xml):
    meeting = _validator(_form_of(xml, "Task_pot_meeting"))
    with pytest.raises(ValidationError):
        meeting.validate(pot_meeting([], subject_health_professional=True))
    with pytest.raises(ValidationError):
        meeting.validate(pot_meeting([], subject_health_professional=True, designated_nurse_invited=False))
    meeting.validate(pot_meeting([], subject_health_professional=True, designated_nurse_invited=True))


def test_the_referral_form_wants_childrens_full_names_not_initials(xml):
    form = _validator(_form_of(xml, "Task_contact"))
    child = referral()["children"][0]
    for name in ("A. C.", "A Clarke", "AC"):
        with pytest.raises(ValidationError):
            form.validate(referral(children=[{**child, "child_full_name": name}]))
    with pytest.raises(ValidationError):
        form.validate(referral(incident_date="26/02/2026"))
    with pytest.raises(ValidationError):
        form.validate(referral(children=[]))
    no_children = referral()
    del no_children["children"]
    form.validate(no_children)               # no named children: the group is left out


PAYLOAD = {"subject_name": "Maria Lopez", "subject_known_as": "", "subject_date_of_birth": "1979-02-11",
           "employer": "Riverside Care Home", "job_role": "Care assistant",
           "allegation_summary": "Shouted at a resident; also runs a youth group.",
           "pipot_case_reference": "PIPOT-2026-0007", "linked_case_reference": "PIPOT-2026-0007"}


def start_case_then_deliver(parsed, xml, payload: dict) -> Case:
    """The other way an engine can start a linked case: the payload as starting data, the process run to
    its first wait (the none start), then the message delivered to the new workflow."""
    workflow = _new_workflow(parsed, False)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(payload)
    workflow.do_engine_steps()
    event = BpmnEvent(MessageEventDefinition("lado_referral"), payload=payload)
    assert workflow.event_manager.catch(event, internal=False) == 1
    workflow.do_engine_steps()
    return Case(workflow, xml)


@pytest.mark.parametrize("start", [start_case_by_message, start_case_then_deliver],
                         ids=["at the message start event", "after the none start"])
def test_a_case_started_by_the_lado_referral_message_arrives_filled_in(parsed, xml, clock, start):
    case = start(parsed, xml, PAYLOAD)
    task = case.only("Task_review_linked_referral")
    assert case.ready_ids() == ["Task_review_linked_referral"] and case.lane("Task_review_linked_referral") == "LADO"
    for name in ("subject_name", "employer", "job_role", "allegation_summary", "pipot_case_reference"):
        assert task.data[name] == PAYLOAD[name]
    assert task.data["linked_case_reference"] == "PIPOT-2026-0007" and task.data["started_by_message"] is True
    assert task.data["case_reference"] == REFERENCE and task.data["case_stage"] == "Linked referral from a PiPoT case"
    assert case.due(task) == datetime(2026, 3, 3, 17, tzinfo=UTC)
    case.complete("Task_review_linked_referral", {
        **{k: task.data[k] for k in ("subject_name", "subject_known_as", "subject_date_of_birth", "job_role",
                                     "employer", "allegation_summary")},
        "allegation_categories": ["emotional"], "incident_date": "2026-02-27", "employer_aware_date": "2026-02-27",
        "referred_date": "2026-03-02", "lives_in_other_authority": False, "subject_health_professional": False,
        "works_with_adults": True, "has_own_children": False})
    assert case.data["employer_informed_within_1_working_day"] is True
    case.complete("Task_initial_response", initial_response())
    case.complete("Task_threshold_decision", threshold(True, works_with_adults=True))
    assert not [e for e in case.wf.get_events() if e.event_definition.name == "pipot_referral"], \
        "a case the PiPoT pathway referred does not refer back"
    assert case.ready_ids() == ["Task_convene_pot_meeting"]


def test_a_case_started_by_a_person_stops_listening_for_the_message_once_the_referral_is_made(parsed, xml, clock):
    case = start_case(parsed, xml)
    assert case.ready_ids() == ["Task_contact"]
    message_start = case.wf.get_tasks(spec_name="StartEvent_lado_referral")[0]
    assert message_start.state == TaskState.CANCELLED
    assert [e.name for e in case.wf.waiting_events()] == ["lado_referral"]      # on the referral form only
    case.complete("Task_contact", referral())
    assert not [e for e in case.wf.waiting_events() if e.name == "lado_referral"]
    assert case.ready_ids() == ["Task_initial_response"]


def test_a_referral_without_known_as_or_date_of_birth_still_makes_a_pipot_referral(parsed, xml, clock):
    answers = referral(works_with_adults=True, other_work_with_adults="Weekend carer")
    del answers["subject_known_as"], answers["subject_date_of_birth"], answers["children"]
    case = start_case(parsed, xml)
    case.complete("Task_contact", answers)
    through_threshold(case, clock, met=False, works_with_adults=True)
    [event] = [e for e in case.wf.get_events() if e.event_definition.name == "pipot_referral"]
    assert event.payload["subject_known_as"] == "" and event.payload["subject_date_of_birth"] == ""


def test_meetings_that_agree_no_actions_issue_no_tasks(parsed, xml, clock):
    case = referred(parsed, xml, clock)
    through_threshold(case, clock)
    case.complete("Task_convene_pot_meeting", convene())
    case.complete("Task_pot_meeting", pot_meeting([]))
    assert case.ready_ids() == [] and case.data["actions"] == []
    wait_for_review(case, clock)
    case.complete("Task_investigation_review", review("interim_meeting"))
    case.complete("Task_interim_pot_meeting", interim_meeting([action("Check the rota", "lado", "2026-04-10")]))
    assert case.ready_ids() == ["Task_action_lado"]
    wait_for_review(case, clock)
    case.complete("Task_investigation_review", review("interim_meeting"))
    case.complete("Task_interim_pot_meeting", interim_meeting([], actions_review=[
        {"description": "Check the rota", "owner_role": "lado", "status": "no_longer_needed"}]))
    assert case.ready_ids() == [], "an action closed at the interim meeting is not issued again"
    wait_for_review(case, clock)
    proposed = working_days_after(now(), 3)[:10]
    case.complete("Task_investigation_review", review("final_meeting"))
    task = case.only("Task_final_pot_meeting")
    assert task.data["next_meeting_date"] == proposed and case.due(task) == _when(working_days_after(proposed, 0))


def test_a_subject_who_works_with_adults_raises_a_pipot_referral(parsed, xml, clock):
    case = referred(parsed, xml, clock, works_with_adults=True, other_work_with_adults="Weekend carer")
    case.complete("Task_initial_response", initial_response())
    case.wf.get_events()                                      # nothing thrown before the decision
    case.complete("Task_threshold_decision", threshold(False, works_with_adults=True))
    events = [e for e in case.wf.get_events() if e.event_definition.name == "pipot_referral"]
    assert len(events) == 1
    assert events[0].payload == {
        "subject_name": "Daniel Hughes", "subject_known_as": "Dan", "subject_date_of_birth": "1985-06-14",
        "employer": "Oakfield Primary School", "job_role": "Teaching assistant",
        "allegation_summary": "A pupil says he was pushed against a wall.", "lado_case_reference": REFERENCE}
    assert case.ready_ids() == ["Task_record_advice"], "the LADO case carries on"


def test_no_pipot_referral_when_the_subject_does_not_work_with_adults(parsed, xml, clock):
    case = referred(parsed, xml, clock)
    through_threshold(case, clock, met=False)
    assert not case.wf.get_events()


# ---------------------------------------------------------------------- escalation policy
def test_reminders_before_the_deadlines_end_at_once(xml):
    reminders = {t.get("id"): t for t in xml.iterfind(".//bpmn:boundaryEvent", NS)
                 if t.find(".//spiffworkflow:property[@name='reminder'][@value='true']", NS) is not None}
    assert set(reminders) == {"Timer_initial_response_reminder", "Timer_threshold_decision_reminder",
                              "Timer_action_reminder"}
    for timer_id, timer in reminders.items():
        [flow] = [f for f in xml.iterfind(".//bpmn:sequenceFlow", NS) if f.get("sourceRef") == timer_id]
        assert xml.find(f".//bpmn:endEvent[@id='{flow.get('targetRef')}']", NS) is not None, timer_id


def test_an_unacknowledged_escalation_goes_to_the_director_on_call_and_stops_when_acknowledged(parsed, xml, clock):
    case = start_case(parsed, xml, out_of_hours=True)
    case.complete("Task_contact", referral())
    due = datetime(2026, 3, 3, 17, tzinfo=UTC)
    clock.move_to(due + timedelta(minutes=1))
    case.fire_timers()
    ooh = case.only("Task_escalation_initial_response_ooh")
    case.complete("Task_escalation_initial_response_ooh", {"escalation_acknowledged": True, "child_at_immediate_risk": False,
                                                           "escalation_action_taken": "Rang the DSL."}, task=ooh)
    clock.move_to(due + timedelta(hours=2, minutes=2))  # the LADO manager never acknowledged theirs
    case.fire_timers()
    director = case.only("Task_escalation_initial_response_director")
    assert case.lane("Task_escalation_initial_response_director") == "Director on call"
    assert len(case.ready("Task_escalation_initial_response_director")) == 1  # one: the out-of-hours one was seen
    case.complete("Task_escalation_initial_response_director", {
        "director_escalation_acknowledged": True, "director_escalation_action": "Allocated to the duty LADO.",
        "director_child_at_immediate_risk": False}, task=director)


def test_each_action_is_chased_on_its_own_date(parsed, xml, clock):
    case = _meeting_with_two_actions(parsed, xml, clock)   # due 13 and 20 March
    clock.move_to(datetime(2026, 3, 13, 17, 5, tzinfo=UTC))
    case.fire_timers()
    [chase] = case.ready("Task_action_overdue")
    assert case.lane("Task_action_overdue") == "LADO"
    assert chase.data["action"]["owner_role"] == "employer_case_manager"
    case.complete("Task_action_police", action_done())       # done before its due date: never chased
    clock.move_to(datetime(2026, 3, 25, 9, 0, tzinfo=UTC))
    case.fire_timers()
    assert len(case.ready("Task_action_overdue")) == 1
