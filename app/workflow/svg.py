"""A BPMN diagram drawn as SVG on the server, from the file's diagram interchange (shapes and edges).

This is the picture pages show without JavaScript (the case diagram, the difference between two
versions); the bpmn-js viewer replaces it where JavaScript runs. Every element is a `<g>` carrying
`data-element-id` and the classes `app-bpmn__<kind>` plus `app-mark--<mark>` for the marks asked
for, so the same stylesheet colours both pictures. Text is escaped; nothing from the file reaches the
page unescaped.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from app.workflow.xmlsafe import parse_xml

DI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
OMGDI_NS = "http://www.omg.org/spec/DD/20100524/DI"
INK, PAPER = "#0b0c0c", "#ffffff"
TASKS = {"task", "userTask", "scriptTask", "serviceTask", "manualTask", "sendTask", "receiveTask",
         "businessRuleTask", "callActivity"}
EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
GATEWAY_SIGNS = {"exclusiveGateway": "×", "parallelGateway": "+", "inclusiveGateway": "○", "complexGateway": "*",
                 "eventBasedGateway": "◇"}
EVENT_SIGNS = {"timerEventDefinition": "◷", "messageEventDefinition": "✉", "escalationEventDefinition": "▲",
               "errorEventDefinition": "ϟ", "signalEventDefinition": "△", "terminateEventDefinition": "●",
               "conditionalEventDefinition": "≡", "linkEventDefinition": "→", "compensateEventDefinition": "«"}


@dataclass(frozen=True)
class Diagram:
    diagram_id: str
    name: str


def list_diagrams(bpmn: bytes, *, max_bytes: int) -> list[Diagram]:
    """Every diagram in the file (a file may hold several), in file order."""
    root = parse_xml(bpmn, max_bytes=max_bytes)
    return [Diagram(d.get("id") or f"diagram-{n}", d.get("name") or d.get("id") or f"Diagram {n}")
            for n, d in enumerate(root.iter(f"{{{DI_NS}}}BPMNDiagram"), 1)]


def render_svg(bpmn: bytes, *, max_bytes: int, marks: dict[str, str] | None = None,
               diagram_id: str | None = None, label: str = "Process diagram", key: str = "diagram") -> str:
    """The diagram as an `<svg>` element (text), each element marked with `marks[element id]`; `key`
    keeps the ids inside it unique when a page shows several diagrams."""
    root = parse_xml(bpmn, max_bytes=max_bytes)
    elements = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    plane = _plane(root, diagram_id)
    if plane is None:
        return _empty(label)
    painter = _Painter(elements, marks or {}, f"app-bpmn-{key}-arrow")
    for di in plane:
        if not isinstance(di.tag, str):
            continue
        kind = etree.QName(di).localname
        if kind == "BPMNShape":
            painter.shape(di)
        elif kind == "BPMNEdge":
            painter.edge(di)
    return painter.svg(label)


def _plane(root, diagram_id: str | None):
    diagrams = list(root.iter(f"{{{DI_NS}}}BPMNDiagram"))
    chosen = next((d for d in diagrams if d.get("id") == diagram_id), diagrams[0] if diagrams else None)
    return None if chosen is None else chosen.find(f"{{{DI_NS}}}BPMNPlane")


def _empty(label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="app-bpmn" role="img" aria-label={quoteattr(label)} '
            'viewBox="0 0 400 40" width="400" height="40"><text x="10" y="25" class="app-bpmn__label">'
            'This file has no diagram to show.</text></svg>')


class _Painter:
    def __init__(self, elements: dict, marks: dict[str, str], arrow_id: str):
        self.elements, self.marks, self.arrow_id = elements, marks, arrow_id
        self.back: list[str] = []   # pools and lanes, drawn first
        self.front: list[str] = []  # flow elements and edges
        self.box = [math.inf, math.inf, -math.inf, -math.inf]

    def _grow(self, x: float, y: float, x2: float, y2: float) -> None:
        self.box = [min(self.box[0], x), min(self.box[1], y), max(self.box[2], x2), max(self.box[3], y2)]

    def _group(self, element_id: str, kind: str, body: str) -> str:
        mark = self.marks.get(element_id)
        classes = f"app-bpmn__element app-bpmn__{kind}" + (f" app-mark--{mark}" if mark else "")
        return f'<g class="{classes}" data-element-id={quoteattr(element_id)}>{body}</g>'

    def shape(self, di) -> None:
        bounds = di.find(f"{{{DC_NS}}}Bounds")
        element = self.elements.get(di.get("bpmnElement"))
        if bounds is None or element is None:
            return
        x, y, w, h = (float(bounds.get(k, 0)) for k in ("x", "y", "width", "height"))
        self._grow(x, y, x + w, y + h)
        kind = etree.QName(element).localname
        name = element.get("name") or ""
        label = di.find(f"{{{DI_NS}}}BPMNLabel/{{{DC_NS}}}Bounds")
        body = _draw(kind, element, x, y, w, h) + _label(kind, name, x, y, w, h, label)
        target = self.back if kind in ("participant", "lane") else self.front
        target.append(self._group(element.get("id"), _css_kind(kind), body))

    def edge(self, di) -> None:
        element = self.elements.get(di.get("bpmnElement"))
        points = [(float(p.get("x", 0)), float(p.get("y", 0))) for p in di.findall(f"{{{OMGDI_NS}}}waypoint")]
        if element is None or len(points) < 2:
            return
        for px, py in points:
            self._grow(px, py, px, py)
        kind = etree.QName(element).localname
        path = " ".join(f"{px:g},{py:g}" for px, py in points)
        dash = {"messageFlow": ' stroke-dasharray="8 5"', "association": ' stroke-dasharray="2 4"'}.get(kind, "")
        arrow = f' marker-end="url(#{self.arrow_id})"' if kind in ("sequenceFlow", "messageFlow") else ""
        body = (f'<polyline points="{path}" fill="none" stroke="{INK}" stroke-width="1.5"{dash}{arrow} '
                'class="app-bpmn__line"/>')
        name = element.get("name") or ""
        if name:
            (ax, ay), (bx, by) = points[0], points[1]
            body += _text(name, (ax + bx) / 2 + 4, (ay + by) / 2 - 4, 110, anchor="start")
        self.front.append(self._group(element.get("id"), "flow", body))

    def svg(self, label: str) -> str:
        if self.box[0] == math.inf:
            return _empty(label)
        x, y = self.box[0] - 20, self.box[1] - 20
        w, h = self.box[2] - self.box[0] + 40, self.box[3] - self.box[1] + 40
        defs = (f'<defs><marker id="{self.arrow_id}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
                f'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{INK}"/></marker></defs>')
        return (f'<svg xmlns="http://www.w3.org/2000/svg" class="app-bpmn" role="img" aria-label={quoteattr(label)} '
                f'viewBox="{x:g} {y:g} {w:g} {h:g}" width="{w:g}" height="{h:g}" font-family="Arial, sans-serif" '
                f'font-size="12">{defs}{"".join(self.back)}{"".join(self.front)}</svg>')


def _css_kind(kind: str) -> str:
    if kind in TASKS or kind in ("subProcess", "transaction", "adHocSubProcess"):
        return "activity"
    if kind in EVENTS:
        return "event"
    if kind in GATEWAYS:
        return "gateway"
    return {"participant": "pool", "lane": "lane"}.get(kind, "artifact")


def _draw(kind: str, element, x: float, y: float, w: float, h: float) -> str:
    shape = f'fill="{PAPER}" stroke="{INK}" class="app-bpmn__shape"'
    if kind in ("participant", "lane"):
        return (f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" fill="none" stroke="{INK}" '
                f'class="app-bpmn__shape"/><line x1="{x + 30:g}" y1="{y:g}" x2="{x + 30:g}" y2="{y + h:g}" '
                f'stroke="{INK}"/>' if kind == "participant" else
                f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" fill="none" stroke="{INK}" '
                f'class="app-bpmn__shape"/>')
    if kind in EVENTS:
        return _event(kind, element, x, y, w, h, shape)
    if kind in GATEWAYS:
        cx, cy = x + w / 2, y + h / 2
        sign = GATEWAY_SIGNS.get(kind, "")
        return (f'<polygon points="{cx:g},{y:g} {x + w:g},{cy:g} {cx:g},{y + h:g} {x:g},{cy:g}" {shape} '
                f'stroke-width="2"/><text x="{cx:g}" y="{cy + 8:g}" text-anchor="middle" font-size="22" '
                f'class="app-bpmn__sign">{escape(sign)}</text>')
    if kind == "textAnnotation":
        return f'<path d="M{x + 10:g},{y:g} L{x:g},{y:g} L{x:g},{y + h:g} L{x + 10:g},{y + h:g}" fill="none" stroke="{INK}"/>'
    if kind in ("dataObjectReference", "dataStoreReference", "group"):
        dash = ' stroke-dasharray="8 4 2 4"' if kind == "group" else ""
        return f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" fill="none" stroke="{INK}"{dash}/>'
    double = kind == "callActivity" or kind == "transaction"
    rect = f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" rx="10" {shape} stroke-width="{3 if double else 1.5}"/>'
    return rect + _task_sign(kind, x, y)


def _task_sign(kind: str, x: float, y: float) -> str:
    signs = {"userTask": "👤", "scriptTask": "≣", "serviceTask": "⚙", "manualTask": "✋", "sendTask": "✉",
             "receiveTask": "✉", "businessRuleTask": "▦"}
    sign = signs.get(kind)
    return f'<text x="{x + 6:g}" y="{y + 16:g}" font-size="12" class="app-bpmn__sign">{sign}</text>' if sign else ""


def _event(kind: str, element, x: float, y: float, w: float, h: float, shape: str) -> str:
    cx, cy, r = x + w / 2, y + h / 2, min(w, h) / 2
    width = 4 if kind == "endEvent" else 1.5
    dash = ' stroke-dasharray="5 3"' if element.get("cancelActivity") == "false" else ""
    if kind == "startEvent" and element.get("isInterrupting") == "false":
        dash = ' stroke-dasharray="5 3"'
    out = f'<circle cx="{cx:g}" cy="{cy:g}" r="{r:g}" {shape} stroke-width="{width}"{dash}/>'
    if kind in ("intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"):
        out += f'<circle cx="{cx:g}" cy="{cy:g}" r="{r - 3:g}" fill="none" stroke="{INK}"{dash}/>'
    definition = next((etree.QName(c).localname for c in element if isinstance(c.tag, str)
                       and etree.QName(c).localname.endswith("EventDefinition")), None)
    sign = EVENT_SIGNS.get(definition or "", "")
    if sign:
        out += (f'<text x="{cx:g}" y="{cy + 6:g}" text-anchor="middle" font-size="{max(r, 10):g}" '
                f'class="app-bpmn__sign">{escape(sign)}</text>')
    return out


def _label(kind: str, name: str, x: float, y: float, w: float, h: float, label) -> str:
    if not name:
        return ""
    if kind in ("participant", "lane"):
        cx, cy = x + 15, y + h / 2
        return (f'<text x="{cx:g}" y="{cy:g}" text-anchor="middle" dominant-baseline="middle" '
                f'transform="rotate(-90 {cx:g} {cy:g})" class="app-bpmn__label">{escape(_clip(name, h / 7))}</text>')
    if label is not None:
        lx, ly, lw = (float(label.get(k, 0)) for k in ("x", "y", "width"))
        return _text(name, lx + lw / 2, ly + 10, max(lw, 90))
    if kind in EVENTS or kind in GATEWAYS or kind.startswith("data"):
        return _text(name, x + w / 2, y + h + 14, 120)
    if kind == "textAnnotation":
        return _text(name, x + 5, y + 14, w - 5, anchor="start")
    if kind in ("subProcess", "transaction", "adHocSubProcess", "group") and h > 100:
        return _text(name, x + 10, y + 18, w - 20, anchor="start")
    lines = _wrap(name, w - 10)
    top = y + h / 2 - (len(lines) - 1) * 7 + 4
    return _lines(lines, x + w / 2, top, "middle")


def _text(text: str, x: float, y: float, width: float, anchor: str = "middle") -> str:
    return _lines(_wrap(text, width), x, y, anchor)


def _lines(lines: list[str], x: float, y: float, anchor: str) -> str:
    spans = "".join(f'<tspan x="{x:g}" dy="{0 if n == 0 else 14}">{escape(line)}</tspan>'
                    for n, line in enumerate(lines))
    return f'<text x="{x:g}" y="{y:g}" text-anchor="{anchor}" class="app-bpmn__label">{spans}</text>'


def _wrap(text: str, width: float, char: float = 6.2, most: int = 5) -> list[str]:
    per_line = max(int(width / char), 6)
    lines: list[str] = []
    for word in " ".join(text.split()).split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= per_line:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > most:
        lines = lines[:most]
        lines[-1] = _clip(lines[-1] + "…", per_line)
    return lines


def _clip(text: str, length: float) -> str:
    length = max(int(length), 4)
    return text if len(text) <= length else text[: length - 1] + "…"
