"""Diagrams for pages: where a case is on its process, and what changed between two versions.

The case diagram is built from the projections (open tasks and their due times, timers) and the audit
trail, plus the elements the workflow has passed, read from its stored JSON without rebuilding the
workflow (`app.workflow.progress`). Each picture comes as a static SVG (pages work without JavaScript)
and as the marks the bpmn-js viewer (`app/static/src/diagram.js`) applies to the same diagram.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import AuditEvent, Case, HumanTask, ProcessDefinition, Timer
from app.services.cases.timeline import TimelineEntry
from app.services.runtime import model_for
from app.workflow import ElementChange, compare_models, element_progress, render_svg

# Marks, strongest first: an element shows the first that applies.
LEGEND = [
    ("overdue", "Overdue task"),
    ("current", "Current task or running clock"),
    ("fired", "Clock that ran out"),
    ("completed", "Done"),
]
DIFF_LEGEND = [("added", "Added"), ("changed", "Changed"), ("removed", "Removed")]


@dataclass
class HistoryEntry:
    at: datetime
    actor: str
    text: str


@dataclass
class CaseDiagram:
    """What the case page needs to draw where the case is."""

    svg: str
    marks: dict[str, str]
    names: dict[str, str]
    history: dict[str, list[HistoryEntry]] = field(default_factory=dict)
    legend: list[tuple[str, str]] = field(default_factory=lambda: list(LEGEND))

    def viewer_data(self) -> dict:
        """The marks and histories for the bpmn-js viewer, as JSON-ready data."""
        return {"marks": self.marks, "names": self.names, "history": {
            element: [{"at": e.at.isoformat(), "actor": e.actor, "text": e.text} for e in entries]
            for element, entries in self.history.items()}}


def case_diagram(case: Case, events: list[AuditEvent], tasks: list[HumanTask],
                 entries: list[TimelineEntry]) -> CaseDiagram:
    """The case's diagram: elements done, current and overdue tasks, clocks that ran out, and each
    element's history on this case (`entries` are the timeline sentences of `events`, in order)."""
    definition = case.instance.definition
    marks = _marks(case, tasks)
    names = _names(definition)
    history = _history(events, entries, {t.id: t.bpmn_id for t in tasks})
    svg = render_svg(definition.bpmn_xml, max_bytes=_max_bytes(definition), marks=marks, key="case",
                     label=f"Diagram of the {definition.name or definition.process_key} process, marked to show "
                           f"where case {case.reference} is")
    return CaseDiagram(svg, marks, {k: v for k, v in names.items() if k in marks or k in history}, history)


def _max_bytes(definition: ProcessDefinition) -> int:
    return max(len(definition.bpmn_xml), current_app.config["MAX_BPMN_BYTES"])


def _marks(case: Case, tasks: list[HumanTask]) -> dict[str, str]:
    marks = {element: "completed" for element, state in element_progress(case.instance.state).items()
             if state == "completed"}
    timers = db.session.scalars(select(Timer).where(Timer.case_id == case.id)).all()
    for timer in timers:
        if timer.status == "fired":
            marks[timer.bpmn_id] = "fired"
    for timer in timers:
        if timer.status == "waiting":
            marks[timer.bpmn_id] = "current"
    now = clock.now()
    for task in tasks:
        if task.status == "open":
            overdue = task.due_at is not None and task.due_at < now
            if marks.get(task.bpmn_id) != "overdue":
                marks[task.bpmn_id] = "overdue" if overdue else "current"
    return marks


def _names(definition: ProcessDefinition) -> dict[str, str]:
    return dict(model_for(definition).element_names)


def _history(events: list[AuditEvent], entries: list[TimelineEntry], task_elements: dict[int, str]):
    history: dict[str, list[HistoryEntry]] = {}
    for event, entry in zip(events, entries):
        data = event.data or {}
        element = data.get("bpmn_id") or task_elements.get(data.get("task_id"))
        if element:
            history.setdefault(element, []).append(HistoryEntry(entry.at, entry.actor, entry.text))
    return history


@dataclass
class VersionDiff:
    """Two versions of a process side by side, with the elements added, removed and changed."""

    old: ProcessDefinition
    new: ProcessDefinition
    changes: list[ElementChange]
    old_svg: str
    new_svg: str
    legend: list[tuple[str, str]] = field(default_factory=lambda: list(DIFF_LEGEND))

    def marks(self, side: str) -> dict[str, str]:
        wanted = {"old": ("removed", "changed"), "new": ("added", "changed")}[side]
        return {c.element_id: c.change for c in self.changes if c.change in wanted}


def version_diff(old: ProcessDefinition, new: ProcessDefinition) -> VersionDiff:
    """What changed from `old` to `new`, with both diagrams marked."""
    limit = max(len(old.bpmn_xml), len(new.bpmn_xml), current_app.config["MAX_BPMN_BYTES"])
    changes = compare_models(old.bpmn_xml, new.bpmn_xml, max_bytes=limit)
    diff = VersionDiff(old, new, changes, "", "")
    diff.old_svg = render_svg(old.bpmn_xml, max_bytes=limit, marks=diff.marks("old"), key="old",
                              label=f"Version {old.version}, with the elements removed or changed marked")
    diff.new_svg = render_svg(new.bpmn_xml, max_bytes=limit, marks=diff.marks("new"), key="new",
                              label=f"Version {new.version}, with the elements added or changed marked")
    return diff
