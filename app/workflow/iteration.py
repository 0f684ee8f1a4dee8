"""SpiffWorkflow's task tree walk, in the same order at a fraction of the cost.

SpiffWorkflow finds its waiting and ready tasks by walking the whole task tree, finished tasks
included, after every task it completes. Its iterator keeps the tasks still to visit in a list it
pops from the front and rebuilds for every node, rebuilds each node's children through the task
map, and walks up the parents after every leaf to keep a depth count. On a long case that walk was a
quarter of a timer firing's CPU.

After every task it completes, SpiffWorkflow walks the tree for waiting tasks to update; when none of
the workflow's tasks is waiting, that walk would find nothing, and `_update_waiting_tasks` skips it
(a look at each task's state, without the walk's id lookups).

`install()` gives its two iterators (`TaskIterator`, `BpmnTaskIterator`) a depth-first walk over a
stack of (task, depth) pairs: the same tasks in the same order, descending under the same conditions
(a task's state at least the walk's lowest state, or a sub-process to enter; not past `max_depth`;
not past `end_at_spec`). Breadth-first walks keep SpiffWorkflow's own code. `tests/workflow/
test_iteration.py` compares the two walks, task for task, on running cases of both pathways.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.util.task import BpmnTaskFilter, BpmnTaskIterator
from SpiffWorkflow.util.task import TaskFilter, TaskIterator, TaskState
from SpiffWorkflow.workflow import Workflow

_ORIGINAL = {"init": TaskIterator.__init__, "next": TaskIterator.__next__,
             "update_waiting": Workflow.update_waiting_tasks}
_DEFAULTS = {"updated_ts": 0, "manual": None, "spec_name": None, "spec_class": None,
             "catches_event": None, "lane": None}


def _init(self, task, *args, **kwargs):
    _ORIGINAL["init"](self, task, *args, **kwargs)
    self._stack = [(task, 0)] if self.depth_first else None
    criteria = self.task_filter
    # a filter on the state alone (the engine's own walks) is tested here, without a call per task
    self._state_only = type(criteria) in (TaskFilter, BpmnTaskFilter) and all(
        getattr(criteria, name, default) == default for name, default in _DEFAULTS.items())


def _push(stack, task, children, depth):
    found = task.workflow.tasks.get
    if len(children) == 1:  # a task in a sequence
        stack.append((found(children[0]), depth))
    else:
        stack.extend([(found(child), depth) for child in reversed(children)])


def _next(self):
    stack = self._stack
    if stack is None:
        return _ORIGINAL["next"](self)
    wanted, state_only, matches = self.task_filter.state, self._state_only, self.task_filter.matches
    min_state, max_depth, end_at = self.min_state, self.max_depth, self.end_at_spec
    while stack:
        task, depth = stack.pop()
        children = task._children
        if children and task._state >= min_state and depth < max_depth and task.task_spec.name != end_at:
            _push(stack, task, children, depth + 1)
        if (task._state & wanted) if state_only else matches(task):
            self.depth = depth
            return task
    raise StopIteration()


def _bpmn_next(self):
    stack = self._stack
    if stack is None:
        return _ORIGINAL["next"](self)  # which calls BpmnTaskIterator._next
    wanted, state_only, matches = self.task_filter.state, self._state_only, self.task_filter.matches
    min_state, max_depth, end_at = self.min_state, self.max_depth, self.end_at_spec
    # a running sub-process is walked before the task's own children; a finished one is not entered
    # when only unfinished tasks are wanted
    enter_finished = not wanted <= TaskState.FINISHED_MASK
    while stack:
        task, depth = stack.pop()
        subprocess = task.workflow.top_workflow.subprocesses.get(task.id)
        children = task._children
        if (children or subprocess is not None) and (subprocess is not None or task._state >= min_state) \
                and depth < max_depth and task.task_spec.name != end_at:
            _push(stack, task, children, depth + 1)
            if subprocess is not None and not self.skip_subprocesses and (
                    enter_finished or task._state < TaskState.FINISHED_MASK):
                stack.append((subprocess.task_tree, depth + 1))
        if (task._state & wanted) if state_only else matches(task):
            self.depth = depth
            return task
    raise StopIteration()


def _update_waiting_tasks(self):
    """SpiffWorkflow's update of the waiting tasks (in walk order), when any task of this workflow
    waits: the walk only visits the workflow's own tasks, and updates none that is not waiting."""
    waiting = TaskState.WAITING
    for task in self.tasks.values():
        if task._state == waiting:
            return _ORIGINAL["update_waiting"](self)
    return None


def install() -> None:
    """Once per process, at import of the workflow adapter."""
    TaskIterator.__init__ = _init
    TaskIterator.__next__ = _next
    BpmnTaskIterator.__next__ = _bpmn_next
    Workflow.update_waiting_tasks = _update_waiting_tasks


def uninstall() -> None:
    """SpiffWorkflow's own walk again (the tests compare the two)."""
    TaskIterator.__init__ = _ORIGINAL["init"]
    TaskIterator.__next__ = _ORIGINAL["next"]
    del BpmnTaskIterator.__next__
    Workflow.update_waiting_tasks = _ORIGINAL["update_waiting"]
