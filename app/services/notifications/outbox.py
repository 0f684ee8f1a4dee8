"""Queueing notifications: the in-app notification and, in the same transaction as the step that
caused it, its email in the outbox (sent later by the sender job, outside that transaction).

One outbox row per notification per person, under a deterministic key, so nothing is queued twice.
Rows hold only what an email may say: the kind, the case reference and a link.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import JSON, bindparam, func, insert, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app import clock, direct
from app.calendar import parse_when
from app.db import insert_once, json_rows, transaction_cache
from app.extensions import db
from app.models import Case, HumanTask, Notification, NotificationPreference, OutboxNotification, User
from app.services.access import is_about
from app.services.audit import record_event
from app.services.errors import ValidationFailed
from app.services.runtime import get_calendar

MESSAGES = {
    "task": "A new task is waiting for your team.",
    "escalation": "An escalation needs attention now.",
    "on_call": "Work that must not wait has been given to you as the person on call.",
    "reassigned": "A task has been passed to you.",
    "team": "You have been added to a case team.",
    "stage": "A case you oversee has moved to a new stage.",
    "reminder": "A task you hold is due soon.",
    "rota_gap": "Nobody is on call for an escalation: the rota has a gap.",
    "no_holder": "A task has nobody holding its role for its case's unit: give someone the role there.",
    "rota_check": "The on-call rota has gaps in the coming days.",
    "mail_failed": "An email could not be sent. The outbox page lists it.",
}
PREFERENCES = "notification_preferences"  # the transaction cache's entry: user id -> saved row or None
ALWAYS_IMMEDIATE = {"escalation", "on_call", "rota_gap", "rota_check", "no_holder"}
DIGEST_CHOICES = ("immediate", "digest")


def queue_notification(user: User, case: Case | None, kind: str, link: str, key: str,
                       task: HumanTask | None = None) -> bool:
    """Tell one person about something, once per `key`: in the app at once, and by email through
    the outbox. Nobody is told about a case about themselves. Does not commit; returns whether
    anything was queued. The in-app message names the task, the case reference and when it is due
    (seen only by someone who may open it); the email row holds only the kind, reference and link."""
    return queue_notices([Notice(case, task, user, kind, link, key)]) == 1


_NOTIFICATIONS, _OUTBOX = Notification.__table__, OutboxNotification.__table__
_INSERT_NOTIFICATIONS = insert(_NOTIFICATIONS).returning(_NOTIFICATIONS.c.id, sort_by_parameter_order=True)
_DROP_NOTIFICATIONS = _NOTIFICATIONS.delete().where(_NOTIFICATIONS.c.id.in_(bindparam("ids", expanding=True)))


class Notice(NamedTuple):
    """One person to tell about something: which case and task (if any) it is about, as what `kind`,
    with a link, once per `key`."""

    case: Case | None
    task: object | None  # the HumanTask, or what a step left of it (its title and due date)
    user: User
    kind: str
    link: str
    key: str


def queue_notices(notices: list[Notice]) -> int:
    """Tell each person of each notice, about any number of cases and tasks (the fan-out's batch):
    their preferences read in one query, the notifications, their outbox rows and their audit events
    each written as one statement (on PostgreSQL the notifications and their outbox rows in one).
    Nobody is told about a case about themselves, nor twice under one key. Does not commit; returns
    how many were queued."""
    keys, wanted = set(), []
    for notice in notices:
        if (notice.user.is_active and notice.key not in keys
                and not (notice.case is not None and is_about(notice.user, notice.case))):
            keys.add(notice.key)
            wanted.append(notice)
    if not wanted:
        return 0
    load_preferences([notice.user.id for notice in wanted])
    now = clock.now()
    rows = [_outbox_row(n.user, n.case, n.kind, n.link, n.key, now) for n in wanted]
    messages = _messages(wanted)
    if db.session.get_bind().dialect.name == "postgresql":
        queued = {row.key: row.id for row in direct.execute(db.session, _QUEUE, {"notices": json_rows(
            [row | {"message": message, "read_at": None} for row, message in zip(rows, messages, strict=True)])})}
    else:
        queued = _queue_row_by_row(wanted, rows, messages, now)
    for notice, row in zip(wanted, rows, strict=True):
        if notice.case is not None and row["key"] in queued:
            record_event("notification_queued", case_id=notice.case.id, data={
                "to": notice.user.display_name, "user_id": notice.user.id, "kind": notice.kind,
                "outbox_id": queued[row["key"]], "email": row["status"] if row["status"] == "skipped" else row["delivery"]})
    return len(queued)


def _queue_row_by_row(wanted: list[Notice], rows: list[dict], messages: list[str], now: datetime) -> dict[str, int]:
    """SQLite: the notifications (their ids returned in order), then their outbox rows; the
    notifications of rows queued already (a second worker, a retried step, the daily check run
    twice) taken out again. Returns the queued rows' ids by key."""
    ids = db.session.execute(_INSERT_NOTIFICATIONS, [
        {"user_id": n.user.id, "case_id": n.case.id if n.case else None, "kind": n.kind, "message": message,
         "link": n.link, "created_at": now, "read_at": None} for n, message in zip(wanted, messages, strict=True)]
    ).scalars().all()
    for row, notification_id in zip(rows, ids, strict=True):
        row["notification_id"] = notification_id
    queued = {key: row_id for row_id, key in db.session.execute(
        insert_once(db.session, _OUTBOX, "key", _OUTBOX.c.id, _OUTBOX.c.key), rows).all()}
    skipped = [row["notification_id"] for row in rows if row["key"] not in queued]
    if skipped:
        db.session.execute(_DROP_NOTIFICATIONS, {"ids": skipped})
    return queued


def _queue_statement():
    """PostgreSQL: every notice's outbox row and in-app notification in one statement, the rows one
    JSON parameter (`notices`: each an outbox row with its notification's message), whatever their
    number: each row is numbered and given a notification id from its sequence; the outbox rows go in
    unless a row of their key is there already (ON CONFLICT DO NOTHING); the notifications of those that
    went in follow, with those ids. Returns the queued outbox rows' ids and keys. The foreign key from
    an outbox row to its notification is checked at the end of the statement, when both are in."""
    notices = bindparam("notices", type_=JSON)
    boxed = [column.key for column in _OUTBOX.columns if column.key not in ("id", "notification_id")]
    told = [column.key for column in _NOTIFICATIONS.columns if column.key != "id"]

    def given(table, name):  # every column of the table's row type, in its order, then the row's number
        return (func.json_populate_recordset(literal_column(f'NULL::"{table.name}"'), notices)
                .table_valued(*(column.key for column in table.columns), with_ordinality="n")
                .render_derived(name=name))

    as_boxed, as_told = given(_OUTBOX, "as_boxed"), given(_NOTIFICATIONS, "as_told")
    numbered = select(as_boxed.c.n, func.nextval(literal_column("'notification_id_seq'::regclass")).label("nid")
                      ).cte("numbered")
    queued = (pg_insert(_OUTBOX).from_select(
        [*boxed, "notification_id"],
        select(*(as_boxed.c[key] for key in boxed), numbered.c.nid).join_from(as_boxed, numbered, numbered.c.n == as_boxed.c.n))
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(_OUTBOX.c.id, _OUTBOX.c.key, _OUTBOX.c.notification_id).cte("queued"))
    written = insert(_NOTIFICATIONS).from_select(
        ["id", *told],
        select(queued.c.notification_id, *(as_told.c[key] for key in told))
        .join_from(as_told, numbered, numbered.c.n == as_told.c.n)
        .join(queued, queued.c.notification_id == numbered.c.nid)).cte("written")
    return select(queued.c.id, queued.c.key).add_cte(written)


_QUEUE = _queue_statement()


def in_app_message(kind: str, case: Case | None, task: HumanTask | None = None) -> str:
    """"A new task is waiting for your team: “Triage the referral”, case PIPOT-2026-0001, due Wednesday
    9 December at 17:00." The kind's words, then what and which case, when it is due."""
    words = MESSAGES[kind]
    said = []
    if task is not None:
        said.append(f"“{task.title}”")
    if case is not None:
        said.append(f"case {case.reference}")
    if task is not None and task.due_at is not None:
        zone = ZoneInfo(current_app.config.get("CALENDAR_TIMEZONE", "Europe/London"))
        due = parse_when(task.due_at).astimezone(zone)
        said.append(f"due {due:%A} {due.day} {due:%B %Y} at {due:%H:%M}")
    if not said:
        return words
    return f"{words.rstrip('.')}: {', '.join(said)}."[:255]


def _messages(notices: list[Notice]) -> list[str]:
    """Each notice's in-app message, worded once for each kind, case and task (a new task's audience
    is told together, each of them the same words)."""
    worded = {}
    for notice in notices:
        key = (notice.kind, id(notice.case), id(notice.task))
        if key not in worded:
            worded[key] = in_app_message(notice.kind, notice.case, notice.task)
    return [worded[(notice.kind, id(notice.case), id(notice.task))] for notice in notices]


def _outbox_row(user: User, case: Case | None, kind: str, link: str, key: str, now: datetime) -> dict:
    preference = _saved_preferences(user)  # none saved: each email at once
    delivery = "immediate" if kind in ALWAYS_IMMEDIATE or preference is None else preference.email_delivery
    row = dict(key=key[:200], user_id=user.id, case_id=case.id if case else None, kind=kind,
               reference=case.reference if case else "", link=link, delivery=delivery, status="pending",
               attempts=0, created_at=now, last_error=None,
               next_attempt_at=next_digest_at(preference.digest_time, now) if delivery == "digest" else now)
    if not (user.email or "").strip():
        row.update(status="skipped", last_error="No email address.")
    return row


def preferences_for(user: User) -> NotificationPreference:
    """The person's email preferences (the defaults when they have chosen none)."""
    return _saved_preferences(user) or NotificationPreference(user_id=user.id, email_delivery="immediate",
                                                              digest_time=current_app.config["MAIL_DIGEST_TIME"])


def _saved_preferences(user: User) -> NotificationPreference | None:
    """The preferences the person saved, if any: read once per transaction (`load_preferences` reads
    a new task's whole audience's in one query)."""
    known = transaction_cache(db.session).setdefault(PREFERENCES, {})
    if user.id not in known:
        known[user.id] = db.session.get(NotificationPreference, user.id)
    return known[user.id]


def load_preferences(user_ids: list[int]) -> None:
    """Read several people's preferences in one query, for this transaction (a new task's audience)."""
    known = transaction_cache(db.session).setdefault(PREFERENCES, {})
    wanted = [i for i in user_ids if i not in known]
    if wanted:
        saved = {p.user_id: p for p in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id.in_(wanted)))}
        known.update({i: saved.get(i) for i in wanted})


