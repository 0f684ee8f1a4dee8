"""Charts drawn on the server as SVG: no JavaScript, and readable without colour (every bar is
hatched in black and labelled with its value; the table beside each chart holds the same figures)."""
from __future__ import annotations

from markupsafe import Markup, escape

from app.services.reporting.suppression import Table

WIDTH, ROW, LABEL_WIDTH, BAR_START, BAR_END = 680, 30, 300, 310, 600
LABEL_CHARACTERS = 36


def bar_chart(table: Table, chart_id: str) -> Markup:
    """A horizontal bar chart of a table's counts (hidden counts are drawn as "[c]" with no bar)."""
    rows = table.rows
    largest = max((row.count or 0 for row in rows), default=0) or 1
    height = ROW * len(rows) + 10
    summary = "; ".join(f"{row.label}: {'hidden' if row.count is None else row.count}" for row in rows)
    parts = [_open(chart_id, f"{table.title}. {summary}", height), _hatch(chart_id)]
    for index, row in enumerate(rows):
        y = 5 + index * ROW
        length = 0 if row.count is None else round((BAR_END - BAR_START) * row.count / largest)
        parts.append(_bar(chart_id, y, row.label, length, "[c]" if row.count is None else str(row.count)))
    parts.append("</svg>")
    return Markup("".join(parts))


def percent_chart(items: list[tuple[str, float | None]], chart_id: str, title: str) -> Markup:
    """Horizontal bars of percentages (0 to 100), each labelled with its value."""
    height = ROW * len(items) + 10
    summary = "; ".join(f"{label}: {'no cases' if value is None else f'{value:.0f}%'}" for label, value in items)
    parts = [_open(chart_id, f"{title}. {summary}", height), _hatch(chart_id)]
    for index, (label, value) in enumerate(items):
        length = 0 if value is None else round((BAR_END - BAR_START) * value / 100)
        text = "no cases" if value is None else f"{value:.0f}%"
        parts.append(_bar(chart_id, 5 + index * ROW, label, length, text))
    parts.append("</svg>")
    return Markup("".join(parts))


def _open(chart_id: str, label: str, height: int) -> str:
    """The chart's accessible name says what every bar says (the table beside it says it too)."""
    return (f'<svg class="app-chart" id="{chart_id}" role="img" aria-label="{escape(label)}" '
            f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
            f'xmlns="http://www.w3.org/2000/svg">')


def _hatch(chart_id: str) -> str:
    return (f'<defs><pattern id="{chart_id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
            f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"></rect>'
            f'<line x1="0" y1="0" x2="0" y2="6" stroke="#0b0c0c" stroke-width="3"></line></pattern></defs>')


def _bar(chart_id: str, y: int, label: str, length: int, value: str) -> str:
    short = label if len(label) <= LABEL_CHARACTERS else label[:LABEL_CHARACTERS - 1] + "…"
    bar = (f'<rect x="{BAR_START}" y="{y + 4}" width="{length}" height="{ROW - 10}" '
           f'fill="url(#{chart_id}-hatch)" stroke="#0b0c0c" stroke-width="1"></rect>') if length else ""
    return (f'<g aria-hidden="true"><text x="{LABEL_WIDTH}" y="{y + ROW / 2 + 4}" text-anchor="end" font-size="14" '
            f'fill="#0b0c0c">{escape(short)}</text>{bar}'
            f'<text x="{BAR_START + length + 6}" y="{y + ROW / 2 + 4}" font-size="14" font-weight="bold" '
            f'fill="#0b0c0c">{escape(value)}</text></g>')
