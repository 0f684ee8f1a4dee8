"""Small-number suppression for exported tables (DOMAIN.md: small counts identify people).

Primary suppression hides every count from 1 to one below the threshold (REPORT_SUPPRESSION_THRESHOLD,
5 by default); a zero identifies nobody and is shown. Complementary suppression then makes sure no
hidden count can be worked out from the rest of its table:

- a table's total below the threshold is hidden, with every non-zero count in it;
- when the total is shown and exactly one count is hidden, the smallest other non-zero count is
  hidden too (so the total minus the shown counts gives only the sum of two hidden ones); if there is
  no such count, the total is hidden instead.

Percentages and rates are hidden wherever a count they are made from is hidden.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

HIDDEN = "[c]"
HIDDEN_NOTE = f"{HIDDEN}: fewer than {{threshold}} cases, or hidden so that a small number cannot be worked out."


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    count: int | None  # None once suppressed


@dataclass(frozen=True)
class Table:
    """A one-way table of case counts. `exclusive` tables count each case in one row, so their rows
    add up to `total`; in the others a case may be in several rows (categories, themes)."""

    key: str
    title: str
    basis: str
    rows: list[Row]
    total: int | None
    total_label: str = "Total"
    exclusive: bool = True
    suppressed: bool = False
    chart: bool = True
    notes: list[str] = field(default_factory=list)

    def share(self, row: Row) -> float | None:
        """The row's percentage of the total (None when either is hidden or the total is 0)."""
        if row.count is None or not self.total:
            return None
        return 100.0 * row.count / self.total

    def count(self, key: str) -> int | None:
        return next((row.count for row in self.rows if row.key == key), None)


def suppress_table(table: Table, threshold: int) -> Table:
    """The table as it may be exported: small counts hidden, with complementary suppression."""
    counts = {row.key: row.count for row in table.rows}
    hidden = {key for key, count in counts.items() if _small(count, threshold)}
    total = table.total
    if total is not None and _small(total, threshold):
        hidden |= {key for key, count in counts.items() if count}
        total = None
    elif total is not None and len(hidden) == 1:
        spare = sorted((count, key) for key, count in counts.items() if count and key not in hidden)
        if spare:
            hidden.add(spare[0][1])
        else:
            total = None
    rows = [replace(row, count=None if row.key in hidden else row.count) for row in table.rows]
    return replace(table, rows=rows, total=total, suppressed=True)


def _small(count: int | None, threshold: int) -> bool:
    return count is not None and 0 < count < threshold


def derivable_cells(table: Table) -> list[str]:
    """Hidden rows of an exclusive table that its shown figures give away (for tests and checks):
    with the total shown, one hidden row is the total less the shown rows."""
    if not table.exclusive or table.total is None:
        return []
    hidden = [row.key for row in table.rows if row.count is None]
    return hidden if len(hidden) == 1 else []


def rate(numerator: int | None, denominator: int | None) -> float | None:
    """A percentage, or None when either part is hidden or the denominator is 0."""
    if numerator is None or not denominator:
        return None
    return 100.0 * numerator / denominator
