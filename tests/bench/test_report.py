"""The benchmark table puts a verdict beside each figure that has a target."""
from __future__ import annotations

from bench.report import render_plans, render_table


def _results(inbox_p95: float, inbox_uses_index: bool) -> dict:
    reads = {"inbox_page": {"p50_ms": 5.0, "p95_ms": inbox_p95},
             "plans": {"inbox": ["SEARCH human_task USING COVERING INDEX ix_human_task_queue_role"],
                       "sweep": ["SEARCH timer USING INDEX ix_timer_due"], "inbox_uses_index": inbox_uses_index,
                       "sweep_uses_index": True}}
    return {"settings": {"cases": 10, "backlog": 1, "iterations": 1}, "machine": {"cpus": 2},
            "databases": {"sqlite": {"reads": reads}}}


def _row(table: str, label: str) -> list[str]:
    line = next(line for line in table.splitlines() if line.startswith(label))
    return [cell.strip() for cell in line.split("|")]


def test_figures_are_judged_against_their_targets():
    table = render_table(_results(inbox_p95=40.0, inbox_uses_index=True))
    assert _row(table, "inbox page p95 (ms)") == ["inbox page p95 (ms)", "<= 50", "40.0", "met"]
    assert _row(table, "inbox query plan reads")[2:] == ["yes", "met"]

    table = render_table(_results(inbox_p95=60.0, inbox_uses_index=False))
    assert _row(table, "inbox page p95 (ms)")[2:] == ["60.0", "NOT met"]
    assert _row(table, "inbox query plan reads")[2:] == ["no", "NOT met"]
    assert _row(table, "complete one user task, service, p50 (ms)")[2:] == ["-", ""]


def test_the_plans_are_printed_as_the_database_gave_them():
    plans = render_plans(_results(inbox_p95=40.0, inbox_uses_index=True))
    assert "Query plan, inbox, sqlite:\n    SEARCH human_task USING COVERING INDEX ix_human_task_queue_role" in plans
    assert "Query plan, sweep, sqlite:\n    SEARCH timer USING INDEX ix_timer_due" in plans