def save_preferences(user: User, email_delivery: str, digest_time: str) -> NotificationPreference:
    """Each email at once, or a daily digest at a local time (escalations are always at once)."""
    errors = {}
    if email_delivery not in DIGEST_CHOICES:
        errors["email_delivery"] = "Choose how you want your emails."
    parsed = _clock_time(digest_time)
    if email_delivery == "digest" and parsed is None:
        errors["digest_time"] = "Enter a time such as 08:00."
    if errors:
        raise ValidationFailed(errors)
    preference = db.session.get(NotificationPreference, user.id) or NotificationPreference(user_id=user.id)
    preference.email_delivery = email_delivery
    preference.digest_time = parsed.strftime("%H:%M") if parsed else preferences_for(user).digest_time
    preference.updated_at = clock.now()
    db.session.add(preference)
    if email_delivery == "immediate":
        _release_digest(user.id)
    db.session.commit()
    return preference


def _release_digest(user_id: int) -> None:
    """Someone back on immediate emails gets what was waiting for their digest now."""
    db.session.execute(update(OutboxNotification).where(
        OutboxNotification.user_id == user_id, OutboxNotification.status == "pending",
        OutboxNotification.delivery == "digest").values(delivery="immediate", next_attempt_at=clock.now()))


def _clock_time(text: str) -> time | None:
    try:
        return time.fromisoformat((text or "").strip().zfill(5))
    except ValueError:
        return None


