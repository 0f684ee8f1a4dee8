"""How far a workflow has come, read from its stored JSON without rebuilding it.

The case diagram needs only each task's spec name and state, so the serialized state is read as plain
JSON (no SpiffWorkflow objects, no spec): cheap enough for every view of a case page.
"""
from __future__ import annotations

import json

from SpiffWorkflow.util.task import TaskState

from app.workflow.state import state_json

ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def element_progress(state: bytes | str) -> dict[str, str]:
    """BPMN id -> "completed" or "active" for each element the workflow has reached.

    An element reached several times (a loop, a multi-instance task) is "active" while any of its
    tasks is, else "completed". Engine-made tasks (Start, End, boundary splits) are left out.
    """
    document = json.loads(state_json(state))
    progress: dict[str, str] = {}
    for workflow in [document, *document.get("subprocesses", {}).values()]:
        for task in workflow.get("tasks", {}).values():
            _note(progress, task.get("task_spec", ""), task.get("state", 0))
    return progress


def _note(progress: dict[str, str], name: str, state: int) -> None:
    if "." in name or name in ("Start", "End", "Root"):
        return
    if state & ACTIVE:
        progress[name] = "active"
    elif state & TaskState.COMPLETED and progress.get(name) != "active":
        progress[name] = "completed"
