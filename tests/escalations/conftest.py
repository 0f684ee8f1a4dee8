"""Fixtures for escalations and notifications: a real local SMTP server (aiosmtpd) and the app
pointed at it, people with email addresses, the on-call rota, and PiPoT and LADO cases driven through
the services with answers taken from the scenario files."""
from __future__ import annotations

import email
import socket
from dataclasses import dataclass, field
from email.message import Message

import pytest
from aiosmtpd.controller import Controller


class _Inbox:
    """What the SMTP server received."""

    def __init__(self):
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


@dataclass
class SmtpServer:
    port: int
    inbox: _Inbox = field(default_factory=_Inbox)

    @property
    def messages(self) -> list[Message]:
        return self.inbox.messages

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


MAIL_SETTINGS = {"SMTP_SECURITY": "none", "MAIL_QUIET_SECONDS": 30, "MAIL_MAX_HOLD_SECONDS": 900,
                 "MAIL_SUMMARY_THRESHOLD": 3, "MAIL_MAX_ATTEMPTS": 4, "MAIL_RETRY_SECONDS": 60,
                 "SMTP_TIMEOUT_SECONDS": 5, "MAIL_SENDER": "Safeguarding cases <no-reply@cases.example.org>",
                 "PUBLIC_BASE_URL": "https://cases.example.org"}


@pytest.fixture
def mail_settings(app):
    """The app's mail settings for one test (restored afterwards); SMTP_HOST empty until a server is up."""
    saved = {key: app.config[key] for key in [*MAIL_SETTINGS, "SMTP_HOST", "SMTP_PORT"]}
    app.config.update(MAIL_SETTINGS)
    yield app.config
    app.config.update(saved)


@pytest.fixture
def smtp(mail_settings):
    """A real SMTP server on a free local port, and the app sending to it."""
    server = SmtpServer(port=free_port())
    controller = Controller(server.inbox, hostname="127.0.0.1", port=server.port)
    controller.start()
    mail_settings.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port)
    yield server
    controller.stop()


@pytest.fixture
def smtp_down(mail_settings):
    """Mail pointed at a local port nobody listens on."""
    mail_settings.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())
    return mail_settings
