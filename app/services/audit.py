"""The audit trail: append-only events chained by hash per case (DESIGN.md decision 11)."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

from sqlalchemy import bindparam, false, func, insert, select, update

from app import clock, direct
from app.db import insert_from_json, json_rows, refuse_clashes, transaction_cache, written_in_transaction
from app.extensions import db
from app.models import AuditEvent, Case, User

SYSTEM = "system"
GENESIS = "0" * 64
# the transaction cache's entries: the rows of an open `audit_batch()`; each chain's last (seq, hash);
# the cases whose rows this transaction has locked
BATCH = written_in_transaction("audit_batch")
ALONG = written_in_transaction("audit_batch_along")  # a write sent with the batch's events
RIDING = written_in_transaction("audit_batch_riding")  # {table: its new rows} inserted with the batch's events
TAILS = written_in_transaction("audit_tails")
LOCKED_CASES = written_in_transaction("locked_cases")
_EVENTS = AuditEvent.__table__
_INSERT_EVENTS = insert(_EVENTS)
_TAIL = (select(_EVENTS.c.seq, _EVENTS.c.hash).where(_EVENTS.c.stream == bindparam("stream"))
         .order_by(_EVENTS.c.seq.desc()).limit(1))


def stream_for(case_id: int | None) -> str:
    return f"case:{case_id}" if case_id is not None else SYSTEM


def record_event(event_type: str, *, case_id: int | None = None, actor: User | None = None,
                 actor_label: str | None = None, data: dict | None = None) -> None:
    """Append an event to its case's chain (or the system chain). Does not commit: inside an
    `audit_batch()` the event is written with the batch's others when it ends, else at the next flush."""
    stream = stream_for(case_id)
    last_seq, last_hash = _tail(stream)
    row = {"stream": stream, "seq": last_seq + 1, "case_id": case_id, "event_type": event_type,
           "actor_id": actor.id if actor else None,
           "actor_label": actor_label or (actor.display_name if actor else "System"),
           "at": clock.now(), "data": _plain(data or {}), "prev_hash": last_hash}
    row["hash"] = event_hash(SimpleNamespace(**row))
    _tails()[stream] = (row["seq"], row["hash"])
    batch = transaction_cache(db.session).get(BATCH)
    if batch is not None:
        batch.append(row)
        return
    db.session.add(AuditEvent(**row))


@contextmanager
def audit_batch() -> Iterator[None]:
    """Write the events recorded inside the block as one INSERT when it ends without an error (a
    workflow step records several, the fan-out one per person told), with the writes sent along with
    them (`write_with_events`, `insert_with_events`); on PostgreSQL the rows are one parameter, so the
    statement is executed once whatever their number (not once per row, as the driver's executemany
    does). Nothing in the block may read them back before it ends."""
    cache = transaction_cache(db.session)
    if BATCH in cache:  # already batching: the outer block writes them
        yield
        return
    rows = cache[BATCH] = []
    try:
        yield
    finally:
        cache = transaction_cache(db.session)
        still_open = cache.get(BATCH) is rows  # not when the transaction ended inside the block
        along = cache.pop(ALONG, None) if still_open else None
        riding = cache.pop(RIDING, None) if still_open else None
        if still_open:
            del cache[BATCH]
    if not still_open:
        return
    if along is None and riding is None and (len(rows) < 2 or not _postgres()):
        if rows:  # one row; or SQLite, in process, where many rows are one executemany
            direct.execute(db.session, _INSERT_EVENTS, rows)
        return
    riding = riding or {}
    shape = tuple((table, "id" in table_rows[0]) for table, table_rows in riding.items())
    statement = _events_with(along[0] if along else None, shape)
    direct.execute(db.session, statement, (along[1] if along else {}) | {_EVENT_ROWS: json_rows(rows)} | {
        _rows_name(table): json_rows(table_rows) for table, table_rows in riding.items()})


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def write_with_events(statement, params: dict) -> None:
    """A write of the step that nothing reads back before the step ends (the case row's UPDATE, last
    of its projection): inside an `audit_batch()` on PostgreSQL it is sent with the batch's events
    when the batch ends, one statement (a data-modifying WITH); otherwise now. One such write a batch."""
    cache = transaction_cache(db.session)
    if BATCH in cache and ALONG not in cache and _postgres():
        cache[ALONG] = (statement, params)
    else:
        direct.execute(db.session, statement, params)


