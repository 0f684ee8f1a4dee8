"""Database engine settings per dialect."""
from __future__ import annotations

import weakref
from datetime import date, datetime

from sqlalchemy import JSON, Integer, bindparam, event, func, insert, inspect, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from app import direct


def configure_engine(engine: Engine) -> None:
    """SQLite: WAL, a busy timeout, foreign keys, and a commit that waits for the disk.
    PostgreSQL: a transaction that only read ends with a COMMIT (`_keep_prepared_statements`).

    ``synchronous=FULL``: with WAL, NORMAL may lose the last commits on power failure; these are
    records courts may read, so each commit is synced (the cost is in the README's bench section).
    """
    if getattr(engine, "_safeguarding_configured", False):
        return
    if engine.dialect.name == "postgresql":
        _keep_prepared_statements(engine)
        engine._safeguarding_configured = True
        return
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    engine._safeguarding_configured = True


# DBAPI connections whose current transaction ran a statement other than a SELECT
_WROTE: weakref.WeakSet = weakref.WeakSet()


def _keep_prepared_statements(engine: Engine) -> None:
    """PostgreSQL: end a transaction that ran nothing but SELECTs with a COMMIT, not a ROLLBACK.

    psycopg prepares a statement on the server once it has run five times on a connection, and drops
    every prepared statement at each ROLLBACK. Every request ends its session, and one that only read
    ends with a ROLLBACK: the statements a step runs were parsed and planned afresh almost every time.
    For a transaction that only read, COMMIT and ROLLBACK do the same (its row and advisory locks are
    released, its snapshot let go). Anything else (a write, a SET, a CTE) is rolled back as before,
    and so is a transaction a failed statement left aborted. Only statements run through SQLAlchemy
    are seen: nothing in the application writes through the driver's own connection, and nothing may."""
    from psycopg.pq import TransactionStatus

    @event.listens_for(engine, "before_cursor_execute")
    def _note_writes(conn, _cursor, statement, _parameters, _context, _executemany):
        if not statement.startswith("SELECT "):
            _WROTE.add(conn.connection.dbapi_connection)

    @event.listens_for(engine, "commit")
    def _forget_writes(conn):
        _WROTE.discard(conn.connection.dbapi_connection)

    dialect = engine.dialect
    rollback = dialect.do_rollback

    def do_rollback(dbapi_connection) -> None:
        raw = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)  # the pool may proxy it
        if raw in _WROTE:
            _WROTE.discard(raw)
            rollback(dbapi_connection)
        elif raw.info.transaction_status == TransactionStatus.INTRANS:
            raw.commit()
        else:  # idle (nothing to end), aborted, or the connection lost
            rollback(dbapi_connection)

    dialect.do_rollback = do_rollback


TRANSACTION_CACHE = "safeguarding_tx"


# The transaction cache's entries that a savepoint rolled back takes with it: each depends on what
# the transaction wrote (a chain's last event, the case rows locked, the events not written yet).
# The rest are reads (the units, who holds a role where, email preferences), still true after it.
_WRITTEN_IN_TRANSACTION: set[str] = set()


def written_in_transaction(key: str) -> str:
    """Declare a transaction cache entry that a savepoint rolled back drops; returns the key."""
    _WRITTEN_IN_TRANSACTION.add(key)
    return key


def transaction_cache(session) -> dict:
    """A dict that lives as long as the session's current transaction (cleared on commit and
    rollback): for facts that are only safe to reuse while the transaction's locks are held.
    A savepoint released keeps it; a savepoint rolled back drops what was written in it."""
    return session.info.setdefault(TRANSACTION_CACHE, {})


_PLANNED_FOR_VALUES = written_in_transaction("planned for the values given")
_PLAN_FOR_VALUES = select(func.set_config("plan_cache_mode", "force_custom_plan", True))


