"""The faster walk of SpiffWorkflow's task tree (app/workflow/iteration.py) visits the same tasks in the
same order as SpiffWorkflow's own, on every walk the engine makes while whole scenarios run.

Each walk is started twice on the tree as it stands: once with SpiffWorkflow's code, once with ours,
and the two lists of tasks (and each task's depth, when SpiffWorkflow's count is the tree's) are compared
before the engine goes on with its walk."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskIterator, TaskState
from sqlalchemy import func, select

from app.extensions import db
from app.models import ProcessInstance
from app.services.cases.lifecycle import load_workflow
from app.workflow import iteration
from tests.scenarios.runner import load_scenario, run_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
LONG_ROUTES = [  # loops, sub-processes, linked cases, recurring timers, amended outcomes
    "pipot/colleague_support_updates_recur.json",
    "pipot/meeting_inquorate_then_quorate.json",
    "pipot/outcome_amended_at_closure.json",
    "pipot/case_review_done_before_escalation_acknowledged.json",
    "lado/pot_meeting_decisions_become_tasks.json",
    "lado/cross_authority_joint_meeting.json",
    "linked/referral_starts_a_linked_case.json",
]


def _walk(iterator) -> list:
    return [task.id for task in iterator]


@pytest.fixture
def compared_walks(monkeypatch):
    """Every walk started while the test runs is made both ways and compared; yields the count."""
    walks = {"count": 0, "tasks": 0}

    def compare(self, task):
        if self._stack is None:
            return
        theirs = copy.copy(self)
        theirs._stack, theirs.task_list, theirs.depth = None, [task], 0
        ours = copy.copy(self)
        ours._stack = list(self._stack)
        expected = _walk(theirs)
        assert _walk(ours) == expected, f"walk from {task.task_spec.name} differs"
        walks["count"] += 1
        walks["tasks"] += len(expected)

    def checking(installed_init, cls):
        def checked_init(self, task, *args, **kwargs):
            installed_init(self, task, *args, **kwargs)
            if type(self) is cls:  # once the whole iterator is set up
                compare(self, task)
        return checked_init

    monkeypatch.setattr(TaskIterator, "__init__", checking(TaskIterator.__init__, TaskIterator))
    monkeypatch.setattr(BpmnTaskIterator, "__init__", checking(BpmnTaskIterator.__init__, BpmnTaskIterator))
    yield walks


@pytest.mark.parametrize("name", LONG_ROUTES)
def test_walks_match_spiffworkflow_on_whole_routes(app_ctx, compared_walks, name):
    run_scenario(load_scenario(SCENARIOS / name))
    assert compared_walks["count"] > 20
    assert compared_walks["tasks"] > 0


def test_installed_and_removable():
    """The adapter installs the walk on import; without it SpiffWorkflow's own code runs."""
    assert TaskIterator.__next__ is iteration._next and BpmnTaskIterator.__next__ is iteration._bpmn_next
    iteration.uninstall()
    try:
        assert TaskIterator.__next__ is not iteration._next and BpmnTaskIterator.__next__ is not iteration._bpmn_next
    finally:
        iteration.install()
    assert TaskIterator.__next__ is iteration._next


def test_depth_limit_and_breadth_first_are_kept(app_ctx):
    """A walk with a depth limit stops at the same tasks; a breadth-first walk is SpiffWorkflow's."""
    run_scenario(load_scenario(SCENARIOS / "pipot/meeting_decisions_become_tasks.json"))
    instance = db.session.scalars(select(ProcessInstance).order_by(func.length(ProcessInstance.state).desc())).first()
    root = load_workflow(instance)[0].task_tree
    for max_depth in (0, 1, 3, 20, 1000):
        ours = [t.id for t in TaskIterator(root, max_depth=max_depth, state=TaskState.ANY_MASK)]
        iteration.uninstall()
        try:
            theirs = [t.id for t in TaskIterator(root, max_depth=max_depth, state=TaskState.ANY_MASK)]
            breadth = [t.id for t in TaskIterator(root, depth_first=False, state=TaskState.ANY_MASK)]
        finally:
            iteration.install()
        assert ours == theirs and len(set(ours)) == len(ours)
    assert len(ours) > 20
    assert [t.id for t in TaskIterator(root, depth_first=False, state=TaskState.ANY_MASK)] == breadth


def _longest_instance():
    run_scenario(load_scenario(SCENARIOS / "pipot/meeting_decisions_become_tasks.json"))
    return db.session.scalars(select(ProcessInstance).order_by(func.length(ProcessInstance.state).desc())).first()


def test_no_walk_for_waiting_tasks_when_none_waits(app_ctx, monkeypatch):
    """After each task it completes SpiffWorkflow walks the tree for waiting tasks to update; a workflow
    with none waiting is not walked (its tasks' states are looked at), one with any is, as before."""
    workflow = load_workflow(_longest_instance())[0]
    walked = []
    monkeypatch.setitem(iteration._ORIGINAL, "update_waiting", walked.append)
    waiting = [task for task in workflow.tasks.values() if task._state == TaskState.WAITING]
    assert waiting, "the scenario leaves a clock waiting"
    workflow.update_waiting_tasks()
    assert walked == [workflow]
    for task in waiting:
        task._state = TaskState.FUTURE
    workflow.update_waiting_tasks()
    assert walked == [workflow]
    waiting[-1]._state = TaskState.WAITING
    workflow.update_waiting_tasks()
    assert walked == [workflow, workflow]


def test_a_restored_workflow_refers_to_each_task_by_its_own_id(app_ctx):
    """Restored from text, a task's key in its workflow, its parent's list of children and its
    children's parent are the task's own id object (not equal copies), and saving it again gives
    the same text."""
    from app.workflow import dump_state_json, state_json

    instance = _longest_instance()
    workflow = load_workflow(instance)[0]
    workflows = [workflow, *workflow.subprocesses.values()]
    tasks = {task.id: task for each in workflows for task in each.tasks.values()}
    assert len(tasks) > 20
    for each in workflows:
        assert all(key is task.id for key, task in each.tasks.items())
        for task in each.tasks.values():
            assert all(child is tasks[child].id for child in task._children)
            assert task._parent is None or task._parent is tasks[task._parent].id
    assert json.loads(dump_state_json(workflow)) == json.loads(state_json(instance.state))
