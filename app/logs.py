"""Logs as one JSON object a line (LOG_FORMAT=json, the default) or as plain text, each carrying the
id of the request it was written in. Gunicorn's access log goes through the same formatter
(gunicorn.conf.py), so a request's access line and the application's lines share its id."""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

from flask import g, has_request_context

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# gunicorn's access log atoms kept in a JSON line: remote address, request line, status, bytes, µs, agent
ACCESS_FIELDS = {"h": "remote", "m": "method", "U": "path", "s": "status", "B": "bytes", "D": "duration_us",
                 "a": "user_agent", "{x-request-id}o": "request_id"}


QUIET_LOGGERS = ("apscheduler", "alembic", "spiff")  # spiff: a line per task state change


def current_request_id() -> str | None:
    """The id of the request being served (None outside a request)."""
    return g.get("request_id") if has_request_context() else None


class RequestIdFilter(logging.Filter):
    """Give every record the id of the request it was written in ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name}
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            entry.update(_access_fields(record.args))
        else:
            entry["message"] = record.getMessage()
            entry["request_id"] = getattr(record, "request_id", None) or current_request_id() or "-"
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def _access_fields(atoms: dict) -> dict:
    fields = {name: atoms.get(atom) for atom, name in ACCESS_FIELDS.items() if atom in atoms}
    for number in ("status", "duration_us"):
        if str(fields.get(number, "")).isdigit():
            fields[number] = int(fields[number])
    return fields


def configure_logging(log_format: str, level: str = "INFO") -> None:
    """Send the application's logs to standard error in `log_format` ("json" or "text"), once."""
    root = logging.getLogger()
    if any(getattr(handler, "_safeguarding", False) for handler in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RequestIdFilter())
    handler._safeguarding = True
    root.addHandler(handler)
    root.setLevel(level)
    for chatty in QUIET_LOGGERS:  # a line per job run or per plugin is noise at INFO
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
