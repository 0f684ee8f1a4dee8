"""The one clock.

Every module asks ``app.clock.now()`` for the current time instead of calling
``datetime.now()`` itself, so there is a single place that decides what "now"
is. It is always timezone-aware UTC; tests move time with ``time-machine``.
"""

from datetime import datetime, timezone


def now() -> datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return datetime.now(timezone.utc)
