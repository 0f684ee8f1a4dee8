"""Audit chain anchors: the heads of the chains, written outside the database.

A hash chain shows an event changed or removed from its middle, not events missing from its end:
a database truncated, or restored from an older copy, still verifies. So the worker appends, every
AUDIT_ANCHOR_SECONDS, one JSON line to an anchor file that the operator ships elsewhere (another
machine, write-once storage, an email): the head (seq and hash) of each chain that has grown since
the file's previous line. `flask verify-audit --anchor FILE` then reports every anchored event the
database no longer holds, or holds with another hash.

Each line: {"at": ISO time, "last_id": newest event id seen, "heads": {stream: [seq, hash]}}. The
first line of a file holds every chain; later lines the chains with events after the previous line's
`last_id` (less a margin, for transactions that committed late).
"""
from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, tuple_

from app import clock
from app.extensions import db
from app.models import AuditEvent

LATE_COMMIT_MARGIN = 10_000  # event ids: a transaction that took its ids before others committed after them
CHUNK = 500


@dataclass(frozen=True)
class AnchorProblem:
    stream: str
    seq: int
    anchored_at: str
    what: str


def chain_heads(since_id: int = 0, session=None) -> dict[str, list]:
    """stream -> [seq, hash] of the last event of every chain with an event after `since_id`."""
    newest = (select(AuditEvent.stream, func.max(AuditEvent.seq).label("seq"))
              .where(AuditEvent.id > since_id).group_by(AuditEvent.stream).subquery())
    rows = (session or db.session).execute(select(AuditEvent.stream, AuditEvent.seq, AuditEvent.hash).join(
        newest, (AuditEvent.stream == newest.c.stream) & (AuditEvent.seq == newest.c.seq)))
    return {row.stream: [row.seq, row.hash] for row in rows}


def anchor_line(since_id: int = 0, session=None) -> dict:
    """One anchor: the time, the newest event id, and the heads of the chains grown since `since_id`
    (read through `session`, the application's by default)."""
    session = session or db.session
    last_id = session.scalar(select(func.max(AuditEvent.id))) or 0
    return {"at": clock.now().isoformat(), "last_id": last_id, "heads": chain_heads(since_id, session)}


def write_anchor(path: Path) -> int:
    """Append an anchor to the file at `path` (created if missing) and sync it to disk; returns how
    many chain heads it holds. Several workers may share the file: each append is made under a lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as anchor:
        fcntl.flock(anchor, fcntl.LOCK_EX)
        previous = _last_line(anchor)
        since = max(int(previous.get("last_id", 0)) - LATE_COMMIT_MARGIN, 0) if previous else 0
        line = anchor_line(since)
        db.session.rollback()  # read only
        anchor.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")
        anchor.flush()
        os.fsync(anchor.fileno())
    return len(line["heads"])


def _last_line(anchor) -> dict | None:
    """The last complete line of an anchor file open for reading, read back from its end."""
    position = anchor.seek(0, os.SEEK_END)
    tail = b""
    while position > 0 and tail.rstrip(b"\n").count(b"\n") < 1:
        step = min(65536, position)
        position -= step
        anchor.seek(position)
        tail = anchor.read(step) + tail
    lines = [line for line in tail.split(b"\n") if line.strip()]
    return json.loads(lines[-1]) if lines else None


def read_anchors(lines) -> dict[str, tuple[int, str, str]]:
    """stream -> (seq, hash, when anchored) of the furthest anchored event of each chain."""
    furthest: dict[str, tuple[int, str, str]] = {}
    for text in lines:
        if not text.strip():
            continue
        line = json.loads(text)
        for stream, (seq, digest) in line.get("heads", {}).items():
            if stream not in furthest or seq >= furthest[stream][0]:
                furthest[stream] = (int(seq), digest, line.get("at", ""))
    return furthest


def check_anchors(lines) -> list[AnchorProblem]:
    """Every anchored event the database no longer holds, or holds with another hash."""
    anchored = read_anchors(lines)
    problems = []
    streams = sorted(anchored)
    for start in range(0, len(streams), CHUNK):
        chunk = streams[start:start + CHUNK]
        keys = [(stream, anchored[stream][0]) for stream in chunk]
        found = dict(((row.stream, row.seq), row.hash) for row in db.session.execute(
            select(AuditEvent.stream, AuditEvent.seq, AuditEvent.hash)
            .where(tuple_(AuditEvent.stream, AuditEvent.seq).in_(keys))))
        problems += [_problem(stream, anchored[stream], found.get((stream, anchored[stream][0]))) for stream in chunk]
    return [problem for problem in problems if problem is not None]


def _problem(stream: str, anchor: tuple[int, str, str], held: str | None) -> AnchorProblem | None:
    seq, digest, at = anchor
    if held is None:
        return AnchorProblem(stream, seq, at, "is missing: the database has lost events or was rolled back")
    if held != digest:
        return AnchorProblem(stream, seq, at, "has a different hash from the one anchored")
    return None
