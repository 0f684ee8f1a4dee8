"""Domain exceptions raised by services; routes turn them into pages and HTTP answers."""
from __future__ import annotations

from datetime import datetime


class ServiceError(Exception):
    """Base class: `message` is fit to show to the person who asked."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    """No such thing, or the person may not know it exists."""


class Forbidden(ServiceError):
    """The person may see it but not do this."""


class Conflict(ServiceError):
    """The thing changed since it was read."""


class AlreadyCompleted(Conflict):
    def __init__(self, completed_by: str, completed_at: datetime | None):
        when = completed_at.strftime("%d %B %Y at %H:%M UTC") if completed_at else "an unknown time"
        super().__init__(f"This task was already completed by {completed_by} on {when}.")
        self.completed_by = completed_by
        self.completed_at = completed_at


class ValidationFailed(ServiceError):
    """Answers that fail a form: `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, str], message: str = "Some answers need correcting."):
        super().__init__(message)
        self.errors = errors


class DeployRefused(ServiceError):
    """A model that fails deploy validation: `problems` lists each (file, element, message)."""

    def __init__(self, problems):
        super().__init__(f"The model was not deployed: {len(problems)} problem(s).")
        self.problems = problems


class ProcessFailed(ServiceError):
    """The process model could not run on from this step; nothing was saved."""

    def __init__(self, detail: str, element_id: str | None = None):
        where = f" at '{element_id}'" if element_id else ""
        super().__init__(f"The process could not continue{where}: {detail}. Nothing was saved; "
                         "please tell the process owner.")
        self.element_id = element_id