def plan_for_values(session) -> None:
    """PostgreSQL: plan the statements of the rest of this transaction for the values each is given
    (`plan_cache_mode = force_custom_plan` until it ends). psycopg prepares a statement once it has run
    five times on a connection, and PostgreSQL may then plan it once for any values, when it judges that
    plan no worse on average: for a read whose best plan depends on its values (the inbox's queue, where
    one role holds tens of thousands of open tasks and the next none) that can be a sequential scan
    where an index range reads a few rows. Sent as a SELECT (`set_config`), so a transaction that only
    read still ends with a COMMIT and keeps its prepared statements (`_keep_prepared_statements`)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    cache = transaction_cache(session)
    if _PLANNED_FOR_VALUES not in cache:
        direct.execute(session, _PLAN_FOR_VALUES)
        cache[_PLANNED_FOR_VALUES] = True


def _forget_on_commit(session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released (SQLAlchemy says after_commit): the transaction goes on
    session.info.pop(TRANSACTION_CACHE, None)


def _forget_on_rollback(session, previous_transaction=None) -> None:
    nested = (previous_transaction.nested if previous_transaction is not None
              else session.get_nested_transaction() is not None)
    if not nested:
        session.info.pop(TRANSACTION_CACHE, None)
        return
    cache = session.info.get(TRANSACTION_CACHE, {})
    for key in _WRITTEN_IN_TRANSACTION:
        cache.pop(key, None)


def configure_sessions() -> None:
    """Clear the transaction cache whenever a transaction ends (idempotent)."""
    for name, forget in (("after_commit", _forget_on_commit), ("after_rollback", _forget_on_rollback),
                         ("after_soft_rollback", _forget_on_rollback)):
        if not event.contains(Session, name, forget):
            event.listen(Session, name, forget)


def begin_writing(session) -> None:
    """Begin the session's next transaction as a writer. On SQLite, take the database's write lock
    now (BEGIN IMMEDIATE, waiting its turn behind another writer): a transaction that read first
    would begin as a reader, and its first write after another writer's commit would be refused at
    once. On PostgreSQL nothing is needed (rows are locked as they are written)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


HELD = "held_after_commit"  # session.info: objects kept in the session's map for `commit_keeping`'s `fixed`


def commit_keeping(session, *keep, fixed: tuple = ()) -> None:
    """Commit, then expire what the session holds except `keep` (the person acting, the row the
    caller returns): what the step just wrote is known, so nothing is read back after the commit.
    `fixed`: (object, attribute names) whose values never change once written (a case's reference),
    kept loaded on an object otherwise expired, which the session holds until its next such commit or
    until it closes (its map of what it has read lets go of what nothing else holds): for the answer
    to the step, not for every step a long-lived session takes."""
    held = [(obj, key, obj.__dict__[key]) for obj, keys in fixed for key in keys if key in obj.__dict__]
    real = session.registry() if hasattr(session, "registry") else session
    real.info.pop(HELD, None)  # an earlier step's, let go before the map is walked
    previous = real.expire_on_commit
    real.expire_on_commit = False
    try:
        real.commit()
    finally:
        real.expire_on_commit = previous
    kept = {id(obj) for obj in keep}
    for obj in keep:  # and what they hold loaded (a person's roles and where they hold them)
        state = inspect(obj)
        for relationship in state.mapper.relationships:
            if relationship.key not in state.unloaded:
                value = state.attrs[relationship.key].loaded_value
                kept.update(id(item) for item in (value if isinstance(value, (list, set, tuple)) else [value]))
    for state in list(real.identity_map.all_states()):  # expired as the commit itself expires them
        if id(state.obj()) not in kept:
            state._expire(state.dict, real.identity_map._modified)
    for obj, key, value in held:
        set_committed_value(obj, key, value)
    real.info[HELD] = [obj for obj, _keys in fixed]


def empty_tables(engine: Engine, metadata) -> None:
    """Delete every row but the roles, the migration head, the root unit and the organisation's
    version token (its triggers have just changed it): the state a fresh installation starts from
    (the test suite and the scenario check begin each run here)."""
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name in ("role", "alembic_version", "organisation_version"):
                continue
            conn.execute(table.delete().where(table.c.key != "all") if table.name == "org_unit" else table.delete())


_INSERTS_ONCE: dict = {}


def insert_once(session, table, key: str, *returning, values: dict | None = None):
    """INSERT ... ON CONFLICT (`key`) DO NOTHING RETURNING `returning`, on PostgreSQL and SQLite alike,
    built once per dialect: a row already there (under the unique `key`) is left as it is and returns
    nothing. `values`: fixed values of the statement's own."""
    dialect = session.get_bind().dialect.name
    cache_key = (dialect, table.name, key, tuple(c.name for c in returning), tuple(sorted((values or {}).items())))
    if cache_key not in _INSERTS_ONCE:
        statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
        if values:
            statement = statement.values(**values)
        statement = statement.on_conflict_do_nothing(index_elements=[key])
        _INSERTS_ONCE[cache_key] = statement.returning(*returning) if returning else statement
    return _INSERTS_ONCE[cache_key]


