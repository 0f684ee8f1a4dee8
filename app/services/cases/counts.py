"""Open cases counted per pathway, unit and stage, kept up by the engine step that opens, moves or
closes a case, in its own transaction: the dashboard reads a handful of rows instead of counting
every open case (app/services/reporting/dashboard.py).

A case is counted under (pathway, unit id or 0 when its answers name none yet, stage) while it is
open. `rebuild_case_counts` recounts from the cases (after a bulk load, or to check the counts).
"""
from __future__ import annotations

from sqlalchemy import func, insert, literal_column, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import Case, CaseCount

CountKey = tuple[str, int, str]
_COUNTS = CaseCount.__table__
_STATEMENTS: dict[tuple[str, str], object] = {}


def count_key(case: Case) -> CountKey | None:
    """Where the case is counted now (None: it is not open, so not counted)."""
    if case.status != "open":
        return None
    return case.pathway, case.unit_id or 0, case.stage or ""


def move_count(before: CountKey | None, after: CountKey | None) -> None:
    """The step moved the case from `before` to `after`: one less there, one more here. Part of the
    caller's transaction; nothing is written when the case stays where it was counted."""
    if before == after:
        return
    rows = [{"pathway": key[0], "unit_id": key[1], "stage": key[2], "open_cases": delta}
            for key, delta in ((before, -1), (after, 1)) if key is not None]
    statement = _add_statement()
    for row in rows:  # one row each: an upsert's conflict target is one row
        db.session.execute(statement, row)


def _add_statement():
    return upsert_statement(_COUNTS, ["pathway", "unit_id", "stage"], "open_cases")


def upsert_statement(table, keys: list[str], column: str):
    """INSERT a row of counts, or add its `column` to the row already there with the same `keys`
    (built once per table and dialect)."""
    dialect = db.session.get_bind().dialect.name
    cached = (table.name, dialect)
    if cached not in _STATEMENTS:
        insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert_(table)
        _STATEMENTS[cached] = statement.on_conflict_do_update(
            index_elements=[table.c[key] for key in keys],
            set_={column: table.c[column] + statement.excluded[column]})
    return _STATEMENTS[cached]


def rebuild_case_counts() -> None:
    """Recount every open case (after a bulk load). Does not commit."""
    unit, stage = func.coalesce(Case.unit_id, literal_column("0")), func.coalesce(Case.stage, literal_column("''"))
    db.session.execute(_COUNTS.delete())
    db.session.execute(insert(_COUNTS).from_select(
        ["pathway", "unit_id", "stage", "open_cases"],
        select(Case.pathway, unit, stage, func.count()).where(Case.status == "open").group_by(Case.pathway, unit, stage)))


def counted_by_stage(pathway: str) -> dict[str, int]:
    """The open cases of a pathway by stage, in every unit, from the counts."""
    rows = db.session.execute(select(CaseCount.stage, func.sum(CaseCount.open_cases))
                              .where(CaseCount.pathway == pathway).group_by(CaseCount.stage))
    return {stage: int(total) for stage, total in rows if total}
