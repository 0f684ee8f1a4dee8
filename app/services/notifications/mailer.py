"""Emails: built only from a notification's kind, its case reference and a link (no names, no case
details, by construction: the templates are given nothing else), and sent over SMTP."""
from __future__ import annotations

import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from flask import current_app
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.services.notifications.outbox import MESSAGES

SUBJECTS = {
    "task": "New task",
    "escalation": "Escalation: action needed now",
    "on_call": "On call: work that must not wait",
    "reassigned": "A task has been passed to you",
    "team": "Added to a case team",
    "stage": "A case you oversee has moved on",
    "reminder": "Reminder: a task is due soon",
    "rota_gap": "Rota gap: nobody on call for an escalation",
    "no_holder": "Nobody holds the role a task needs",
    "rota_check": "The on-call rota has gaps",
}


class MailError(Exception):
    """The email could not be handed to the SMTP server."""


@dataclass(frozen=True)
class EmailItem:
    """Everything an email may say about one notification."""

    kind: str
    reference: str
    url: str

    @property
    def headline(self) -> str:
        return MESSAGES[self.kind]


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str
    message_id: str


def email_item(kind: str, reference: str, link: str) -> EmailItem:
    """The one way to describe a notification in an email: kind, reference and an absolute link."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return EmailItem(kind, reference or "", f"{base}{link}" if link.startswith("/") else link)


def single_email(to: str, item: EmailItem, key: str) -> Email:
    """One notification, one email."""
    service = current_app.config["SERVICE_NAME"]
    subject = f"{service}: {SUBJECTS[item.kind]}" + (f" ({item.reference})" if item.reference else "")
    body = _render("notification.txt", headline=item.headline, reference=item.reference, url=item.url,
                   service_name=service)
    return Email(to, subject, body, _message_id(key))


def summary_email(to: str, items: list[EmailItem], key: str, *, digest: bool) -> Email:
    """Several notifications in one email: a storm summary, or the daily digest."""
    service = current_app.config["SERVICE_NAME"]
    count = len(items)
    noun = "notification" if count == 1 else "notifications"
    urgent = sum(1 for item in items if item.kind in ("escalation", "rota_gap"))
    subject = (f"{service}: your daily digest ({count} {noun})" if digest
               else f"{service}: {count} {noun} need your attention")
    if urgent:
        subject += f", {urgent} urgent"
    intro = (f"Your daily digest: {count} {noun}." if digest else
             f"You have {count} {noun}. They are listed together here instead of one email each.")
    body = _render("summary.txt", intro=intro, items=items, service_name=service,
                   settings_url=email_item("task", "", "/notifications/settings").url)
    return Email(to, subject, body, _message_id(key))


def _render(name: str, **values) -> str:
    """A template from app/templates/email, in an environment of its own: no globals, no context
    processors, nothing but the values given (strict: a name it was not given is an error)."""
    env = current_app.extensions.get("email_templates")
    if env is None:
        folder = f"{current_app.root_path}/templates/email"
        env = Environment(loader=FileSystemLoader(folder), undefined=StrictUndefined, autoescape=False,
                          trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
        current_app.extensions["email_templates"] = env
    return env.get_template(name).render(**values)


def _message_id(key: str) -> str:
    """The same notification always has the same Message-ID, so a resend can be recognised."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    domain = (current_app.config["MAIL_SENDER"].rsplit("@", 1)[-1].strip(" >")) or "localhost"
    return f"<{digest}@{domain}>"


def mail_configured() -> bool:
    """Whether there is a mail server to send to (SMTP_HOST)."""
    return bool(current_app.config["SMTP_HOST"])


def send_email(email: Email) -> None:
    """Hand one email to the SMTP server (host, port, security and login from the settings)."""
    config = current_app.config
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = config["MAIL_SENDER"], email.to, email.subject
    message["Date"], message["Message-ID"] = formatdate(localtime=False), email.message_id
    message.set_content(email.body)
    try:
        with _connect(config) as smtp:
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as err:
        raise MailError(f"{err.__class__.__name__}: {err}"[:500]) from err


def _connect(config) -> smtplib.SMTP:
    host, port, timeout = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TIMEOUT_SECONDS"]
    security = (config["SMTP_SECURITY"] or "none").lower()
    if security == "tls":
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    smtp = smtplib.SMTP(host, port, timeout=timeout)
    if security == "starttls":
        try:
            smtp.starttls(context=ssl.create_default_context())
        except (OSError, smtplib.SMTPException):
            smtp.close()
            raise
    return smtp
