"""A realistic population of cases, fast (issue 9, item 1).

Running 100,000 cases through every step would take hours, so the generator runs *templates* through
the application's own services (the scenario routes of tests/scenarios, cut at several points, so
cases sit at every stage from a fresh concern to closure) and then *clones* them with bulk inserts.
A clone is the template's rows with new ids, a new reference and new task UUIDs, its audit chain
re-hashed: the same rows the services would have written. `tests/bench/test_population.py` checks
that clones behave exactly like cases made by the services.
"""
from __future__ import annotations

import logging
import re
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import time_machine
from sqlalchemy import func, insert, select, text

from app import clock
from app.extensions import db
from app.models import AuditEvent, Case, CaseFact, HumanTask, ProcessInstance, ReferenceCounter, Timer
from app.services.audit import GENESIS, event_hash
from app.services.cases.counts import rebuild_case_counts
from app.services.cases.dashboard_counts import rebuild_dashboard_counts
from app.workflow import state_json
from tests.scenarios.runner import ScenarioRun, _run_step, deploy_pathway, load_scenario

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "tests" / "scenarios"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CUTS = (0.25, 0.6, 1.0)
WEEK = timedelta(days=7)
FILES_PER_PATHWAY = 8
CLONE_TABLES = (ProcessInstance, Case, HumanTask, Timer, AuditEvent, CaseFact)


UUID_MARK, REFERENCE_MARK = "\x01", "\x02"


@dataclass
class Template:
    pathway: str
    status: str
    rows: dict[str, list[dict]] = field(default_factory=dict)
    state_pattern: str = ""  # the state's JSON with every UUID's last 12 digits and the reference marked

    @property
    def reference(self) -> str:
        return self.rows["case_record"][0]["reference"]

    def state_for(self, suffix: str, reference: str) -> bytes:
        text_ = self.state_pattern.replace(UUID_MARK, suffix).replace(REFERENCE_MARK, reference)
        return zlib.compress(text_.encode("utf-8"), 1)


