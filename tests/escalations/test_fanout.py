"""People are told about a new task after the step that made it has committed: the step writes one
task-ready event; the hook after the commit (a thread of the same process) and the worker's sweep
both try to turn it into notifications, and exactly one of them does. Who is told does not change."""
from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timezone

import pytest
import time_machine
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditEvent,
    HumanTask,
    Notification,
    NotificationPreference,
    OutboxNotification,
    StageChangeEvent,
    TaskReadyEvent,
    User,
)
from app.services.audit import verify_audit
from app.services.cases import lifecycle
from app.services.notifications import outbox
from app.services.notifications.fanout import fan_out_many, fan_out_pending
from app.services.notifications.outbox import Notice, queue_notices, save_preferences
from app.services.people import role_holders
from app.services.tasks import human_tasks
from tests.escalations.cases import PIPOT, PIPOT_START, deploy, open_tasks, person, pipot_actions_agreed, sweep

WEDNESDAY_10AM = datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)  # in hours: the reporting manager's task


@pytest.fixture(autouse=True)
def _in_hours():
    with time_machine.travel(WEDNESDAY_10AM, tick=True):
        yield


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _told(task_ids) -> Counter:
    db.session.expire_all()
    links = {f"/tasks/{task_id}" for task_id in task_ids}
    return Counter((n.link, n.user_id) for n in db.session.scalars(select(Notification)) if n.link in links)


def _fan_out_statements(event_ids: list[int], stage_ids: list[int]) -> list[str]:
    """The statements `fan_out_many` sends for these events (each named by its verb and table)."""
    seen = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement.split()[0] + " " + statement.split()[2 if statement.startswith(("INSERT", "DELETE")) else 1])

    sa_event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert fan_out_many(event_ids, stage_ids) == len(event_ids) + len(stage_ids)
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", record)
    if db.engine.dialect.name == "sqlite":  # SQLAlchemy sends a multi-row INSERT ... RETURNING in
        # parameter order one row at a time there (in process, no round trip): one statement
        seen = [s for n, s in enumerate(seen) if not (n and s == seen[n - 1] and s.startswith("INSERT"))]
    return seen


def test_the_step_writes_one_event_and_the_worker_tells_the_same_people_once(app_ctx, monkeypatch):
    monkeypatch.setitem(app_ctx.config, "NOTIFY_FANOUT", "worker")  # no hook: the worker alone
    deploy("pipot")
    managers = [person("reporting_manager") for _ in range(3)]
    bystander = person("safeguarding_team")
    case = lifecycle.start_case("pipot", PIPOT_START, person())
    [task] = open_tasks(case, "Task_first_steps")
    assert _count(Notification) == 0 and _count(OutboxNotification) == 0  # nobody told inside the step
    assert _count(TaskReadyEvent, TaskReadyEvent.task_id == task.id) == 1
    events = _count(TaskReadyEvent)  # one per new task (the first steps, and any clock's task)

    assert fan_out_pending() == events
    expected = ({task.assignee_id} if task.assignee_id else
                {user.id for user in role_holders(task.role_key, task.unit_id)})
    assert expected and expected <= {m.id for m in managers} and bystander.id not in expected
    told = _told([task.id])
    assert set(user for _link, user in told) == expected and set(told.values()) == {1}
    assert _count(OutboxNotification, OutboxNotification.case_id == case.id) == len(expected)
    assert _count(TaskReadyEvent) == 0

    assert fan_out_pending() == 0  # a second sweep finds nothing to do
    assert sum(_told([task.id]).values()) == len(expected)