_INSERTS: dict = {}  # table -> (INSERT ... RETURNING id, the columns it writes)


def insert_all_as_loaded(session, rows: list) -> list[int]:
    """New ORM rows of one table inserted by one prebuilt statement (no flush of anything else), then
    in the session as loaded, so nothing is read back; every column but the id must have a value (no
    column default applies). Returns their ids in order."""
    if not rows:
        return []
    statement, _columns = _insert_for(type(rows[0]).__table__)
    values = values_as_loaded(rows)
    if session.get_bind().dialect.name == "sqlite":
        # SQLite does not promise the order RETURNING gives several rows in: one statement a row, as
        # SQLAlchemy sends them there (calls into the library, not round trips)
        ids = [direct.execute(session, statement, one)[0].id for one in values]
    else:
        ids = [row.id for row in direct.execute(session, statement, values)]
    return add_as_loaded(session, rows, ids)


def _insert_for(table):
    if table not in _INSERTS:
        _INSERTS[table] = (insert(table).returning(table.c.id, sort_by_parameter_order=True),
                           [c.key for c in table.columns if c.key != "id"])
    return _INSERTS[table]


def values_as_loaded(rows: list) -> list[dict]:
    """The column values of new ORM rows of one table (every column but the id), for a statement that
    inserts them; a column left unset is an error (its default would not apply, and it would be read
    back when touched)."""
    _statement, columns = _insert_for(type(rows[0]).__table__)
    for row in rows:
        unset = [key for key in columns if key not in row.__dict__]
        if unset:
            raise ValueError(f"insert_all_as_loaded: {type(row).__name__} has no value for {', '.join(unset)}")
    return [{key: row.__dict__[key] for key in columns} for row in rows]


def add_as_loaded(session, rows: list, ids) -> list[int]:
    """New ORM rows just inserted (with `ids`, in order) into the session as loaded rows."""
    for row, row_id in zip(rows, ids, strict=True):
        row.id = row_id
        make_transient_to_detached(row)
        session.add(row)
    return list(ids)


def insert_from_json(table, name: str, with_id: bool = False):
    """PostgreSQL: INSERT INTO `table` (every column but the id, unless `with_id`: ids taken from its
    sequence beforehand) the rows given as one JSON array, the parameter `name` (json_populate_recordset
    reads each object's values as the table's column types). One statement and one parameter whatever
    the number of rows: the driver keeps its parsed form and the server its plan (`json_rows` gives
    the parameter's value). PostgreSQL's own INSERT, so that it may take an ON CONFLICT clause."""
    columns = [column.key for column in table.columns if with_id or column.key != "id"]
    given = (func.json_populate_recordset(literal_column(f'NULL::"{table.name}"'), bindparam(name, type_=JSON))
             .table_valued(*columns).alias("given"))
    return postgresql.insert(table).from_select(columns, select(*(given.c[column] for column in columns)))


def ids_from_sequence(table, count_param: str, label: str):
    """PostgreSQL: a scalar subquery of an array of new ids from `table`'s id sequence (PostgreSQL's
    name for a serial column's), as many as the bound parameter `count_param` says (NULL for none),
    for a statement the step runs anyway: rows it inserts later with these ids need not return them.
    An unnested array, which a plan made without the count takes for a few rows (a series to it, for a
    thousand: the server then planned the whole statement afresh at every execution)."""
    taken = func.nextval(literal_column(f"'{table.name}_id_seq'::regclass"))
    rows = func.unnest(func.array_fill(1, postgresql.array([bindparam(count_param, type_=Integer)])))
    return select(func.array_agg(taken)).select_from(rows).scalar_subquery().label(label)


def json_rows(rows: list[dict]) -> list[dict]:
    """Rows for `insert_from_json`: dates and times as ISO 8601, which the columns' types read back
    exactly (a time keeps its offset and microseconds). A time without its zone is refused, as the
    columns' own type refuses it (app.models.types.UTCDateTime)."""
    return [{key: _json_value(value) for key, value in row.items()} for row in rows]