def scenario_files(pathways=("pipot", "lado"), per_pathway: int = FILES_PER_PATHWAY) -> list[Path]:
    """Scenario routes to take templates from: up to `per_pathway` of each, spread over the list."""
    chosen = []
    for pathway in pathways:
        files = sorted((SCENARIOS / pathway).glob("*.json"))
        step = max(1, len(files) // per_pathway)
        chosen.extend(files[::step][:per_pathway])
    return chosen


def build_templates(base: datetime, files: list[Path], cuts=CUTS, *, keep_weekday: bool = False) -> list[Template]:
    """Run each scenario's steps up to each cut point, starting at `base`; keep the case's rows.

    With `keep_weekday`, a route starts instead at the first moment from `base` on that has its own
    first step's weekday and time of day: its working-day clocks and in-hours routing then run as the
    route was written, and every route builds whatever the day and hour of the run (from `base`
    itself, a route written for Monday 10:00 went to the on-call manager when run at 17:30, and
    one whose deadlines were counted from a Monday did not reach its later steps from a Saturday)."""
    templates = []
    for path in files:
        scenario = load_scenario(path)
        if scenario.get("also_deploy"):
            continue  # linked-case routes make two cases; the single-pathway routes suffice here
        deploy_pathway(scenario)
        steps = [s for s in scenario["steps"] if not any(k.startswith("expect") for k in s)]
        for cut in sorted({max(2, round(len(steps) * c)) for c in cuts}):
            try:
                case = _run_prefix(scenario, steps[:cut], base, keep_weekday)
            except Exception as err:  # a route that needs its own dates; the others suffice
                db.session.rollback()
                log.warning("template %s[:%s] skipped: %s", path.name, cut, err)
                continue
            if case is not None:
                templates.append(_capture(case))
    return templates


def _run_prefix(scenario: dict, steps: list[dict], base: datetime, keep_weekday: bool = False):
    first = next((datetime.fromisoformat(s["at"]) for s in steps if "at" in s), base)
    start = first + WEEK * -((first - base) // WEEK) if keep_weekday else base
    shift = start - first
    with time_machine.travel(start, tick=False) as traveller:
        run = ScenarioRun(pathway=scenario["pathway"], traveller=traveller)
        for step in steps:
            if "at" in step:
                continue
            if "advance_to" in step:
                step = {"advance_to": (datetime.fromisoformat(step["advance_to"]) + shift).isoformat()}
            _run_step(run, _dates_shifted(step, shift))
    return run.case


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _dates_shifted(value, shift: timedelta):
    """The step's answers with every date moved as the clock was (forms refuse a date after today)."""
    if isinstance(value, dict):
        return {key: _dates_shifted(item, shift) for key, item in value.items()}
    if isinstance(value, list):
        return [_dates_shifted(item, shift) for item in value]
    if isinstance(value, str) and _DATE.fullmatch(value):
        return (date.fromisoformat(value) + timedelta(days=shift.days)).isoformat()
    return value


def _capture(case: Case) -> Template:
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    rows = {
        "process_instance": _rows(ProcessInstance, ProcessInstance.id == case.instance_id),
        "case_record": _rows(Case, Case.id == case.id),
        "human_task": _rows(HumanTask, HumanTask.case_id == case.id),
        "timer": _rows(Timer, Timer.case_id == case.id),
        "audit_event": _rows(AuditEvent, AuditEvent.case_id == case.id, order=AuditEvent.seq),
        "case_fact": _rows(CaseFact, CaseFact.case_id == case.id),
    }
    pattern = UUID.sub(lambda m: m.group(0)[:24] + UUID_MARK, state_json(rows["process_instance"][0]["state"]))
    pattern = pattern.replace(f'"{case.reference}"', f'"{REFERENCE_MARK}"')
    return Template(pathway=case.pathway, status=case.status, rows=rows, state_pattern=pattern)


def _rows(model, where, order=None) -> list[dict]:
    columns = model.__table__.columns
    statement = select(*columns).where(where).order_by(order if order is not None else columns["id"])
    return [dict(row._mapping) for row in db.session.execute(statement)]


class IdBlock:
    """Next free ids per table, taken once so clones can be inserted with their ids."""

    def __init__(self):
        self.next = {m.__tablename__: (db.session.scalar(select(func.max(m.id))) or 0) + 1 for m in CLONE_TABLES}

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] += 1
        return value


def clone_population(templates: list[Template], count: int, *, first_number: int = 100_000,
                     batch: int = 500) -> int:
    """Insert `count` clones of `templates` (round robin); returns how many were inserted."""
    ids, done = IdBlock(), 0
    while done < count:
        size = min(batch, count - done)
        rows = {m.__tablename__: [] for m in CLONE_TABLES}
        for n in range(done, done + size):
            _clone(templates[n % len(templates)], first_number + n, ids, rows)
        for model in CLONE_TABLES:
            if rows[model.__tablename__]:
                db.session.execute(insert(model.__table__), rows[model.__tablename__])
        db.session.commit()
        done += size
    _after_bulk_insert(templates, first_number + count)
    return done


def _clone(template: Template, number: int, ids: IdBlock, out: dict) -> None:
    suffix = f"{number:012x}"
    remap = lambda uuid: uuid[:24] + suffix  # noqa: E731
    old_ref = template.reference
    new_ref = f"{old_ref.rsplit('-', 1)[0]}-{number}"
    instance = dict(template.rows["process_instance"][0], id=ids.take("process_instance"),
                    state=template.state_for(suffix, new_ref))
    case = dict(template.rows["case_record"][0], id=ids.take("case_record"), reference=new_ref,
                instance_id=instance["id"])
    task_ids = {}
    for row in template.rows["human_task"]:
        task_ids[row["id"]] = ids.take("human_task")
        out["human_task"].append(dict(row, id=task_ids[row["id"]], instance_id=instance["id"], case_id=case["id"],
                                      task_uuid=remap(row["task_uuid"])))
    for row in template.rows["timer"]:
        out["timer"].append(dict(row, id=ids.take("timer"), instance_id=instance["id"], case_id=case["id"],
                                 task_uuid=remap(row["task_uuid"]), claimed_by=None, claim_expires_at=None))
    for row in template.rows.get("case_fact", []):
        out["case_fact"].append(dict(row, id=ids.take("case_fact"), case_id=case["id"]))
    out["process_instance"].append(instance)
    out["case_record"].append(case)
    out["audit_event"].extend(_clone_events(template, case["id"], task_ids, old_ref, new_ref, ids))


def _clone_events(template: Template, case_id: int, task_ids: dict, old_ref: str, new_ref: str, ids: IdBlock):
    prev = GENESIS
    for row in template.rows["audit_event"]:
        data = dict(row["data"])
        if data.get("task_id") in task_ids:
            data["task_id"] = task_ids[data["task_id"]]
        if data.get("reference") == old_ref:
            data["reference"] = new_ref
        event = dict(row, id=ids.take("audit_event"), stream=f"case:{case_id}", case_id=case_id, data=data,
                     prev_hash=prev)
        event["hash"] = prev = event_hash(SimpleNamespace(**event))
        yield event


def _after_bulk_insert(templates: list[Template], last_number: int) -> None:
    """Keep references and (on PostgreSQL) id sequences ahead of the inserted rows."""
    for prefix in {t.reference.rsplit("-", 1)[0] for t in templates}:
        head, year = prefix.rsplit("-", 1)
        counter = db.session.get(ReferenceCounter, (head, int(year)))
        if counter is not None:
            counter.last_number = max(counter.last_number, last_number)
    if db.session.get_bind().dialect.name == "postgresql":
        for model in CLONE_TABLES:
            table = model.__tablename__
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))
    rebuild_case_counts()  # the steps keep them up; a bulk load recounts
    rebuild_dashboard_counts()
    db.session.commit()


def default_base() -> datetime:
    """Templates start a little before now, so their clocks are still running."""
    return clock.now() - timedelta(hours=2)