def insert_with_events(table, rows: list[dict]) -> None:
    """New rows of `table` (every column given but the id, or every column and the id: one table's rows
    in a batch all alike) that nothing in the step reads back, such as the changes to the dashboard's counts that the worker
    folds: inside an `audit_batch()` on PostgreSQL they are inserted with the batch's events when the
    batch ends, in its one statement; otherwise now, one statement."""
    if not rows:
        return
    cache = transaction_cache(db.session)
    if BATCH in cache and _postgres():
        held = cache.setdefault(RIDING, {}).setdefault(table, [])
        if len({"id" in row for row in held + rows}) > 1:
            raise ValueError(f"insert_with_events: rows of {table.name} with their ids and without, in one batch")
        held.extend(rows)
    else:
        statement = _INSERTS.get(table)
        if statement is None:
            statement = _INSERTS[table] = insert(table)
        direct.execute(db.session, statement, rows)


_INSERTS: dict = {}  # table -> its prebuilt INSERT
_EVENT_ROWS = "audit_event_rows"
_EVENTS_WITH: dict = {}  # (the UPDATE riding along or None, the tables whose rows ride) -> statement


def _rows_name(table) -> str:
    return f"{table.name}_rows"


def _events_with(update, tables: tuple):
    """PostgreSQL: the batch's events inserted, with `update` (an UPDATE, or None) and the new rows of
    each of `tables` ((table, whether its rows give their ids)) as data-modifying WITHs: one statement.
    Each table's rows (the events' too) are one JSON parameter (`app.db.insert_from_json`), so the
    statement and its parameters are the same whatever the number of rows. No parameter of the rows
    may name a column of the UPDATE's table (a Core UPDATE takes such a one as a value to set)."""
    if (update, tables) not in _EVENTS_WITH:
        statement = insert_from_json(_EVENTS, _EVENT_ROWS)
        ctes = [(update, "along")] if update is not None else []
        ctes += [(insert_from_json(table, _rows_name(table), with_id), f"rows_{table.name}")
                 for table, with_id in tables]
        if update is not None:  # the rows' parameters, and the UPDATE's table
            refuse_clashes(one_params={_EVENT_ROWS, *(_rows_name(table) for table, _ in tables)}, one_table=_EVENTS,
                           other_params=(), other_table=update.table)
        for cte, name in ctes:
            statement = statement.add_cte(cte.cte(name), nest_here=True)
        _EVENTS_WITH[update, tables] = statement
    return _EVENTS_WITH[update, tables]


def new_stream(case_id: int) -> None:
    """A case inserted in this transaction: its chain is empty, nothing to read."""
    _tails()[stream_for(case_id)] = (0, GENESIS)


def chain_end() -> tuple:
    """`_tail`'s read (the stream named by the bound parameter "stream") as two scalar subqueries, for
    a statement the caller runs anyway (a step's UPDATE RETURNING them): read in a statement after the
    case's lock, they are where its chain ends (`know_chain_end`)."""
    return (_TAIL.with_only_columns(_EVENTS.c.seq).scalar_subquery().label("chain_seq"),
            _TAIL.with_only_columns(_EVENTS.c.hash).scalar_subquery().label("chain_hash"))


def know_chain_end(case_id: int, seq: int | None, hash_: str | None) -> None:
    """Where the case's chain ended when `chain_end` read it, in this transaction and after its lock:
    its next event follows it without a read of its own (unless this transaction already knows more)."""
    _tails().setdefault(stream_for(case_id), (seq, hash_) if seq is not None else (0, GENESIS))


def _tails() -> dict:
    return transaction_cache(db.session).setdefault(TAILS, {})