def test_hook_and_worker_together_tell_everyone_exactly_once_within_seconds(app_ctx, monkeypatch):
    monkeypatch.setitem(app_ctx.config, "NOTIFY_FANOUT", "thread")  # the hook, as in production
    deploy("pipot")
    managers = [person("reporting_manager") for _ in range(4)]
    reporter = person()
    stop = threading.Event()

    def worker():  # the safety net, sweeping as fast as it can, with no head start for the hook
        with app_ctx.app_context():
            while not stop.is_set():
                fan_out_pending(grace_seconds=0)
                time.sleep(0.005)
            db.session.remove()

    sweeper = threading.Thread(target=worker)
    sweeper.start()
    committed: dict[int, float] = {}
    try:
        for _ in range(8):
            case = lifecycle.start_case("pipot", PIPOT_START, reporter)
            committed[case.id] = time.perf_counter()
        arrived: dict[int, float] = {}
        deadline = time.perf_counter() + 30
        while len(arrived) < len(committed) and time.perf_counter() < deadline:
            db.session.expire_all()
            for case_id in db.session.scalars(select(Notification.case_id).distinct()):
                arrived.setdefault(case_id, time.perf_counter())
            time.sleep(0.01)
        while _count(TaskReadyEvent) and time.perf_counter() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        sweeper.join()

    assert set(arrived) == set(committed), "every case's new task was told about"
    slowest = max(arrived[c] - committed[c] for c in committed)
    print(f"slowest from commit to notification: {slowest * 1000:.0f} ms")
    assert slowest < 5, f"told within seconds of the commit (slowest {slowest:.2f} s)"
    assert _count(TaskReadyEvent) == 0
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.status == "open")).all()
    told = _told([t.id for t in tasks])
    assert set(told.values()) == {1}, "nobody told twice about one task"
    for task in tasks:
        expected = ({task.assignee_id} if task.assignee_id else
                    {user.id for user in role_holders(task.role_key, task.unit_id)})
        assert {user for link, user in told if link == f"/tasks/{task.id}"} == expected
        assert expected <= {m.id for m in managers} | {task.assignee_id}
    assert _count(OutboxNotification) == sum(told.values())
    assert _count(AuditEvent, AuditEvent.event_type == "notification_queued") == sum(told.values())
    assert verify_audit() == []  # the notifications' events joined each case's chain in order


def test_the_hook_tells_about_a_busy_moments_commits_in_one_transaction(app_ctx, monkeypatch):
    """The hook's thread gathers what commits within NOTIFY_FANOUT_GATHER_SECONDS of the first event
    it takes and tells about it all in one transaction: on a busy server each transaction's fixed cost
    (taking the events, locking and reading the cases, the people's preferences, the commit) is shared."""
    import app.services.notifications.fanout as fanout

    monkeypatch.setitem(app_ctx.config, "NOTIFY_FANOUT", "thread")
    monkeypatch.setitem(app_ctx.config, "NOTIFY_FANOUT_GATHER_SECONDS", 3.0)
    transactions = []
    real = fanout.fan_out_many

    def counted(*batch):
        transactions.append(batch)
        return real(*batch)

    monkeypatch.setattr(fanout, "fan_out_many", counted)
    deploy("pipot")
    [person("reporting_manager") for _ in range(2)]
    reporter = person()
    began = time.perf_counter()
    cases = [lifecycle.start_case("pipot", PIPOT_START, reporter).id for _ in range(6)]
    starting = time.perf_counter() - began
    deadline = time.perf_counter() + 30
    while _count(TaskReadyEvent) and time.perf_counter() < deadline:
        time.sleep(0.01)
    assert _count(TaskReadyEvent) == 0, "every event was taken"
    assert set(db.session.scalars(select(Notification.case_id).distinct())) == set(cases)
    # six commits within the gathering window (or two, should the starts have taken longer than it)
    assert len(transactions) <= 1 + int(starting // 3.0), (len(transactions), starting)
    assert verify_audit() == []


def test_a_new_stage_is_one_event_in_the_step_and_its_watchers_are_told_once_after(app_ctx, monkeypatch):
    """The PiPoT head of safeguarding hears of every new stage (seed 003 5.1). The step that moves the
    stage writes one event, whatever the number of heads; the worker tells each of them once."""
    monkeypatch.setitem(app_ctx.config, "NOTIFY_FANOUT", "worker")
    deploy("pipot")
    heads = [person("head_of_safeguarding") for _ in range(3)]
    manager = person("reporting_manager")
    case = lifecycle.start_case("pipot", PIPOT_START, person())
    fan_out_pending()
    [task] = open_tasks(case, "Task_first_steps")
    human_tasks.complete_task(task.id, manager, PIPOT["Task_first_steps"])  # first steps -> Referral
    assert _count(Notification, Notification.kind == "stage") == 0  # nobody told inside the step
    assert _count(StageChangeEvent, StageChangeEvent.case_id == case.id) == 1

    fan_out_pending()
    told = Counter(n.user_id for n in db.session.scalars(select(Notification).where(Notification.kind == "stage")))
    assert told == Counter({head.id: 1 for head in heads})
    assert _count(StageChangeEvent) == 0
    assert fan_out_pending() == 0
    assert _count(Notification, Notification.kind == "stage") == len(heads)
    assert _count(AuditEvent, AuditEvent.case_id == case.id, AuditEvent.event_type == "notification_queued",
                  ) >= len(heads)
    assert verify_audit() == []


def test_a_new_stage_nobody_watches_writes_no_event(app_ctx, monkeypatch):
    """Where nobody holds a watching role (in the case's unit or above it), there is nobody to tell:
    the step writes no stage-change event (whether anyone holds it is known without a read)."""
    monkeypatch.setitem(app_ctx.config, "NOTIFY_FANOUT", "worker")
    deploy("pipot")
    manager = person("reporting_manager")
    case = lifecycle.start_case("pipot", PIPOT_START, person())
    [task] = open_tasks(case, "Task_first_steps")
    human_tasks.complete_task(task.id, manager, PIPOT["Task_first_steps"])  # first steps -> Referral
    db.session.expire_all()
    assert db.session.get(type(case), case.id).stage != "First steps"
    assert _count(StageChangeEvent) == 0


def test_a_reminder_is_one_event_in_the_firing_and_the_holder_is_told_once_after(app_ctx, monkeypatch):
    """A reminder timer that fires writes, in the firing's transaction, the reminder's audit event and
    one event row; the person holding the task is told after the commit, once, however often the
    worker looks."""
    monkeypatch.setitem(app_ctx.config, "NOTIFY_FANOUT", "worker")
    crew = {role: person(role) for role in ("reporting_manager", "safeguarding_team", "triage_panel",
                                            "meeting_chair", "people_experience", "head_of_safeguarding")}
    action = {"action": "Check the rota for other shifts worked with this patient.",
              "owner_role": "reporting_manager", "due_date": "2026-11-27"}
    with time_machine.travel(datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc), tick=False) as clock:
        case = pipot_actions_agreed(person(), crew, [action])
        [check_rota] = open_tasks(case, "Task_meeting_action_reporting_manager")
        fan_out_pending()  # the meeting's new tasks told
        clock.move_to(datetime(2026, 11, 26, 17, 1, tzinfo=timezone.utc))  # 24 hours before it is due
        sweep()
        reminders = (Notification.kind == "reminder",)
        assert _count(Notification, *reminders) == 0  # nobody told inside the firing
        assert _count(TaskReadyEvent, TaskReadyEvent.task_id == check_rota.id,
                      TaskReadyEvent.reminder_timer_id.is_not(None)) == 1
        assert _count(AuditEvent, AuditEvent.case_id == case.id, AuditEvent.event_type == "reminder_raised") == 1

        assert fan_out_pending() == 1
        owner = crew["reporting_manager"]
        assert db.session.scalars(select(Notification.link).where(*reminders)).all() == [f"/tasks/{check_rota.id}"]
        assert _count(Notification, *reminders, Notification.user_id == owner.id) == 1
        assert _count(OutboxNotification, OutboxNotification.kind == "reminder",
                      OutboxNotification.user_id == owner.id) == 1
        assert fan_out_pending() == 0 and _count(Notification, *reminders) == 1
        assert verify_audit() == []


