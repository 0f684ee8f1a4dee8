"""The process audit view's heat map: each user task shaded by how long cases wait there, each timer by
how often it fires, drawn by the server (app/workflow/svg.py, no JavaScript needed) and by the bpmn-js
viewer where it runs (app/static/src/heatmap-page.js adds each element's figures as an overlay)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from flask import current_app

from app.services.reporting.process_audit import ElementFigures, ProcessAudit
from app.workflow import render_svg

LEVELS = 4
LEGEND = [("heat-0", "No cases, or the shortest waits"), ("heat-1", "Short waits"), ("heat-2", "Longer waits"),
          ("heat-3", "Long waits, or a timer that often fires"), ("heat-4", "The longest waits, or a timer that always fires")]


@dataclass
class HeatMap:
    svg: str
    marks: dict[str, str]
    badges: dict[str, str]
    legend: list[tuple[str, str]]

    def viewer_data(self) -> dict:
        return {"marks": self.marks, "badges": self.badges}


def heat_map(audit: ProcessAudit) -> HeatMap:
    """The diagram of the audited version with every task and timer marked by its heat."""
    marks = {e.bpmn_id: f"heat-{level(e)}" for e in audit.elements if e.cases}
    badges = {e.bpmn_id: badge(e) for e in audit.elements if e.cases}
    svg = render_svg(audit.definition.bpmn_xml, max_bytes=current_app.config["MAX_BPMN_BYTES"], marks=marks,
                     label=f"Heat map of version {audit.definition.version}", key="heat")
    return HeatMap(svg, marks, badges, LEGEND)


def level(element: ElementFigures) -> int:
    """0 to 4: how hot the element is."""
    return min(LEVELS, math.ceil(element.heat * LEVELS))


def badge(element: ElementFigures) -> str:
    """The figures shown on the element in the viewer."""
    if element.kind == "timer":
        return f"fired {element.timers_fired} of {element.timers_started}"
    wait = f" · median {element.median_days:g} d" if element.median_days is not None else ""
    return f"{element.cases} case{'s' if element.cases != 1 else ''}{wait}"
