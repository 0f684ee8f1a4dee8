"""Keeping a case's timer rows in step with its workflow, inside the step's transaction (the
projection's part for its clocks, `app.services.cases.projections`): new clocks written, those the
workflow no longer waits on closed, a cycle's next occurrence moved on, each change audited."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import bindparam

from app import clock, direct
from app.db import insert_from_json, insert_once, json_rows
from app.extensions import db
from app.models import Case, Timer, User
from app.services.audit import record_event
from app.services.errors import Conflict
from app.workflow import WaitingTimer

_TIMERS = Timer.__table__
_CLOSE_TIMER = (_TIMERS.update().where(_TIMERS.c.id == bindparam("row_id"))
                .values(status=bindparam("new_status"), fired_at=bindparam("at"), claimed_by=None, claim_expires_at=None))
_TIMER_DUE = (_TIMERS.update().where(_TIMERS.c.id == bindparam("row_id"))
              .values(due_at=bindparam("due"), claimed_by=None, claim_expires_at=None))


def sync_timers(case: Case, waiting: list[WaitingTimer], actor: User | None,
                state_of: Callable[[str], str | None], rows: dict) -> list[dict]:
    """Close the timers the workflow no longer waits on, move those whose next occurrence moved on;
    returns the rows of the new ones, written with any that ran out unseen (`record_fired_unseen`)."""
    wanted = {timer.task_uuid: timer for timer in waiting}
    now = clock.now()
    _close_timers(case, [(row, state_of(uuid)) for uuid, row in rows.items() if uuid not in wanted], now, actor)
    started = []
    for uuid, timer in wanted.items():
        row = rows.get(uuid)
        if row is None:
            started.append(_timer_row(case, timer, "waiting", None, now))
            record_event("timer_started", case_id=case.id, actor=actor, data={
                "timer": timer.name, "bpmn_id": timer.bpmn_id, "guards": timer.guards, "due_at": timer.due_at})
        elif row.due_at != timer.due_at:  # a cycle timer moved on to its next occurrence
            direct.execute(db.session, _TIMER_DUE, {"row_id": row.id, "due": timer.due_at})
    return started


def _timer_row(case: Case, timer: WaitingTimer, status: str, fired_at, now) -> dict:
    return {"instance_id": case.instance_id, "case_id": case.id, "task_uuid": timer.task_uuid, "bpmn_id": timer.bpmn_id,
            "name": timer.name, "guards": timer.guards, "interrupting": timer.interrupting, "due_at": timer.due_at,
            "status": status, "fired_at": fired_at, "created_at": now}


def record_fired_unseen(case: Case, fired: list[WaitingTimer], waiting: list[WaitingTimer], rows: dict,
                        actor: User | None, started: list[dict] = ()) -> None:
    """Write the step's new timers: `started` (the rows of those now waiting) and, with them (one
    statement on PostgreSQL), each clock that ran out in the step that started it (counted from a date
    already past, such as a concern logged days after the manager became aware). That one was never
    waiting: it is recorded as started and fired at once, so the case page, the timeline and the
    governance report see the breach. One already recorded (its task's id is unique) is left as it is,
    and not audited again."""
    waiting_now = {timer.task_uuid for timer in waiting}
    # a clock that ran out but was waiting is closed as fired with the rest; one that waits again is a
    # cycle's next occurrence
    unseen = [timer for timer in fired if timer.task_uuid not in rows and timer.task_uuid not in waiting_now]
    now = clock.now()
    new = [*started, *(_timer_row(case, timer, "fired", now, now) for timer in unseen)]
    if not new:
        return
    written = _insert_timers(new)
    if any(row["task_uuid"] not in written for row in started):
        raise Conflict("A clock this step started is recorded already. Reload the case and try again.")
    for timer in unseen:
        timer_id = written.get(timer.task_uuid)
        if timer_id is None:
            continue  # recorded already
        record_event("timer_fired", case_id=case.id, actor=actor, data={
            "timer_id": timer_id, "timer": timer.name, "bpmn_id": timer.bpmn_id, "guards": timer.guards,
            "due_at": timer.due_at, "interrupting": timer.interrupting, "ran_out_before_it_started": True})


def _insert_timers(rows: list[dict]) -> dict[str, int]:
    """INSERT ... ON CONFLICT (task_uuid) DO NOTHING RETURNING task_uuid, id: the ids of the rows
    written, by task (a row already there is left as it is and returns nothing). On PostgreSQL one
    statement whatever their number, the rows one JSON parameter (one plan; their VALUES made a
    statement for each number of rows); on SQLite, in process, one prebuilt statement a row."""
    if db.session.get_bind().dialect.name == "postgresql":
        return dict(direct.execute(db.session, _TIMERS_FROM_JSON, {"timer_rows": json_rows(rows)}))
    statement = insert_once(db.session, _TIMERS, "task_uuid", _TIMERS.c.task_uuid, _TIMERS.c.id,
                            values={"claimed_by": None, "claim_expires_at": None})
    return {row.task_uuid: row.id for one in rows for row in direct.execute(db.session, statement, one)}


_TIMERS_FROM_JSON = (insert_from_json(_TIMERS, "timer_rows").on_conflict_do_nothing(index_elements=["task_uuid"])
                     .returning(_TIMERS.c.task_uuid, _TIMERS.c.id))


def _close_timers(case: Case, closing: list[tuple], now, actor: User | None) -> None:
    """Close each (timer row, its task's state in the workflow): fired if it completed, else
    cancelled; one statement for them all, an audit event each."""
    if not closing:
        return
    fired = [spiff_state == "COMPLETED" for _row, spiff_state in closing]
    params = [{"row_id": row.id, "new_status": "fired" if ran_out else "cancelled", "at": now if ran_out else None}
              for (row, _state), ran_out in zip(closing, fired, strict=True)]
    direct.execute(db.session, _CLOSE_TIMER, params)
    for (row, _state), ran_out in zip(closing, fired, strict=True):
        record_event("timer_fired" if ran_out else "timer_cancelled", case_id=case.id, actor=actor, data={
            "timer_id": row.id, "timer": row.title, "bpmn_id": row.bpmn_id, "guards": row.guards,
            "due_at": row.due_at, "interrupting": row.interrupting})
