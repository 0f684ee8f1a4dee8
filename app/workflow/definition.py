"""Reading a BPMN file: the SpiffWorkflow specs plus what the application needs to know about
each element (lanes, forms, due rules, timers, expressions), taken from the XML itself."""
from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from app.workflow.xmlsafe import UnsafeXmlError, XmlSyntaxError, parse_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
TIMER_KINDS = ("timeDate", "timeDuration", "timeCycle")


class DefinitionError(Exception):
    """A BPMN file that cannot be read; `problems` lists (file, element id, message)."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Problem:
    file: str
    element_id: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}" + (f" [{self.element_id}]" if self.element_id else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class UserTaskInfo:
    bpmn_id: str
    name: str
    lane: str | None
    form: str | None
    ui_form: str | None
    instructions: str
    due_expression: str | None
    escalation: bool
    assignee_expression: str | None = None  # property `assignee`: who, named in the case data, does it
    # property `context`: what the task page shows read-only beside the form, comma-separated: a form
    # (`pipot_referral.schema.json`: its latest answers on the case), a data field (`meeting_action`),
    # or `linked_cases`
    context: tuple[str, ...] = ()
    # property `returned`: when the task comes back (done before on this case), the answers that say why,
    # comma-separated `field` or `field=Label`
    returned: tuple[str, ...] = ()
    # property `carry`: answers of other names the form opens with, comma-separated `question=earlier_answer`
    carry: tuple[str, ...] = ()
    # property `recurring`: the task is new work each time it is ready (an update given at an interval), not
    # work that came back: its form opens with only these answers of its last time, comma-separated
    recurring: tuple[str, ...] = ()
    # property `record`: the title of the printable record its answers make (a meeting's record); tasks
    # with the same title make one record (the PiPoT meeting's attendance and its decisions)
    record: str = ""


@dataclass(frozen=True)
class TimerInfo:
    bpmn_id: str
    name: str
    kind: str
    expression: str
    attached_to: str | None
    interrupting: bool
    reminder: bool = False  # property `reminder`: when it fires, the holders of what it guards are reminded
    call_now: str = ""  # property `call_now`: the words of a button that brings the timer forward to now


@dataclass(frozen=True)
class Expression:
    element_id: str
    source: str
    mode: str  # "eval" or "exec"
    what: str


@dataclass
class ProcessModel:
    """Everything the application reads from one BPMN file."""

    filename: str
    process_id: str
    name: str
    spec: object = None
    subprocess_specs: dict = field(default_factory=dict)
    lanes: dict[str, str] = field(default_factory=dict)  # lane id -> lane name
    user_tasks: dict[str, UserTaskInfo] = field(default_factory=dict)
    timers: dict[str, TimerInfo] = field(default_factory=dict)
    expressions: list[Expression] = field(default_factory=list)
    element_names: dict[str, str] = field(default_factory=dict)
    message_starts: list[str] = field(default_factory=list)
    timer_starts: list[str] = field(default_factory=list)  # start events that wait for a timer
    loop_items: set[str] = field(default_factory=set)  # the item names of multi-instance activities

    @property
    def form_names(self) -> set[str]:
        names = set()
        for task in self.user_tasks.values():
            names.update(n for n in (task.form, task.ui_form) if n)
        return names


def read_process(bpmn: bytes, filename: str, *, max_bytes: int) -> ProcessModel:
    """Parse a BPMN file safely into a ProcessModel, or raise DefinitionError."""
    root = _parse_root(bpmn, filename, max_bytes)
    process = _main_process(root, filename)
    model = ProcessModel(filename=filename, process_id=process.get("id"),
                         name=process.get("name") or process.get("id"))
    _scan_metadata(root, model)
    model.spec, model.subprocess_specs = _spiff_specs(root, filename, model.process_id)
    return model


def _parse_root(bpmn: bytes, filename: str, max_bytes: int):
    try:
        return parse_xml(bpmn, max_bytes=max_bytes)
    except (UnsafeXmlError, XmlSyntaxError) as err:
        raise DefinitionError([Problem(filename, None, str(err))]) from err


def _main_process(root, filename: str):
    if etree.QName(root).localname != "definitions" or etree.QName(root).namespace != BPMN_NS:
        raise DefinitionError([Problem(filename, None, "This is not a BPMN 2.0 file (no bpmn:definitions).")])
    processes = root.findall("bpmn:process", NS)
    executable = [p for p in processes if p.get("isExecutable", "false").lower() == "true"]
    called = {el.get("calledElement") for el in root.iter(f"{{{BPMN_NS}}}callActivity")}
    candidates = [p for p in executable if p.get("id") not in called]
    if not candidates:
        raise DefinitionError([Problem(filename, None,
                                       "No executable process: mark the process isExecutable=\"true\".")])
    if len(candidates) > 1:
        ids = ", ".join(p.get("id") for p in candidates)
        raise DefinitionError([Problem(filename, None,
                                       f"Several executable processes ({ids}); deploy one process per file.")])
    return candidates[0]


def _spiff_specs(root, filename: str, process_id: str):
    parser = SpiffBpmnParser()
    try:
        parser.add_bpmn_xml(root, filename=filename)
        spec, subprocess_specs = parser.get_spec(process_id), parser.get_subprocess_specs(process_id)
        _wire_loop_tasks(spec, subprocess_specs)
        return spec, subprocess_specs
    except ValidationException as err:
        element = getattr(err, "id", None) or None
        raise DefinitionError([Problem(filename, element, _first_line(err))]) from err
    except Exception as err:  # the parser raises bare TypeErrors, KeyErrors... on odd models
        raise DefinitionError([Problem(filename, None,
                                       f"SpiffWorkflow cannot read this model: {_first_line(err)}")]) from err


def _wire_loop_tasks(spec, subprocess_specs: dict) -> None:
    """Connect each multi-instance task to its instances' completion, as SpiffWorkflow's own spec
    deserializer does. The parser leaves it to the first instance created, so a workflow restored
    onto a freshly parsed spec would otherwise never hear from instances made before the reload."""
    for process_spec in [spec, *subprocess_specs.values()]:
        for task_spec in process_spec.task_specs.values():
            if isinstance(task_spec, LoopTask):
                child = process_spec.task_specs[task_spec.task_spec]
                if not child.completed_event.is_connected(task_spec.merge_child):
                    child.completed_event.connect(task_spec.merge_child)


def _first_line(err: Exception) -> str:
    text = str(err).strip() or err.__class__.__name__
    return text.splitlines()[0]


def _scan_metadata(root, model: ProcessModel) -> None:
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("id"):
            model.element_names[el.get("id")] = el.get("name") or el.get("id")
    lane_of = _lanes(root, model)
    for task in root.iter(f"{{{BPMN_NS}}}userTask"):
        model.user_tasks[task.get("id")] = _user_task(task, lane_of)
    for definition in root.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
        timer = _timer(definition)
        if timer:
            model.timers[timer.bpmn_id] = timer
    model.expressions.extend(_expressions(root, model))
    model.loop_items.update(item.get("name") or item.get("id") for item in root.iter(f"{{{BPMN_NS}}}inputDataItem")
                            if item.get("name") or item.get("id"))
    for start in root.iter(f"{{{BPMN_NS}}}startEvent"):
        if start.find("bpmn:timerEventDefinition", NS) is not None:
            model.timer_starts.append(start.get("id"))
        for ref in start.findall("bpmn:messageEventDefinition", NS):
            message = root.find(f".//bpmn:message[@id='{ref.get('messageRef')}']", NS)
            if message is not None and message.get("name"):
                model.message_starts.append(message.get("name"))


def _lanes(root, model: ProcessModel) -> dict[str, str]:
    """Lane name by element id. An element inside a sub-process that no lane lists is in the lane
    of its sub-process (modellers drop such references when an element moves)."""
    lane_of = {}
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        model.lanes[lane.get("id")] = (lane.get("name") or "").strip()
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            lane_of[(ref.text or "").strip()] = (lane.get("name") or "").strip()
    for sub in root.iter(f"{{{BPMN_NS}}}subProcess", f"{{{BPMN_NS}}}transaction"):
        for el in sub.iterdescendants():
            if isinstance(el.tag, str) and el.get("id") and el.get("id") not in lane_of:
                owner = next((a.get("id") for a in el.iterancestors() if a.get("id") in lane_of), None)
                if owner:
                    lane_of[el.get("id")] = lane_of[owner]
    return lane_of


def _properties(el) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in el.iterfind(".//spiffworkflow:property", NS)}


def _user_task(task, lane_of: dict[str, str]) -> UserTaskInfo:
    props = _properties(task)
    instructions = task.findtext(".//spiffworkflow:instructionsForEndUser", default="", namespaces=NS)
    return UserTaskInfo(
        bpmn_id=task.get("id"),
        name=task.get("name") or task.get("id"),
        lane=lane_of.get(task.get("id")),
        form=props.get("formJsonSchemaFilename") or None,
        ui_form=props.get("formUiSchemaFilename") or None,
        instructions=instructions.strip(),
        due_expression=(props.get("dueDate") or "").strip() or None,
        escalation=(props.get("escalation") or "").strip().lower() == "true",
        assignee_expression=(props.get("assignee") or "").strip() or None,
        context=parse_context(props.get("context") or ""),
        returned=parse_context(props.get("returned") or ""),
        carry=parse_context(props.get("carry") or ""),
        recurring=parse_context(props.get("recurring") or ""),
        record=(props.get("record") or "").strip(),
    )


def parse_context(text: str) -> tuple[str, ...]:
    """The entries of a `context` property: comma-separated, blanks dropped, each once."""
    return tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


def _timer(definition) -> TimerInfo | None:
    event = definition.getparent()
    for kind in TIMER_KINDS:
        expr = definition.find(f"bpmn:{kind}", NS)
        if expr is not None:
            return TimerInfo(
                bpmn_id=event.get("id"),
                name=event.get("name") or event.get("id"),
                kind=kind,
                expression=(expr.text or "").strip(),
                attached_to=event.get("attachedToRef"),
                interrupting=event.get("cancelActivity", "true").lower() != "false",
                reminder=(_properties(event).get("reminder") or "").strip().lower() == "true",
                call_now=(_properties(event).get("call_now") or "").strip(),
            )
    return None


def _expressions(root, model: ProcessModel):
    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        cond = flow.find("bpmn:conditionExpression", NS)
        if cond is not None and (cond.text or "").strip():
            yield Expression(flow.get("id"), cond.text.strip(), "eval", "condition")
    for script_task in root.iter(f"{{{BPMN_NS}}}scriptTask"):
        yield Expression(script_task.get("id"), script_task.findtext("bpmn:script", "", NS), "exec", "script")
    for tag in ("preScript", "postScript"):
        for el in root.iter(f"{{{SPIFF_NS}}}{tag}"):
            owner = next(p for p in el.iterancestors() if p.get("id"))
            yield Expression(owner.get("id"), el.text or "", "exec", tag)
    for el in root.iter(f"{{{SPIFF_NS}}}messagePayload"):
        owner = next(p for p in el.iterancestors() if p.get("id"))
        yield Expression(owner.get("id"), (el.text or "").strip(), "eval", "message payload")
    for task in model.user_tasks.values():
        if task.due_expression:
            yield Expression(task.bpmn_id, task.due_expression, "eval", "due date")
        if task.assignee_expression:
            yield Expression(task.bpmn_id, task.assignee_expression, "eval", "assignee")
