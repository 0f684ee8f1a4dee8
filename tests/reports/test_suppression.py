"""Small-number suppression of exported tables, and the back-calculation case."""
from __future__ import annotations

from app.services.reporting.suppression import Row, Table, derivable_cells, suppress_table


def table(counts: dict[str, int], total: int | None = None, exclusive: bool = True) -> Table:
    rows = [Row(key, key.capitalize(), count) for key, count in counts.items()]
    return Table("t", "A table", "Some cases", rows, sum(counts.values()) if total is None and exclusive else total,
                 exclusive=exclusive)


def shown(result: Table) -> dict:
    return {row.key: row.count for row in result.rows}


def test_counts_below_the_threshold_are_hidden_and_zeros_are_shown():
    result = suppress_table(table({"a": 40, "b": 12, "c": 0, "d": 3, "e": 7}), 5)
    assert shown(result)["d"] is None and shown(result)["c"] == 0
    assert shown(result)["a"] == 40


def test_one_hidden_count_cannot_be_worked_out_from_the_total():
    """The back-calculation case: 25 contacts = 10 + 3 + 12. Hiding only the 3 would let anyone
    subtract 10 and 12 from 25; the smallest other count (10) is hidden with it."""
    original = table({"colleague": 10, "patient": 3, "police": 12})
    result = suppress_table(original, 5)
    assert result.total == 25
    assert shown(result) == {"colleague": None, "patient": None, "police": 12}
    assert derivable_cells(result) == []
    assert result.total - sum(c for c in shown(result).values() if c is not None) == 13  # only the sum of two


def test_every_hidden_count_stays_hidden_whatever_the_table():
    threshold = 5
    for counts in ({"a": 1, "b": 50}, {"a": 4, "b": 0, "c": 0}, {"a": 2, "b": 3, "c": 90}, {"a": 6, "b": 7},
                   {"a": 0, "b": 4}, {"a": 4, "b": 4, "c": 4}, {"a": 100, "b": 1, "c": 0, "d": 200}):
        result = suppress_table(table(counts), threshold)
        assert derivable_cells(result) == [], counts
        for key, count in counts.items():
            if 0 < count < threshold:
                assert shown(result)[key] is None, (counts, key)


def test_a_small_total_hides_itself_and_every_count_in_it():
    result = suppress_table(table({"a": 3, "b": 1, "c": 0}), 5)
    assert result.total is None and shown(result) == {"a": None, "b": None, "c": 0}


def test_when_nothing_else_can_be_hidden_the_total_is():
    result = suppress_table(table({"a": 3, "b": 0, "c": 0}, total=8, exclusive=False), 5)
    assert result.total is None and shown(result)["a"] is None


def test_the_threshold_is_a_setting(app_ctx):
    from app.services.reporting.governance import governance_report
    from app.services.reporting.periods import period

    app_ctx.config["REPORT_SUPPRESSION_THRESHOLD"] = 11
    try:
        assert governance_report("pipot", period("2026-Q1")).threshold == 11
    finally:
        app_ctx.config["REPORT_SUPPRESSION_THRESHOLD"] = 5
