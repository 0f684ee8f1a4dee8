"""The SpiffWorkflow adapter: the only package that imports SpiffWorkflow.

Parse and validate BPMN, evaluate expressions in a sandbox, run workflows, and serialize them.
"""
from app.workflow.definition import (DefinitionError, Problem, ProcessModel, TimerInfo, UserTaskInfo,
                                     read_process)
from app.workflow.engine import (OutboundMessage, ReadyTask, Snapshot, TaskNotReady, WaitingTimer,
                                 complete_task, deliver_message, fire_timers, snapshot, start_workflow, task_state,
                                 timer_guards, WorkflowError)
from app.workflow.helpers import build_helpers
from app.workflow.sandbox import SandboxError, check_source, make_script_engine
from app.workflow.state import dump_state, dump_state_json, load_state, state_json
from app.workflow.validate import validate_process

__all__ = [
    "DefinitionError", "OutboundMessage", "Problem", "ProcessModel", "ReadyTask", "SandboxError",
    "Snapshot", "TaskNotReady", "TimerInfo", "UserTaskInfo", "WaitingTimer", "build_helpers",
    "check_source", "complete_task", "deliver_message", "dump_state", "fire_timers", "load_state", "make_script_engine", "state_json", "dump_state_json",
    "read_process", "snapshot", "start_workflow", "task_state", "timer_guards", "validate_process", "WorkflowError",
]
