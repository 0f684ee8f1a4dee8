"""What changed between two versions of a model: elements added, removed and changed, by id.

The diagram interchange (positions, waypoints) is left out: moving a shape is not a change to the
process. An element's own content is its attributes, text and the children that have no id of their
own (extension properties, conditions, timer expressions, a lane's list of elements); children with an
id are compared as elements in their own right.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from app.workflow.svg import DI_NS
from app.workflow.xmlsafe import parse_xml

# Words for the parts of an element a process owner would recognise.
PARTS = {
    "name": "name", "sourceRef": "where it starts", "targetRef": "where it goes", "default": "default flow",
    "attachedToRef": "the activity it is on", "cancelActivity": "whether it interrupts",
    "isExecutable": "executable", "conditionExpression": "condition", "script": "script",
    "timeDate": "timer", "timeDuration": "timer", "timeCycle": "timer", "flowNodeRef": "elements in the lane",
    "properties": "form or due rule", "instructionsForEndUser": "instructions", "preScript": "pre-script",
    "postScript": "post-script", "messageEventDefinition": "message", "timerEventDefinition": "timer",
    "incoming": "incoming flows", "outgoing": "outgoing flows", "documentation": "documentation",
    "extensionElements": "form, instructions, due rule or scripts",
}


@dataclass
class ElementChange:
    element_id: str
    name: str
    kind: str
    change: str  # "added", "removed" or "changed"
    parts: list[str] = field(default_factory=list)


def compare_models(old: bytes, new: bytes, *, max_bytes: int) -> list[ElementChange]:
    """Every element added, removed or changed from `old` to `new`, in the new file's order."""
    before, after = _elements(old, max_bytes), _elements(new, max_bytes)
    changes = []
    for element_id, element in after.items():
        if element_id not in before:
            changes.append(_change(element, "added"))
            continue
        parts = _differences(before[element_id], element)
        if parts:
            changes.append(_change(element, "changed", parts))
    changes.extend(_change(el, "removed") for i, el in before.items() if i not in after)
    return changes


def _elements(bpmn: bytes, max_bytes: int) -> dict:
    root = parse_xml(bpmn, max_bytes=max_bytes)
    found = {}
    for el in root.iter():
        if not isinstance(el.tag, str) or not el.get("id") or el is root:
            continue
        if etree.QName(el).namespace == DI_NS or any(etree.QName(a).namespace == DI_NS for a in el.iterancestors()):
            continue
        found[el.get("id")] = el
    return found


def _change(element, change: str, parts: list[str] | None = None) -> ElementChange:
    kind = etree.QName(element).localname
    return ElementChange(element.get("id"), element.get("name") or "", kind, change, parts or [])


def _differences(old, new) -> list[str]:
    parts = [PARTS.get(_local(k), _local(k)) for k in sorted(set(old.attrib) | set(new.attrib))
             if old.get(k) != new.get(k)]
    if (old.text or "").strip() != (new.text or "").strip():
        parts.append("text")
    old_children, new_children = _content(old), _content(new)
    for tag in sorted(set(old_children) | set(new_children)):
        if old_children.get(tag) != new_children.get(tag):
            parts.append(PARTS.get(tag, tag))
    return list(dict.fromkeys(parts))


def _content(element) -> dict[str, list[str]]:
    """Children without an id of their own, as canonical text grouped by tag."""
    content: dict[str, list[str]] = {}
    for child in element:
        if not isinstance(child.tag, str) or child.get("id"):
            continue
        content.setdefault(_local(child.tag), []).append(_canonical(child))
    return content


def _canonical(element) -> str:
    parts = [_local(element.tag), *sorted(f"{_local(k)}={v}" for k, v in element.attrib.items()),
             (element.text or "").strip()]
    parts.extend(_canonical(c) for c in element if isinstance(c.tag, str))
    return "|".join(parts)


def _local(tag: str) -> str:
    return etree.QName(tag).localname