def test_telling_many_cases_people_costs_the_same_statements_as_telling_few(app_ctx, monkeypatch):
    """The fan-out reads and locks its cases in one statement and writes every notification, outbox
    row and audit event of the batch in one statement each: six cases' new tasks take no more
    statements than two cases' (the same roles in the same unit)."""
    monkeypatch.setitem(app_ctx.config, "NOTIFY_FANOUT", "worker")
    deploy("pipot")
    managers = [person("reporting_manager") for _ in range(2)]
    for _ in range(8):
        lifecycle.start_case("pipot", PIPOT_START, person())
    ids = list(db.session.scalars(select(TaskReadyEvent.id).order_by(TaskReadyEvent.case_id, TaskReadyEvent.id)))
    by_case = Counter(db.session.scalars(select(TaskReadyEvent.case_id).order_by(TaskReadyEvent.id)))
    assert len(by_case) == 8
    per_case = len(ids) // 8
    assert set(by_case.values()) == {per_case}
    db.session.rollback()

    two, six = (_fan_out_statements(event_ids, []) for event_ids in (ids[:2 * per_case], ids[2 * per_case:]))
    assert len(six) == len(two), "\n".join(two) + "\n---\n" + "\n".join(six)
    theirs = _count(HumanTask, HumanTask.role_key == "reporting_manager", HumanTask.status == "open")
    assert theirs >= 8  # each case's first steps, at least
    told = _count(Notification, Notification.user_id.in_([m.id for m in managers]))
    assert told == 2 * theirs  # every reporting manager's task told to both managers, once
    assert verify_audit() == []


