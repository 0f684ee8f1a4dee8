"""Who is on call is read from the rota once, and again only when the rota (or the organisation) has
changed: a step that routes work that must not wait does not read it each time. What was read still
answers for the moment asked (a shift that has ended is no one's; one that has begun is someone's),
and a change made by any process, or by the same transaction, is seen by the next step."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import time_machine
from sqlalchemy import event, insert

from app.extensions import db
from app.models import OnCallShift
from app.services.accounts import admin as admin_service
from app.services.cases import lifecycle
from app.services.notifications.rota import on_call_people
from tests.escalations.cases import PIPOT_START, deploy, on_call, open_tasks, person, today

FRIDAY_6_30PM = datetime(2026, 11, 27, 18, 30, tzinfo=timezone.utc)


@contextmanager
def rota_reads():
    """The statements that read or write the rota, while the block runs."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        if "on_call_shift" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def _first_steps_assignee(reporter) -> int | None:
    case = lifecycle.start_case("pipot", PIPOT_START | {"date_became_aware": today()}, reporter)
    [first_steps] = open_tasks(case, "Task_first_steps_on_call")
    return first_steps.assignee_id


def test_a_step_reads_the_rota_only_when_it_has_changed(app_ctx):
    deploy("pipot")
    nia, reporter = person("on_call_manager", name="Nia Night"), person()
    on_call("on_call_manager", nia, FRIDAY_6_30PM - timedelta(hours=2), FRIDAY_6_30PM + timedelta(hours=14))
    with time_machine.travel(FRIDAY_6_30PM, tick=False):
        assert _first_steps_assignee(reporter) == nia.id
        with rota_reads() as seen:
            assert _first_steps_assignee(reporter) == nia.id
        assert seen == []


def test_shifts_read_once_still_answer_for_the_moment_asked(app_ctx):
    deploy("pipot")
    nia, dee = person("on_call_manager", name="Nia Night"), person("on_call_manager", name="Dee Day")
    reporter = person()
    on_call("on_call_manager", nia, FRIDAY_6_30PM - timedelta(hours=2), FRIDAY_6_30PM + timedelta(hours=1))
    on_call("on_call_manager", dee, FRIDAY_6_30PM + timedelta(hours=3), FRIDAY_6_30PM + timedelta(hours=14))
    with time_machine.travel(FRIDAY_6_30PM, tick=False) as clock, rota_reads() as seen:
        assert _first_steps_assignee(reporter) == nia.id
        read = len(seen)
        clock.shift(timedelta(hours=2))  # Nia's shift has ended, Dee's not begun: a gap
        assert _first_steps_assignee(reporter) is None
        clock.shift(timedelta(hours=2))
        assert _first_steps_assignee(reporter) == dee.id
        assert len(seen) == read  # read at the first step only


def test_a_shift_added_by_another_process_is_seen_by_the_next_step(app_ctx):
    deploy("pipot")
    nia, reporter = person("on_call_manager", name="Nia Night"), person()
    with time_machine.travel(FRIDAY_6_30PM, tick=False):
        assert _first_steps_assignee(reporter) is None  # nobody on call: read, and kept
        with db.engine.begin() as elsewhere:  # another process's connection, another transaction
            elsewhere.execute(insert(OnCallShift), {"role_key": "on_call_manager", "user_id": nia.id,
                                                    "starts_at": FRIDAY_6_30PM - timedelta(hours=1),
                                                    "ends_at": FRIDAY_6_30PM + timedelta(hours=12)})
        assert _first_steps_assignee(reporter) == nia.id


def test_a_shift_taken_off_the_rota_or_a_person_made_inactive_is_seen_by_the_next_step(app_ctx):
    deploy("pipot")
    administrator = person("system_administrator", name="Ada Admin")
    nia, dee = person("on_call_manager", name="Nia Night"), person("on_call_manager", name="Dee Day")
    reporter = person()
    on_call("on_call_manager", nia, FRIDAY_6_30PM - timedelta(hours=1), FRIDAY_6_30PM + timedelta(hours=12))
    on_call("on_call_manager", dee, FRIDAY_6_30PM - timedelta(hours=2), FRIDAY_6_30PM + timedelta(hours=12))
    with time_machine.travel(FRIDAY_6_30PM, tick=False):
        assert _first_steps_assignee(reporter) == nia.id  # the most recent shift first
        [shift] = [s for s in admin_service.list_rota() if s.user_id == nia.id]
        admin_service.remove_shift(administrator, shift.id)
        assert _first_steps_assignee(reporter) == dee.id
        dee.is_active = False
        db.session.commit()
        assert _first_steps_assignee(reporter) is None


def test_a_transaction_sees_its_own_change_to_the_rota(app_ctx):
    deploy("pipot")
    nia = person("on_call_manager", name="Nia Night")
    with time_machine.travel(FRIDAY_6_30PM, tick=False):
        assert on_call_people("on_call_manager") == []
        db.session.commit()
        assert on_call_people("on_call_manager") == []  # read once more in this transaction, kept
        db.session.add(OnCallShift(role_key="on_call_manager", user_id=nia.id,
                                   starts_at=FRIDAY_6_30PM - timedelta(hours=1), ends_at=FRIDAY_6_30PM + timedelta(hours=1)))
        db.session.flush()
        assert on_call_people("on_call_manager") == [nia]
        db.session.rollback()
        assert on_call_people("on_call_manager") == []  # what was rolled back was never the rota
