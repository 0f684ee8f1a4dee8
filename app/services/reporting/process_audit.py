"""The process audit view: for each user task and timer of one deployed version of a pathway, how many
cases passed through it, how long they waited there (median and 90th percentile, in working days)
and how often its timers fired; with adherence to the pathway's clocks and every breach.

Everything comes from the audit trail (task_ready / escalation_raised / task_completed /
task_cancelled / timer_started / timer_fired events carry the BPMN id and the task id) and the
projections; no workflow is loaded.
"""
from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import AuditEvent, Case, ProcessDefinition, ProcessInstance
from app.services.errors import NotFound
from app.services.reporting.adherence import Adherence, measure_adherence, timer_ids
from app.services.reporting.data import WorkingDays, load_cases
from app.services.runtime import model_for

TASK_EVENTS = ("task_ready", "escalation_raised", "task_completed", "task_cancelled")
TIMER_EVENTS = ("timer_started", "timer_fired")


@dataclass
class ElementFigures:
    bpmn_id: str
    name: str
    kind: str  # "task" or "timer"
    lane: str = ""
    cases: int = 0
    completed: int = 0
    median_days: float | None = None
    p90_days: int | None = None
    timers_started: int = 0
    timers_fired: int = 0
    heat: float = 0.0  # 0 (shortest wait or never fired) to 1 (longest wait or always fired)

    def as_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "lane": self.lane, "cases": self.cases,
                "completed": self.completed, "median_working_days": self.median_days,
                "p90_working_days": self.p90_days, "timers_started": self.timers_started,
                "timers_fired": self.timers_fired, "heat": round(self.heat, 3)}


@dataclass
class ProcessAudit:
    definition: ProcessDefinition
    versions: list[ProcessDefinition]
    elements: list[ElementFigures]
    adherence: Adherence
    case_count: int
    generated_at: datetime = field(default_factory=clock.now)

    def as_json(self) -> dict:
        return {"pathway": self.definition.process_key, "version": self.definition.version,
                "cases": self.case_count, "generated_at": self.generated_at.isoformat(),
                "elements": {element.bpmn_id: element.as_json() for element in self.elements}}


def versions_of(pathway: str) -> list[ProcessDefinition]:
    return db.session.scalars(select(ProcessDefinition).where(ProcessDefinition.process_key == pathway)
                              .order_by(ProcessDefinition.version.desc())).all()


def process_audit(pathway: str, version: int | None = None) -> ProcessAudit:
    """The figures for one version of the pathway (the latest when `version` is None)."""
    versions = versions_of(pathway)
    definition = next((d for d in versions if version is None or d.version == version), None)
    if definition is None:
        raise NotFound(f"No version {version} of {pathway}.")
    cases = select(Case.id).join(ProcessInstance, ProcessInstance.id == Case.instance_id).where(
        ProcessInstance.definition_id == definition.id)
    elements = element_figures(definition, cases)
    rows = load_cases(cases, timer_ids=timer_ids(pathway))
    return ProcessAudit(definition, versions, elements, measure_adherence(pathway, rows, clock.now()), len(rows))


def element_figures(definition: ProcessDefinition, cases) -> list[ElementFigures]:
    """Figures for every user task and timer of the definition, over the named cases."""
    model = model_for(definition)
    figures = {bpmn_id: ElementFigures(bpmn_id, info.name, "task", info.lane or "")
               for bpmn_id, info in model.user_tasks.items()}
    figures |= {bpmn_id: ElementFigures(bpmn_id, info.name, "timer") for bpmn_id, info in model.timers.items()}
    _task_figures(figures, cases)
    _timer_figures(figures, cases)
    _heat(figures.values())
    return list(figures.values())


def _events(cases, types):
    return db.session.execute(
        select(AuditEvent.case_id, AuditEvent.event_type, AuditEvent.at, AuditEvent.data["bpmn_id"].as_string(),
               AuditEvent.data["task_id"].as_integer())
        .where(AuditEvent.case_id.in_(cases.scalar_subquery()), AuditEvent.event_type.in_(types))
        .order_by(AuditEvent.id))


def _task_figures(figures: dict[str, ElementFigures], cases) -> None:
    ready: dict[int, datetime] = {}
    passed: dict[str, set[int]] = defaultdict(set)
    waits: dict[str, list[int]] = defaultdict(list)
    counter = WorkingDays()
    for case_id, event_type, at, bpmn_id, task_id in _events(cases, TASK_EVENTS):
        if bpmn_id not in figures:
            continue
        passed[bpmn_id].add(case_id)
        if event_type in ("task_ready", "escalation_raised"):
            ready[task_id] = at
        elif event_type == "task_completed":
            figures[bpmn_id].completed += 1
            if task_id in ready:
                waits[bpmn_id].append(counter.between(ready[task_id], at))
    for bpmn_id, case_ids in passed.items():
        figures[bpmn_id].cases = len(case_ids)
        figures[bpmn_id].median_days, figures[bpmn_id].p90_days = _spread(waits[bpmn_id])


def _spread(waits: list[int]) -> tuple[float | None, int | None]:
    """Median and 90th percentile (nearest rank) of the waits."""
    if not waits:
        return None, None
    ordered = sorted(waits)
    return float(statistics.median(ordered)), ordered[math.ceil(0.9 * len(ordered)) - 1]


def _timer_figures(figures: dict[str, ElementFigures], cases) -> None:
    started: dict[str, set[int]] = defaultdict(set)
    for case_id, event_type, _, bpmn_id, _ in _events(cases, TIMER_EVENTS):
        if bpmn_id not in figures:
            continue
        if event_type == "timer_started":
            started[bpmn_id].add(case_id)
        else:
            figures[bpmn_id].timers_fired += 1
    for bpmn_id, case_ids in started.items():
        figures[bpmn_id].cases = figures[bpmn_id].timers_started = len(case_ids)


def _heat(figures) -> None:
    """Tasks by their median wait against the longest; timers by how often they fired when started."""
    figures = list(figures)
    longest = max((f.median_days or 0 for f in figures if f.kind == "task"), default=0)
    for figure in figures:
        if figure.kind == "timer":
            figure.heat = min(1.0, figure.timers_fired / figure.timers_started) if figure.timers_started else 0.0
        else:
            figure.heat = (figure.median_days or 0) / longest if longest else 0.0