def _json_value(value):
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("naive datetime: use app.clock.now() or an aware datetime")
    return value.isoformat() if isinstance(value, date) else value


def refuse_clashes(one_params, one_table, other_params, other_table) -> None:
    """Two writes sent as one statement share one set of parameters, and a Core UPDATE takes a
    parameter named as one of its table's columns as a value to set: refuse any parameter of one that
    names a column of the other's table."""
    clash = set(one_params) & set(other_table.c.keys()) | set(other_params) & set(one_table.c.keys())
    if clash:
        raise ValueError(f"{sorted(clash)}: parameters of one write, and columns of the other's table")


def held(session, cls, row_id, loaded: str | None = None):
    """The row of `cls` with this id if the session holds it (with its attribute `loaded` loaded, if
    named), else None; nothing is read."""
    row = session.identity_map.get(identity_key(cls, row_id))
    return row if row is not None and (loaded is None or loaded in row.__dict__) else None


_READ_AS: dict = {}  # mapped class -> (its mapper, the attribute key of each of its table's columns)


def columns_to_read(cls) -> list:
    """The columns of `cls`'s table, in the order `row_as_read` takes their values."""
    return list(cls.__table__.columns)


def plain_row(cls, values: dict) -> object:
    """A new ORM row of `cls` holding `values` (transient), without its constructor's event per attribute."""
    row = cls.__mapper__.class_manager.new_instance()
    inspect(row).dict.update(values)
    return row


def row_as_read(session, cls, values) -> object:
    """The ORM row of `cls` that `values` (one per column of `columns_to_read(cls)`, as a direct read
    returned them) say the database holds: the session's own copy with its columns set to them (what a
    lock just waited for, as SQLAlchemy's populate_existing does, and any relationship it had loaded
    let go), or a new one put in the session as loaded. Nothing is read back."""
    if cls not in _READ_AS:
        mapper = inspect(cls)
        _READ_AS[cls] = (mapper, [mapper.get_property_by_column(column).key for column in columns_to_read(cls)])
    mapper, keys = _READ_AS[cls]
    read = dict(zip(keys, values, strict=True))
    held = session.identity_map.get(mapper.identity_key_from_primary_key([read[c.key] for c in mapper.primary_key]))
    if held is None:
        row = plain_row(cls, read)
        make_transient_to_detached(row)
        session.add(row)
        return row
    state = inspect(held)
    for key, value in read.items():
        set_committed_value(held, key, value)
    stale = [relationship.key for relationship in mapper.relationships if relationship.key in state.dict]
    if stale:
        session.expire(held, stale)
    _nothing_unwritten(session, state)
    return held


_UPDATES: dict = {}  # (table, columns) -> UPDATE ... WHERE id = :row_id


def write_changes(session, row, send=None) -> None:
    """Write the columns changed on a loaded ORM row now, in one prebuilt UPDATE, and mark them (and
    those set to the value they had) as written: the commit then has nothing of it to flush (the unit
    of work costs more than the statement for the one row a step changes, its case). `send(statement,
    params)`: who sends the UPDATE, when not now (`audit.write_with_events`)."""
    state = inspect(row)
    touched = {key: state.dict[key] for key in state.committed_state if key in state.dict}
    changed = {key: value for key, value in touched.items() if value != state.committed_state[key]}
    if changed:
        table = type(row).__table__
        columns = tuple(sorted(changed))
        if (table, columns) not in _UPDATES:
            _UPDATES[table, columns] = (table.update().where(table.c.id == bindparam("row_id"))
                                        .values({key: bindparam(key) for key in columns}))
        params = {"row_id": row.id, **changed}
        if send is None:
            direct.execute(session, _UPDATES[table, columns], params)
        else:
            send(_UPDATES[table, columns], params)
    for key, value in touched.items():  # set to what it was, too
        set_committed_value(row, key, value)
    _nothing_unwritten(session, state)


def _nothing_unwritten(session, state) -> None:
    """A row whose every change is written (or overwritten by what was read): the ORM still flags it
    modified, and the commit's flush would go through it for nothing. This is what the ORM itself
    does to a row after a flush, or one it loads again (a private method;
    tests/integration/test_step_locks.py and test_direct.py fail if that ever changes)."""
    if not state.committed_state and state.modified:
        state._commit_all(state.dict, session.identity_map)
