"""Query plans of the hot queries, as the database reports them."""
from __future__ import annotations

from app.extensions import db


def explain(statement) -> list[str]:
    """The database's plan for a SQLAlchemy statement, one line per step."""
    bind = db.session.get_bind()
    compiled = statement.compile(dialect=bind.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    processors = compiled._bind_processors
    params = {k: processors[k](v) if k in processors else v for k, v in params.items()}
    with bind.connect() as conn:
        if bind.dialect.name == "sqlite":
            values = tuple(params[k] for k in compiled.positiontup)
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values).all()
            return [row[-1] for row in rows]
        rows = conn.exec_driver_sql(f"EXPLAIN {compiled}", params).all()
        return [row[0] for row in rows]


def uses_index(plan: list[str]) -> bool:
    """Whether the plan reads through an index and scans no table whole (the printed plan says which)."""
    def whole_table_scan(line: str) -> bool:  # SQLite: "SCAN anon_2" reads a subquery's rows, not a table
        words = line.strip().split()
        return "Seq Scan" in line or (words[:1] == ["SCAN"] and len(words) == 2 and not words[1].startswith("anon_"))
    whole_scans = [line for line in plan if whole_table_scan(line)]
    return "INDEX" in " ".join(plan).upper() and not whole_scans
