"""What every job shares: who is running it, and one run inside an app context that rolls back and
logs a failure (the job runs again at its next time) and always gives the session back."""
from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable

from flask import Flask

from app.extensions import db

log = logging.getLogger("app.jobs")


def worker_id() -> str:
    """This process, as it signs its claims on timers, emails and scheduled starts."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_job(app: Flask, name: str, work: Callable[[], str | None]) -> None:
    """Run `work` once in an app context; what it returns (if anything) is logged as its result."""
    with app.app_context():
        try:
            said = work()
            if said:
                log.info("%s: %s", name, said)
        except Exception:
            db.session.rollback()
            log.exception("%s failed; it runs again at its next time", name)
        finally:
            db.session.remove()