def test_telling_many_cases_new_stages_reads_each_watching_roles_holders_once(app_ctx, monkeypatch):
    """The watchers of six cases' new stages (the same role in the same unit) are read once in the
    fan-out's transaction, as the holders of a new task's role are: no more statements than for two."""
    monkeypatch.setitem(app_ctx.config, "NOTIFY_FANOUT", "worker")
    deploy("pipot")
    heads = [person("head_of_safeguarding") for _ in range(2)]
    manager = person("reporting_manager")
    for _ in range(8):
        case = lifecycle.start_case("pipot", PIPOT_START, person())
        [task] = open_tasks(case, "Task_first_steps")
        human_tasks.complete_task(task.id, manager, PIPOT["Task_first_steps"])  # first steps -> Referral
    fan_out_many(list(db.session.scalars(select(TaskReadyEvent.id))))  # the new tasks' people told first
    ids = list(db.session.scalars(select(StageChangeEvent.id).order_by(StageChangeEvent.id)))
    assert len(set(db.session.scalars(select(StageChangeEvent.case_id)))) == len(ids) == 8
    db.session.rollback()

    two, six = _fan_out_statements([], ids[:2]), _fan_out_statements([], ids[2:])
    assert len(six) == len(two), "\n".join(two) + "\n---\n" + "\n".join(six)
    told = Counter(n.user_id for n in db.session.scalars(select(Notification).where(Notification.kind == "stage")))
    assert told == Counter({head.id: 8 for head in heads})  # each case's new stage, once
    assert verify_audit() == []


def test_notifications_and_their_outbox_rows_are_one_statement_whatever_their_number(app_ctx):
    """On PostgreSQL the fan-out writes every notification and its outbox row in one statement, the
    rows one JSON parameter (psycopg keeps its parsed form whatever their number); SQLite sends the
    notifications, then the outbox rows. Each outbox row names its own notification, and a notice
    queued already (its key there) writes neither again."""
    staff = [person() for _ in range(12)]

    def queued(people) -> tuple[int, list[str]]:
        db.session.scalars(select(User).where(User.id.in_([p.id for p in people]))).all()  # loaded again
        seen = []

        def record(_conn, _cursor, statement, *_args):
            seen.append(statement.split()[0])

        sa_event.listen(db.engine, "before_cursor_execute", record)
        try:
            told = queue_notices([Notice(None, None, p, "rota_check", "/admin/rota", f"check:{p.id}") for p in people])
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", record)
        db.session.commit()
        return told, seen

    few, many = queued(staff[:3]), queued(staff[3:])
    assert few[0] == 3 and many[0] == 9
    if db.engine.dialect.name == "postgresql":
        assert few[1] == many[1] == ["SELECT", "WITH"], (few, many)  # the preferences, then the writes
    boxes = db.session.execute(select(OutboxNotification.user_id, OutboxNotification.notification_id)).all()
    notes = dict(db.session.execute(select(Notification.id, Notification.user_id)).all())
    assert sorted(user for user, _ in boxes) == sorted(p.id for p in staff) and len(notes) == 12
    assert all(notes[notification] == user for user, notification in boxes)
    assert queued(staff[:5])[0] == 0  # queued already: nothing written
    assert _count(Notification) == 12 and _count(OutboxNotification) == 12


def test_telling_many_people_of_one_task_words_its_message_once_and_makes_no_preference_rows(app_ctx, monkeypatch):
    """A new task's audience is told in one batch: the task's message (its title, case and when it is
    due) is worded once for all of them, and people who chose no email preferences get the defaults
    without a preferences row object made for each; someone on a daily digest still gets theirs."""
    deploy("pipot")
    monkeypatch.setitem(app_ctx.config, "NOTIFY_FANOUT", "worker")
    case = lifecycle.start_case("pipot", PIPOT_START, person())
    [task] = open_tasks(case, "Task_first_steps")
    audience = [person() for _ in range(9)]
    save_preferences(audience[0], "digest", "08:00")
    worded, made = [], []
    wording = outbox.in_app_message
    monkeypatch.setattr(outbox, "in_app_message", lambda *args: worded.append(args) or wording(*args))

    def making(*_args):
        made.append(1)

    sa_event.listen(NotificationPreference, "init", making)
    try:
        db.session.scalars(select(User).where(User.id.in_([p.id for p in audience]))).all()  # loaded again
        told = queue_notices([Notice(case, task, p, "task", f"/tasks/{task.id}", f"told:{task.id}:{p.id}")
                              for p in audience])
    finally:
        sa_event.remove(NotificationPreference, "init", making)
    db.session.commit()
    assert told == 9 and len(worded) == 1 and not made, (told, worded, made)
    messages = set(db.session.scalars(select(Notification.message).where(Notification.link == f"/tasks/{task.id}")))
    assert messages == {wording("task", case, task)} and task.title in next(iter(messages))
    deliveries = dict(db.session.execute(select(OutboxNotification.user_id, OutboxNotification.delivery)
                                         .where(OutboxNotification.key.like(f"told:{task.id}:%"))).all())
    assert deliveries == {p.id: "digest" if p is audience[0] else "immediate" for p in audience}
    assert verify_audit() == []
