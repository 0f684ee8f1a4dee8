"""Template filters and globals of the report pages."""
from __future__ import annotations

from flask import Flask

from app.reports.charts import bar_chart, percent_chart


def init_filters(app: Flask) -> None:
    app.jinja_env.globals.update(bar_chart=bar_chart, percent_chart=percent_chart)
    app.jinja_env.filters.update(period_option=period_option, version_option=version_option,
                                 clock_share=clock_share, purpose_item=purpose_item)


def period_option(period, chosen: str) -> dict:
    """A reporting period as an option of a GOV.UK select."""
    kind = "Quarter" if "-Q" in period.key else "Year"
    text = f"{kind}: {period.first_day:%b %Y} to {period.last_day:%b %Y}"
    return {"value": period.key, "text": text, "selected": period.key == chosen}


def version_option(definition, chosen: int) -> dict:
    """A deployed version as an option of a GOV.UK select."""
    return {"value": definition.version, "text": f"Version {definition.version}",
            "selected": definition.version == chosen}


def clock_share(figure) -> tuple[str, float | None]:
    """(clock, percentage met) for a chart."""
    return figure.rule.title, figure.percent_met


def purpose_item(pair: tuple[str, str]) -> dict:
    """A (value, words) pair as a GOV.UK radio item."""
    return {"value": pair[0], "text": pair[1]}
