"""What a commit that waits for the disk costs (issue 19): one small row inserted and committed,
with the durability the service runs with (SQLite `synchronous=FULL`, PostgreSQL
`synchronous_commit=on`) and without it (NORMAL / off), on the same connection, in turns."""
from __future__ import annotations

from sqlalchemy import text

from app.extensions import db
from bench.harness import stopwatch, summary_ms

SETTINGS = {"sqlite": ("PRAGMA synchronous=FULL", "PRAGMA synchronous=NORMAL"),
            "postgresql": ("SET synchronous_commit = on", "SET synchronous_commit = off")}


def measure_commits(iterations: int) -> dict:
    durable_sql, relaxed_sql = SETTINGS[db.engine.dialect.name]
    durable, relaxed = [], []
    with db.engine.connect() as conn:
        conn.execute(text("CREATE TABLE bench_commit (id INTEGER PRIMARY KEY, note TEXT)"))
        conn.commit()
        for n in range(iterations):
            for offset, setting, out in ((0, durable_sql, durable), (1, relaxed_sql, relaxed)):
                conn.execute(text(setting))
                conn.commit()
                with stopwatch(out):
                    conn.execute(text("INSERT INTO bench_commit (id, note) VALUES (:id, :note)"),
                                 {"id": 2 * n + offset, "note": f"row {n}"})
                    conn.commit()
        conn.execute(text(durable_sql))
        conn.execute(text("DROP TABLE bench_commit"))
        conn.commit()
    return {"durable": summary_ms(durable), "relaxed": summary_ms(relaxed)}


def run(app, iterations: int) -> dict:
    with app.app_context():
        result = measure_commits(iterations)
        db.session.remove()
    return result
