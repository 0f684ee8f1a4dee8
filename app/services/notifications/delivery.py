"""The sender job: emails waiting in the outbox go out, outside any workflow transaction.

- Storm control: while the timer sweep is still working through a backlog of due timers, and
  until a person's notifications have stopped arriving for MAIL_QUIET_SECONDS, their emails wait
  (never longer than MAIL_MAX_HOLD_SECONDS). Then several at once (MAIL_SUMMARY_THRESHOLD) go as
  one summary listing references and links; a daily digest goes as one email too.
- No duplicates: a person's due notifications are claimed together by one worker (a conditional
  update committed before sending); a claim left by a worker that died expires.
- Retries: a failed send is retried with exponential backoff, MAIL_MAX_ATTEMPTS times in all, then
  marked failed; the administrators' outbox page lists it and they are told in the app.
Every send, retry and failure is audited on its case, so the case timeline shows the delivery state.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select, update

from app import clock
from app.extensions import db
from app.models import Notification, OutboxNotification, Timer, User
from app.services.audit import lock_case, record_event
from app.services.notifications.mailer import (
    MailError,
    email_item,
    mail_configured,
    send_email,
    single_email,
    summary_email,
)
from app.services.notifications.outbox import MESSAGES
from app.services.people import role_holders

log = logging.getLogger(__name__)
DUE = ("pending", "retrying")
MAX_BACKOFF = timedelta(hours=6)


@dataclass
class DeliveryResult:
    held: bool = False
    emails: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def send_due_mail(worker_id: str, *, max_people: int = 200) -> DeliveryResult:
    """Send what is due, one person at a time: their notifications in one summary when there are
    several, else one email each. Returns what was done."""
    result = DeliveryResult()
    if not mail_configured():
        return result
    now = clock.now()
    if _held_for_backlog(now):
        result.held = True
        return result
    for user_id in _ready_people(now)[:max_people]:
        rows = _claim(user_id, worker_id, now)
        if rows:
            _deliver(db.session.get(User, user_id), rows, result)
    return result


def _settings() -> tuple[int, int]:
    config = current_app.config
    return config["MAIL_QUIET_SECONDS"], config["MAIL_MAX_HOLD_SECONDS"]


def _due(now: datetime):
    return (OutboxNotification.status.in_(DUE), OutboxNotification.next_attempt_at <= now,
            or_(OutboxNotification.claim_expires_at.is_(None), OutboxNotification.claim_expires_at < now))


def _held_for_backlog(now: datetime) -> bool:
    """While timers that are already due wait to be fired, more notifications are on their way."""
    if db.session.scalar(select(Timer.id).where(Timer.status == "waiting", Timer.due_at <= now).limit(1)) is None:
        return False
    oldest = db.session.scalar(select(func.min(OutboxNotification.created_at)).where(*_due(now)))
    return oldest is None or oldest > now - timedelta(seconds=_settings()[1])


def _ready_people(now: datetime) -> list[int]:
    """People with notifications due whose notifications have stopped arriving for a while."""
    quiet, hold = (timedelta(seconds=s) for s in _settings())
    rows = db.session.execute(
        select(OutboxNotification.user_id, func.max(OutboxNotification.created_at),
               func.min(OutboxNotification.created_at))
        .where(*_due(now)).group_by(OutboxNotification.user_id).order_by(OutboxNotification.user_id)).all()
    return [user_id for user_id, newest, oldest in rows if newest <= now - quiet or oldest <= now - hold]


def _claim(user_id: int, worker_id: str, now: datetime) -> list[OutboxNotification]:
    """Claim every due notification of one person, or none if another worker holds them."""
    expires = now + timedelta(seconds=current_app.config["MAIL_CLAIM_SECONDS"])
    ids = db.session.execute(
        update(OutboxNotification).where(OutboxNotification.user_id == user_id, *_due(now))
        .values(claimed_by=worker_id, claim_expires_at=expires)
        .returning(OutboxNotification.id).execution_options(synchronize_session=False)).scalars().all()
    db.session.commit()
    if not ids:
        return []
    return list(db.session.scalars(select(OutboxNotification).where(OutboxNotification.id.in_(ids))
                                   .order_by(OutboxNotification.created_at, OutboxNotification.id)))


def _deliver(user: User, rows: list[OutboxNotification], result: DeliveryResult) -> None:
    address = (user.email or "").strip()
    if not address or not user.is_active:
        _record(user, rows, "No email address." if user.is_active else "Account switched off.", None, result)
        return
    digest = all(row.delivery == "digest" for row in rows)
    if digest or len(rows) >= current_app.config["MAIL_SUMMARY_THRESHOLD"]:
        items = [email_item(row.kind, row.reference, row.link) for row in rows]
        key = f"{'digest' if digest else 'summary'}:{user.id}:{rows[0].id}:{len(rows)}"
        _send_and_record(user, rows, summary_email(address, items, key, digest=digest),
                         "digest" if digest else "summary", result)
        return
    for row in rows:
        email = single_email(address, email_item(row.kind, row.reference, row.link), row.key)
        _send_and_record(user, [row], email, "single", result)


def _send_and_record(user: User, rows: list[OutboxNotification], email, email_kind: str,
                     result: DeliveryResult) -> None:
    error = None
    try:
        send_email(email)
        result.emails += 1
    except MailError as err:
        error = str(err)
        log.warning("email to user %s failed (%s notification(s)): %s", user.id, len(rows), error)
    _record(user, rows, error, email_kind, result)


def _record(user: User, rows: list[OutboxNotification], error: str | None, email_kind: str | None,
            result: DeliveryResult) -> None:
    """Mark each notification sent, retrying or failed, and audit it on its case; one transaction."""
    now = clock.now()
    for case_id in sorted({row.case_id for row in rows if row.case_id}):
        lock_case(case_id)
    failed = []
    for row in rows:
        row.attempts, row.claimed_by, row.claim_expires_at = row.attempts + 1, None, None
        if email_kind is None:
            row.status, row.last_error = "skipped", error
        elif error is None:
            row.status, row.sent_at, row.email_kind, row.last_error = "sent", now, email_kind, None
            result.sent += 1
        elif row.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
            row.status, row.last_error = "failed", error
            failed.append(row)
            result.failed += 1
        else:
            row.status, row.last_error, row.next_attempt_at = "retrying", error, now + _backoff(row.attempts)
            result.retrying += 1
        _audit(row, user, len(rows))
    if failed:
        _tell_administrators(now)
    db.session.commit()


def _backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8... times MAIL_RETRY_SECONDS after each failed attempt, at most six hours."""
    return min(timedelta(seconds=current_app.config["MAIL_RETRY_SECONDS"] * 2 ** (attempts - 1)), MAX_BACKOFF)


AUDITED = {"sent": "notification_sent", "retrying": "notification_retrying", "failed": "notification_failed",
           "skipped": "notification_not_emailed"}


def _audit(row: OutboxNotification, user: User, together: int) -> None:
    if row.case_id is None:
        return
    record_event(AUDITED[row.status], case_id=row.case_id, data={
        "to": user.display_name, "user_id": user.id, "kind": row.kind, "outbox_id": row.id,
        "email": row.email_kind, "in_one_email_with": together - 1, "attempts": row.attempts,
        "error": row.last_error, "next_attempt_at": row.next_attempt_at if row.status == "retrying" else None})


def _tell_administrators(now: datetime) -> None:
    """In the app only: the failing channel is email."""
    for admin in role_holders("system_administrator"):
        db.session.add(Notification(user_id=admin.id, case_id=None, kind="mail_failed",
                                    message=MESSAGES["mail_failed"], link="/admin/outbox", created_at=now))