def _tail(stream: str) -> tuple[int, str]:
    """The last (seq, hash) of a stream: read once per transaction, then carried forward (the
    case lock taken before writing keeps other writers out of the stream meanwhile)."""
    tails = _tails()
    if stream not in tails:
        if stream == SYSTEM:
            _lock_system_stream()
        last = db.session.execute(_TAIL, {"stream": stream}).first()
        tails[stream] = (last.seq, last.hash) if last else (0, GENESIS)
    return tails[stream]


def _plain(data: dict) -> dict:
    """The data as it will read back from a JSON column."""
    return json.loads(json.dumps(data, default=str))


def event_hash(event) -> str:
    """sha256 over the event's content and the previous event's hash."""
    body = {
        "stream": event.stream, "seq": event.seq, "case_id": event.case_id,
        "event_type": event.event_type, "actor_id": event.actor_id, "actor_label": event.actor_label,
        "at": event.at.isoformat(timespec="microseconds"), "data": event.data, "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def verify_audit() -> list[tuple[str, int, str]]:
    """Every broken link: (stream, seq, what is wrong). Empty when every chain is intact.

    Streams through the whole table once, in chain order, without holding it in memory. The
    events of a disposed case have had their content removed (app/services/reporting/disposal.py): they are
    checked against the disposal record in the system chain instead of their own hashes.
    """
    disposals = disposed_streams()
    events = db.session.scalars(
        select(AuditEvent).order_by(AuditEvent.stream, AuditEvent.seq).execution_options(yield_per=2000)
    )
    return [*_verify(events, disposals), *_check_disposals(disposals)]


def verify_stream(stream: str) -> list[tuple[str, int, str]]:
    """Every broken link of one chain (a case's, or the system's)."""
    disposals = {key: value for key, value in disposed_streams().items() if key == stream}
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.stream == stream).order_by(AuditEvent.seq))
    return [*_verify(events, disposals), *_check_disposals(disposals)]


def _verify(events, disposals: dict[str, dict]):
    stream, expected_prev, expected_seq = None, GENESIS, 1
    for event in events:
        if event.stream != stream:
            stream, expected_prev, expected_seq = event.stream, GENESIS, 1
        yield from _check_link(event, expected_prev, expected_seq, disposals.get(event.stream))
        expected_prev, expected_seq = event.hash, event.seq + 1


def _check_link(event: AuditEvent, expected_prev: str, expected_seq: int, disposal: dict | None = None):
    if event.seq != expected_seq:
        yield event.stream, event.seq, f"event {expected_seq} is missing"
    if event.prev_hash != expected_prev:
        yield event.stream, event.seq, "does not follow the previous event"
    if event_hash(event) != event.hash and not _redacted(event, disposal):
        yield event.stream, event.seq, "content does not match its hash"


DISPOSED = {"disposed": True}


def _redacted(event: AuditEvent, disposal: dict | None) -> bool:
    return disposal is not None and event.seq <= disposal["events"] and event.data == DISPOSED


def disposed_streams() -> dict[str, dict]:
    """Chains whose content a disposal removed: stream -> {"events": how many, "digest": of their hashes},
    as recorded by `case_disposed` events in the system chain (itself hash-checked)."""
    records = db.session.scalars(select(AuditEvent.data).where(
        AuditEvent.stream == SYSTEM, AuditEvent.event_type == "case_disposed")).all()
    return {record["stream"]: record for record in records if isinstance(record, dict) and "stream" in record}


def chain_digest(hashes: list[str]) -> str:
    """sha256 over a run of event hashes, in order."""
    return hashlib.sha256("".join(hashes).encode()).hexdigest()


def _check_disposals(disposals: dict[str, dict]):
    for stream, record in disposals.items():
        hashes = db.session.scalars(select(AuditEvent.hash).where(
            AuditEvent.stream == stream, AuditEvent.seq <= record["events"]).order_by(AuditEvent.seq)).all()
        if len(hashes) != record["events"] or chain_digest(hashes) != record.get("digest"):
            yield stream, record["events"], "the removed events do not match the disposal record"


def count_events(event_type: str) -> int:
    return db.session.scalar(select(func.count()).where(AuditEvent.event_type == event_type))