def next_digest_at(digest_time: str, now: datetime) -> datetime:
    """The next time the daily digest goes, at `digest_time` in the service's time zone."""
    calendar = get_calendar()
    at = _clock_time(digest_time) or time(8, 0)
    local = calendar.local(now)
    candidate = datetime.combine(local.date(), at, tzinfo=calendar.zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=calendar.zone)
    return candidate.astimezone(now.tzinfo)


@dataclass
class OutboxPage:
    failing: list[tuple[OutboxNotification, str]]
    counts: dict[str, int]
    mail_configured: bool


def outbox_page() -> OutboxPage:
    """What the administrator's outbox page shows: failed and retrying sends, and counts by state."""
    rows = db.session.execute(
        select(OutboxNotification, User.display_name).join(User, User.id == OutboxNotification.user_id)
        .where(OutboxNotification.status.in_(("failed", "retrying")))
        .order_by(OutboxNotification.status, OutboxNotification.created_at.desc()).limit(500)).all()
    counts = dict(db.session.execute(select(OutboxNotification.status, func.count())
                                     .group_by(OutboxNotification.status)).all())
    return OutboxPage([(row, name) for row, name in rows], counts, bool(current_app.config["SMTP_HOST"]))


def retry_failed(admin: User) -> int:
    """Send every failed email again from the next run of the sender; audited. Returns how many."""
    result = db.session.execute(update(OutboxNotification).where(OutboxNotification.status == "failed")
                                .values(status="retrying", next_attempt_at=clock.now(), claimed_by=None,
                                        claim_expires_at=None))
    record_event("outbox_retried", actor=admin, data={"notifications": result.rowcount})
    db.session.commit()
    return result.rowcount
