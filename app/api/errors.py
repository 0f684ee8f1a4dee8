"""Domain errors as JSON answers."""
from __future__ import annotations

from flask import Flask, jsonify

from app.services.errors import (
    AlreadyCompleted,
    Conflict,
    DeployRefused,
    Forbidden,
    NotFound,
    ProcessFailed,
    ValidationFailed,
)

STATUS = [(NotFound, 404), (Forbidden, 403), (Conflict, 409), (ValidationFailed, 422), (DeployRefused, 422),
          (ProcessFailed, 500)]


def register_error_handlers(app: Flask) -> None:
    for error_class, status in STATUS:
        app.register_error_handler(error_class, _handler(status))


def _handler(status: int):
    def handle(error):
        body = {"code": status, "message": error.message}
        if isinstance(error, ValidationFailed):
            body["errors"] = error.errors
        if isinstance(error, AlreadyCompleted):
            body["completed_by"] = error.completed_by
            body["completed_at"] = error.completed_at.isoformat() if error.completed_at else None
        if isinstance(error, DeployRefused):
            body["problems"] = [{"file": p.file, "element_id": p.element_id, "message": p.message}
                                for p in error.problems]
        return jsonify(body), status

    return handle
