"""Models for the modeller's tests, made from the bundled ones the way a process owner would change them."""
from __future__ import annotations

from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI"}


def pipot_bytes() -> bytes:
    return (ROOT / "bpmn" / "pipot.bpmn").read_bytes()


def with_task_after(bpmn: bytes, flow_id: str, task_id: str, name: str, lane_id: str,
                    form: str | None = "pipot_lessons_learned.schema.json") -> bytes:
    """Insert a user task (in `lane_id`, with `form`) into the sequence flow `flow_id`."""
    root = etree.fromstring(bpmn)
    flow = root.find(f".//bpmn:sequenceFlow[@id='{flow_id}']", NS)
    process = flow.getparent()
    task = etree.SubElement(process, f"{{{BPMN}}}userTask", id=task_id, name=name)
    if form:
        ext = etree.SubElement(task, f"{{{BPMN}}}extensionElements")
        props = etree.SubElement(ext, f"{{{SPIFF}}}properties")
        etree.SubElement(props, f"{{{SPIFF}}}property", name="formJsonSchemaFilename", value=form)
    target = flow.get("targetRef")
    flow.set("targetRef", task_id)
    etree.SubElement(process, f"{{{BPMN}}}sequenceFlow", id=f"Flow_{task_id}_out", sourceRef=task_id, targetRef=target)
    lane = root.find(f".//bpmn:lane[@id='{lane_id}']", NS)
    etree.SubElement(lane, f"{{{BPMN}}}flowNodeRef").text = task_id
    _draw(root, flow_id, task_id)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _draw(root, flow_id: str, task_id: str) -> None:
    """A shape halfway along the flow's first segment and an edge from it (enough for any viewer)."""
    edge = root.find(f".//bpmndi:BPMNEdge[@bpmnElement='{flow_id}']", NS)
    if edge is None:
        return  # a model without a diagram
    points = edge.findall("di:waypoint", NS)
    x = (float(points[0].get("x")) + float(points[-1].get("x"))) / 2
    y = (float(points[0].get("y")) + float(points[-1].get("y"))) / 2
    plane = edge.getparent()
    shape = etree.SubElement(plane, f"{{{NS['bpmndi']}}}BPMNShape", id=f"{task_id}_di", bpmnElement=task_id)
    etree.SubElement(shape, f"{{{NS['dc']}}}Bounds", x=str(x - 50), y=str(y - 40), width="100", height="80")
    out = etree.SubElement(plane, f"{{{NS['bpmndi']}}}BPMNEdge", id=f"Flow_{task_id}_out_di",
                           bpmnElement=f"Flow_{task_id}_out")
    etree.SubElement(out, f"{{{NS['di']}}}waypoint", x=str(x + 50), y=str(y))
    etree.SubElement(out, f"{{{NS['di']}}}waypoint", x=points[-1].get("x"), y=points[-1].get("y"))


def pipot_with_manager_check() -> bytes:
    """PiPoT with a reporting manager's check after the first steps."""
    return with_task_after(pipot_bytes(), "Flow_first_steps_to_merge", "Task_manager_check",
                           "Check the first steps", "Lane_reporting_manager")
