"""Open cases counted per pathway, unit and stage, kept up by the engine step that opens, moves or
closes a case, in its own transaction: the dashboard reads a handful of rows instead of counting
every open case (app/services/reporting/dashboard.py).

A case is counted under (pathway, unit id or 0 when its answers name none yet, stage) while it is
open. A step writes its change as rows of its own (`case_count_change`, and `dashboard_count_change`
for the dashboard's marks): insert only, so steps in different processes never wait for each other on
a shared count row until one commits. `fold_count_changes` (a worker job every COUNT_FOLD_SECONDS)
adds them into the counts; readers add up the counts and the changes not folded yet
(`with_changes`). `rebuild_case_counts` recounts from the cases (after a bulk load, or to check).
"""
from __future__ import annotations

from collections import Counter

from sqlalchemy import func, insert, literal_column, select, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import Case, CaseCount, CaseCountChange, DashboardCount, DashboardCountChange
from app.services.audit import insert_with_events

CountKey = tuple[str, int, str]
_COUNTS, _CHANGES = CaseCount.__table__, CaseCountChange.__table__
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
    insert_with_events(_CHANGES, [
        {"pathway": key[0], "unit_id": key[1], "stage": key[2], "open_cases": delta}
        for key, delta in ((before, -1), (after, 1)) if key is not None])


def with_changes(counts, changes, keys: list[str], column: str):
    """The counts and the changes not folded in yet, as one selectable with the counts' columns."""
    return union_all(select(*(counts.c[key] for key in keys), counts.c[column]),
                     select(*(changes.c[key] for key in keys), changes.c[column])).subquery()


_FOLDS = ((_CHANGES, _COUNTS, ["pathway", "unit_id", "stage"], "open_cases"),
          (DashboardCountChange.__table__, DashboardCount.__table__,
           ["pathway", "unit_id", "figure", "holder", "day"], "counted"))


def fold_count_changes(limit: int = 5000) -> int:
    """Add the oldest `limit` changes of each kind into their counts and delete them, in one
    transaction (commits); returns how many changes were folded. Any number of workers may fold at
    once: a change is deleted, and added, by the one transaction that deletes it."""
    folded = 0
    for changes, counts, keys, column in _FOLDS:
        oldest = select(changes.c.id).order_by(changes.c.id).limit(limit).scalar_subquery()
        taken = db.session.execute(changes.delete().where(changes.c.id.in_(oldest))
                                   .returning(*(changes.c[key] for key in keys), changes.c[column])).all()
        totals: Counter = Counter()
        for row in taken:
            totals[tuple(row[:-1])] += row[-1]
        rows = [dict(zip(keys, key, strict=True), **{column: number}) for key, number in sorted(totals.items()) if number]
        if rows:
            db.session.execute(upsert_statement(counts, keys, column), rows)
        folded += len(taken)
    db.session.commit()
    return folded


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
    db.session.execute(_CHANGES.delete())
    db.session.execute(insert(_COUNTS).from_select(
        ["pathway", "unit_id", "stage", "open_cases"],
        select(Case.pathway, unit, stage, func.count()).where(Case.status == "open").group_by(Case.pathway, unit, stage)))


def counted_by_stage(pathway: str) -> dict[str, int]:
    """The open cases of a pathway by stage, in every unit, from the counts."""
    counted = with_changes(_COUNTS, _CHANGES, ["pathway", "unit_id", "stage"], "open_cases")
    rows = db.session.execute(select(counted.c.stage, func.sum(counted.c.open_cases))
                              .where(counted.c.pathway == pathway).group_by(counted.c.stage))
    return {stage: int(total) for stage, total in rows if total}
