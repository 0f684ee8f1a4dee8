"""The SpiffWorkflow adapter: the only package that imports SpiffWorkflow.

Parse and validate BPMN, evaluate expressions in a sandbox, run workflows, serialize them, and draw
and compare diagrams. Services import this front module only.
"""
from app.workflow import iteration
from app.workflow.budget import ScriptLimits
from app.workflow.compare import ElementChange, compare_models
from app.workflow.definition import (
                                     BPMN_NS,
                                     DefinitionError,
                                     Problem,
                                     ProcessModel,
                                     TimerInfo,
                                     UserTaskInfo,
                                     parse_context,
                                     read_process,
)
from app.workflow.effects import describe_timers
from app.workflow.engine import (
                                     OutboundMessage,
                                     ReadyTask,
                                     Snapshot,
                                     TaskNotReady,
                                     WaitingTimer,
                                     WorkflowError,
                                     bring_timer_forward,
                                     case_data,
                                     deliver_message,
                                     fire_timers,
                                     run_user_task,
                                     snapshot,
                                     start_workflow,
                                     task_data,
                                     task_state,
                                     timer_guards,
)
from app.workflow.helpers import build_helpers
from app.workflow.migration import Blocker, migrate_workflow, migration_blockers
from app.workflow.progress import element_progress
from app.workflow.sandbox import SandboxError, check_source, make_script_engine
from app.workflow.state import dump_state, dump_state_json, load_state, state_json
from app.workflow.svg import list_diagrams, render_svg
from app.workflow.validate import validate_process
from app.workflow.xmlsafe import UnsafeXmlError, XmlSyntaxError, parse_xml

__all__ = [
    "BPMN_NS", "Blocker", "DefinitionError", "ElementChange", "OutboundMessage", "Problem", "ProcessModel",
    "ReadyTask", "SandboxError", "ScriptLimits", "Snapshot", "TaskNotReady", "TimerInfo", "UnsafeXmlError", "UserTaskInfo",
    "WaitingTimer", "WorkflowError", "XmlSyntaxError", "bring_timer_forward", "build_helpers", "case_data", "check_source",
    "compare_models",
    "deliver_message", "describe_timers", "dump_state", "dump_state_json", "element_progress", "fire_timers",
    "list_diagrams", "load_state", "make_script_engine", "migrate_workflow", "migration_blockers", "parse_context", "parse_xml",
    "read_process", "render_svg", "run_user_task", "snapshot", "start_workflow", "state_json", "task_data", "task_state",
    "timer_guards", "validate_process",
]

iteration.install()
