"""Prebuilt Core statements run straight on the driver's cursor, for the few a workflow step sends
every time.

SQLAlchemy compiles a prebuilt statement once and caches it, but each execution still builds an
execution context, a result object and its metadata: about 40 us a statement on SQLite and 100 us on
PostgreSQL here, against 5 and 80 us for the driver alone, on steps of 4 to 17 statements. `execute`
compiles a statement once per dialect, keeps its SQL, the order of its parameters and its type
processors, and then sends it on the session's own connection and transaction as SQLAlchemy would:
the same SQL, the same values as the types write them, the same `before_cursor_execute` and
`after_cursor_execute` events (the statement counters of the tests and the PostgreSQL
prepared-statement keeper see it), and a driver error raised as SQLAlchemy raises it.

What it does not do, it refuses when the statement is first compiled (`NotDirect`), so that a caller
finds out in its tests, not in production: Python-side column defaults and onupdate values (it would
write without them), and expanding or literal-execute parameters. Several rows written with RETURNING
go through the session (SQLAlchemy's insertmanyvalues batches them into multi-row statements and
keeps their order). Rows come back as named tuples, their values through the result types'
processors; the caller gets a list.
"""
from __future__ import annotations

from collections import namedtuple

from sqlalchemy import exc


class NotDirect(ValueError):
    """The statement needs something of SQLAlchemy's execution that `execute` does not do."""


class _Compiled:
    __slots__ = ("statement", "compiled", "sql", "names", "escaped", "processors", "sequence", "row", "results")

    def __init__(self, statement, dialect, keys: tuple, many: bool):
        # compiled as SQLAlchemy compiles it: an INSERT or UPDATE writes the columns its parameters
        # name, and an executemany's form has no RETURNING of the new rows' ids it did not ask for
        compiled = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=many)
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise NotDirect("a column default or onupdate computed in Python: execute it through the session")
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise NotDirect("expanding or literal-execute parameters: execute it through the session")
        self.statement = statement  # held, so that the id keying the cache is not reused
        self.compiled = compiled
        self.sql = compiled.string
        self.names = compiled.positiontup if compiled.positional else None
        self.escaped = compiled.escaped_bind_names or {}
        self.processors = dict(compiled._bind_processors)
        self.sequence = dialect.execute_sequence_format
        # the new row's id that an INSERT returns unasked (PostgreSQL): SQLAlchemy's SQL, its rows unread
        columns = [] if compiled.implicit_returning else compiled._result_columns
        self.row = namedtuple("Row", [c[0] for c in columns], rename=True) if columns else None
        self.results = [c[3]._cached_result_processor(dialect, None) for c in columns]

    def parameters(self, given: dict):
        """What SQLAlchemy would send the driver for these values (the statement's own bound values
        filled in, a missing required one refused, each through its type's bind processor)."""
        values = self.compiled.construct_params(given, escape_names=False)
        processors = self.processors
        if self.names is not None:
            return self.sequence([processors[name](values[name]) if name in processors else values[name]
                                  for name in self.names])
        escaped = self.escaped
        return {escaped.get(name, name): processors[name](value) if name in processors else value
                for name, value in values.items()}

    def rows(self, cursor) -> list:
        results, row = self.results, self.row
        if not any(results):
            return [row(*values) for values in cursor.fetchall()]
        return [row(*(value if process is None else process(value) for process, value in zip(results, values)))
                for values in cursor.fetchall()]


_COMPILED: dict = {}  # (id of the statement, dialect name, parameter names, executemany) -> _Compiled


def _compiled(statement, dialect, keys: tuple, many: bool) -> _Compiled:
    key = (id(statement), dialect.name, keys, many)
    found = _COMPILED.get(key)
    if found is None or found.statement is not statement:
        found = _COMPILED[key] = _Compiled(statement, dialect, keys, many)
    return found


def execute(session, statement, params: dict | list[dict] | None = None) -> list:
    """Run a prebuilt Core statement in the session's transaction; returns its rows (an empty list
    for a statement that returns none). A list of parameter sets is one executemany (an empty list
    runs nothing, a list of one is one execution)."""
    many = isinstance(params, list)
    if many and len(params) < 2:
        if not params:
            return []
        params, many = params[0], False
    connection = session.connection()
    dialect = connection.dialect
    compiled = _compiled(statement, dialect, tuple((params[0] if many else params or {}).keys()), many)
    if many and compiled.row is not None:
        return session.execute(statement, params).all()  # SQLAlchemy's insertmanyvalues, in order
    try:
        parameters = [compiled.parameters(p) for p in params] if many else compiled.parameters(params or {})
    except Exception as error:  # a required value missing, a value its type refuses: as SQLAlchemy raises it
        raise exc.StatementError(f"({type(error).__module__}.{type(error).__name__}) {error}", compiled.sql,
                                 params, error) from error
    dbapi_connection = connection.connection.dbapi_connection
    cursor = dbapi_connection.cursor()
    dispatch = connection.dispatch
    try:
        if dispatch.before_cursor_execute:
            dispatch.before_cursor_execute(connection, cursor, compiled.sql, parameters, None, many)
        (cursor.executemany if many else cursor.execute)(compiled.sql, parameters)
        if dispatch.after_cursor_execute:
            dispatch.after_cursor_execute(connection, cursor, compiled.sql, parameters, None, many)
        return compiled.rows(cursor) if compiled.row is not None else []
    except dialect.loaded_dbapi.Error as error:
        disconnected = dialect.is_disconnect(error, dbapi_connection, cursor)
        if disconnected:
            connection.invalidate(error)
        raise exc.DBAPIError.instance(compiled.sql, parameters, error, dialect.loaded_dbapi.Error,
                                      connection_invalidated=disconnected, dialect=dialect) from error
    finally:
        cursor.close()