SYSTEM_LOCK = 0x5AFE_0001  # the PostgreSQL advisory lock that queues writers to the system chain


def _lock_system_stream() -> None:
    """Serialize writers to the system chain until the transaction ends: sign-ins arrive together,
    and each appends to it (a case chain is guarded by its case row instead)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(SYSTEM_LOCK)))
    else:  # SQLite: a write, even of no row, takes the database's write lock
        db.session.execute(update(AuditEvent).where(false()).values(seq=AuditEvent.seq))


_LOCK_CASE_PG = select(Case.__table__.c.id).where(Case.__table__.c.id == bindparam("case_id")).with_for_update()
_LOCK_CASE_SQLITE = (Case.__table__.update().where(Case.__table__.c.id == bindparam("case_id"))
                     .values(id=Case.__table__.c.id))


def lock_case(case_id: int, *, writing: bool = False) -> None:
    """Serialize writers to one case's audit chain until the transaction ends. Every writer to a case
    locks its case row before its instance's row. `writing`: the caller writes at once (a step's
    versioned update), which on SQLite takes the database's write lock, so no statement is needed there."""
    locked = transaction_cache(db.session).setdefault(LOCKED_CASES, set())
    if case_id in locked:
        return
    locked.add(case_id)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_LOCK_CASE_PG, {"case_id": case_id})
    elif not writing:  # SQLite: the first write of a transaction takes the database's write lock
        db.session.execute(_LOCK_CASE_SQLITE, {"case_id": case_id})


_CASES_LOCKED_PG = (select(Case).where(Case.id.in_(bindparam("ids", expanding=True))).order_by(Case.id)
                    .with_for_update())
_CASES = select(Case).where(Case.id.in_(bindparam("ids", expanding=True)))
_LAST_SEQS = (select(_EVENTS.c.stream, func.max(_EVENTS.c.seq).label("seq"))
              .where(_EVENTS.c.stream.in_(bindparam("streams", expanding=True))).group_by(_EVENTS.c.stream)
              .subquery())
_TAILS = (select(_EVENTS.c.stream, _EVENTS.c.seq, _EVENTS.c.hash)
          .join(_LAST_SEQS, (_LAST_SEQS.c.stream == _EVENTS.c.stream) & (_LAST_SEQS.c.seq == _EVENTS.c.seq)))


def lock_cases(case_ids) -> dict[int, Case]:
    """Lock several cases (their audit chains) until the transaction ends and read them, by id, for a
    writer to many at once (the fan-out): on PostgreSQL one statement, their rows FOR UPDATE in id
    order (the order every writer to several cases takes); on SQLite one write takes the database's
    lock, which covers them all, and one read follows. Then, in one statement after the lock, where
    each chain ends, so their next events need no read of their own."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    locked = transaction_cache(db.session).setdefault(LOCKED_CASES, set())
    if db.session.get_bind().dialect.name == "postgresql":
        cases = db.session.scalars(_CASES_LOCKED_PG, {"ids": ids}).all()
    else:
        if not set(ids) <= locked:
            db.session.execute(_LOCK_CASE_SQLITE, {"case_id": ids[0]})
        cases = db.session.scalars(_CASES, {"ids": ids}).all()
    locked.update(ids)
    tails = _tails()
    streams = [stream_for(case_id) for case_id in ids if stream_for(case_id) not in tails]
    if streams:
        read = {row.stream: (row.seq, row.hash) for row in db.session.execute(_TAILS, {"streams": streams})}
        tails.update({stream: read.get(stream, (0, GENESIS)) for stream in streams})
    return {case.id: case for case in cases}


def locked_as_read(case_id: int) -> None:
    """The caller's query read the case row FOR UPDATE (`.with_for_update(of=Case)`): on PostgreSQL
    that is the case's lock, and `lock_case` needs no statement of its own. (SQLite reads without
    locking; there the step's first write takes the database's write lock.)"""
    if db.session.get_bind().dialect.name == "postgresql":
        transaction_cache(db.session).setdefault(LOCKED_CASES, set()).add(case_id)
