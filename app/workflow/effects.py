"""What each timer of a model does when it fires, in words, read from the model itself."""
from __future__ import annotations

from app.workflow.xmlsafe import parse_xml

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
WALK_LIMIT = 4


def describe_timers(bpmn: bytes) -> dict[str, str]:
    """bpmn id of each timer event -> what happens when it fires, in words: its `bpmn:documentation`
    when the process owner wrote one, else where its outgoing flow leads."""
    root = parse_xml(bpmn, max_bytes=max(len(bpmn), 1))
    elements = {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    flows: dict[str, list[str]] = {}
    for flow in root.iter(f"{BPMN}sequenceFlow"):
        flows.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    lanes = {(ref.text or "").strip(): lane.get("name") or "" for lane in root.iter(f"{BPMN}lane")
             for ref in lane.iter(f"{BPMN}flowNodeRef")}
    effects = {}
    for definition in root.iter(f"{BPMN}timerEventDefinition"):
        event = definition.getparent()
        effects[event.get("id")] = _describe(event, elements, flows, lanes)
    return effects


def _describe(event, elements: dict, flows: dict, lanes: dict) -> str:
    documentation = (event.findtext(f"{BPMN}documentation") or "").strip()
    if documentation:
        return documentation
    steps = [_step(target, elements, flows, lanes) for target in flows.get(event.get("id"), [])]
    said = "; ".join(step for step in steps if step) or "The process moves on"
    attached = elements.get(event.get("attachedToRef") or "")
    if attached is not None:
        name = attached.get("name") or attached.get("id")
        if event.get("cancelActivity", "true").lower() != "false":
            said += f", and “{name}” is stopped"
        else:
            said += f"; “{name}” carries on"
    return said + "."


def _step(target_id: str, elements: dict, flows: dict, lanes: dict, depth: int = 0) -> str:
    element = elements.get(target_id)
    if element is None or depth > WALK_LIMIT:
        return ""
    kind = element.tag.replace(BPMN, "")
    name = element.get("name")
    if kind == "userTask":
        lane = lanes.get(target_id)
        return f"“{name or target_id}” goes to {lane or 'the team'}"
    if kind == "endEvent":
        return f"the case ends ({name})" if name else "this path ends"
    if name and kind in ("scriptTask", "serviceTask", "sendTask", "task", "callActivity", "subProcess",
                         "intermediateThrowEvent"):
        return f"“{name}”"
    steps = [_step(nxt, elements, flows, lanes, depth + 1) for nxt in flows.get(target_id, [])]
    return "; ".join(s for s in steps if s)
