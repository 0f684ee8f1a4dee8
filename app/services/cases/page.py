"""The case page: summary, open tasks, the clocks running, the timeline, actions, documents, team."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from app.calendar import parse_when
from app.extensions import db
from app.models import AccessLog, AuditEvent, Case, CaseTeamMember, Document, HumanTask, Role, Timer, User
from app.services import access
from app.services.cases import records
from app.services.cases.at_a_glance import AtAGlance, at_a_glance
from app.services.cases.call_now import callable_now
from app.services.cases.clocks import Due, describe_due
from app.services.cases.diagrams import CaseDiagram, case_diagram
from app.services.cases.documents import case_documents
from app.services.cases.meeting_records import record_links
from app.services.cases.records import case_events, linked_cases
from app.services.cases.timeline import TimelineEntry, timeline
from app.services.cases.timer_effects import timer_effects

ACTION_LISTS = ("actions", "agreed_actions")


@dataclass
class TaskRow:
    task: HumanTask
    role_name: str
    holder: str | None
    due: Due


@dataclass
class ClockRow:
    name: str
    guards: str
    due_at: datetime
    due: Due
    effect: str
    fired_at: datetime | None = None


@dataclass
class ActionList:
    title: str
    columns: list[str]
    rows: list[list[str]]


@dataclass
class CasePage:
    case: Case
    pathway_name: str
    tasks: list[TaskRow]
    clocks: list[ClockRow]
    fired: list[ClockRow]
    timeline: list[TimelineEntry]
    actions: list[ActionList]
    documents: list[Document]
    linked: list[Case]
    team: list[tuple[str, str]]
    access_log: list[tuple[AccessLog, str]] | None = None
    may_add_team: bool = False
    opened_by: str = ""
    key_dates: list[tuple[str, datetime]] = field(default_factory=list)
    diagram: CaseDiagram | None = None
    glance: AtAGlance = field(default_factory=AtAGlance)
    next_deadline: tuple[str, datetime, Due] | None = None  # what, when, in words
    timeline_filter: str = ""
    call_now: list = field(default_factory=list)  # clocks this person may bring forward (CallNow)
    records: list = field(default_factory=list)  # the meeting records (RecordLink)

    def timeline_shown(self) -> list[TimelineEntry]:
        """The timeline, filtered to one kind of entry when one is chosen."""
        if self.timeline_filter not in TIMELINE_FILTERS:
            return self.timeline
        return [entry for entry in self.timeline if entry.kind == self.timeline_filter]


TIMELINE_FILTERS = {"work": "Work done (answers submitted)", "tasks": "Tasks given, picked up and passed on",
                    "clocks": "Clocks and escalations", "messages": "Notifications and emails",
                    "case": "The case itself (opened, linked, moved, closed, team)"}


def case_page(reference: str, user: User, timeline_filter: str = "") -> CasePage:
    """Everything the case page shows, if the user may see the case (else NotFound); logged."""
    case = records.view_case(reference, user)
    roles = dict(db.session.execute(select(Role.key, Role.name)).all())
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id).order_by(HumanTask.id)).all()
    names = _names({t.assignee_id for t in tasks} | {case.opened_by_id})
    events = case_events(case)
    clocks, fired = _clocks(case)
    entries = timeline(case, events, {t.id: t for t in tasks}, roles)
    return CasePage(
        case=case, pathway_name=case.instance.definition.name or case.pathway,
        tasks=[TaskRow(t, roles.get(t.role_key, t.lane or ""), names.get(t.assignee_id), describe_due(t.due_at))
               for t in tasks if t.status == "open"],
        clocks=clocks, fired=fired,
        timeline=entries, diagram=case_diagram(case, events, tasks, entries),
        actions=_actions(events), documents=case_documents(case), linked=linked_cases(case),
        team=_team(case), access_log=access.access_log(case) if access.may_see_access_log(user, case) else None,
        may_add_team=access.oversees(user, case),
        opened_by=names.get(case.opened_by_id, "Someone"), key_dates=_key_dates(case),
        glance=at_a_glance(events, {t.id: t for t in tasks}, case.instance.definition.forms or {}),
        next_deadline=_next_deadline(tasks, clocks), timeline_filter=timeline_filter,
        call_now=callable_now(case, user), records=record_links(case))


def _next_deadline(tasks: list[HumanTask], clocks: list[ClockRow]) -> tuple[str, datetime, Due] | None:
    """The soonest due time of the open tasks (a reminder is not a deadline); without any, the soonest clock."""
    due = [(f"“{t.title}”", t.due_at) for t in tasks if t.status == "open" and t.due_at]
    due = due or [(clock.name, clock.due_at) for clock in clocks]
    if not due:
        return None
    what, when = min(due, key=lambda pair: pair[1])
    return what, when, describe_due(when)


def _names(ids: set) -> dict[int, str]:
    ids = {i for i in ids if i}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}


def _clocks(case: Case) -> tuple[list[ClockRow], list[ClockRow]]:
    effects = timer_effects(case.instance.definition)
    rows = db.session.scalars(select(Timer).where(Timer.case_id == case.id).order_by(Timer.due_at)).all()
    def row(t: Timer) -> ClockRow:
        return ClockRow(t.name, t.guards, t.due_at, describe_due(t.due_at), effects.get(t.bpmn_id, ""), t.fired_at)
    return [row(t) for t in rows if t.status == "waiting"], [row(t) for t in rows if t.status == "fired"]


def _actions(events: list[AuditEvent]) -> list[ActionList]:
    """Actions agreed at meetings: the latest answer to each actions list, with its state."""
    latest: dict[str, list] = {}
    done: list[tuple[dict, dict]] = []  # (the action a task completed, its answers)
    for event in events:
        answers = (event.data or {}).get("answers") if event.event_type == "task_completed" else None
        for key, value in (answers or {}).items():
            if (key in ACTION_LISTS or key.endswith("_actions")) and isinstance(value, list):
                latest[key] = [item for item in value if isinstance(item, dict)]
        for item in ((event.data or {}).get("about") or {}).values() if answers is not None else ():
            if isinstance(item, dict):
                done.append((item, answers))
    return [_action_list(key, items, done) for key, items in latest.items() if items]


def _action_state(item: dict, done: list[tuple[dict, dict]]) -> str:
    """"Agreed" until the task completing it is done; then what its owner said, with the date."""
    answers = next((answers for about, answers in reversed(done) if about == item), None)
    if answers is None:
        return "Agreed"
    status = str(answers.get("action_status") or "done").replace("_", " ").capitalize()
    on = answers.get("action_completed_on") or answers.get("action_closed_on")
    return f"{status} on {_day(on)}" if on else status


def _day(value) -> str:
    try:
        return date.fromisoformat(str(value)).strftime("%-d %B %Y")
    except ValueError:
        return str(value)


def _action_list(key: str, items: list[dict], done: list[tuple[dict, dict]] = ()) -> ActionList:
    columns = list(dict.fromkeys(k for item in items for k in item))
    if not any(c in ("status", "state") for c in columns):
        columns.append("status")
    rows = [[_cell(item.get(c, _action_state(item, list(done)) if c == "status" else "")) for c in columns]
            for item in items]
    return ActionList(key.replace("_", " ").capitalize(), [c.replace("_", " ").capitalize() for c in columns], rows)


def _cell(value) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value).replace("_", " ") if value is not None else ""


def _team(case: Case) -> list[tuple[str, str]]:
    rows = db.session.execute(select(User.display_name, CaseTeamMember.reason)
                              .join(User, User.id == CaseTeamMember.user_id)
                              .where(CaseTeamMember.case_id == case.id).order_by(CaseTeamMember.added_at)).all()
    return [(name, reason) for name, reason in rows]


def _key_dates(case: Case) -> list[tuple[str, datetime]]:
    dates = []
    for key, value in sorted((case.key_dates or {}).items()):
        try:
            label = key.removesuffix("_at").removeprefix("Task_").replace("_", " ").capitalize()
            dates.append((label, parse_when(value)))
        except (TypeError, ValueError):
            continue
    return sorted(dates, key=lambda pair: pair[1])
