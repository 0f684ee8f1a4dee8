"""The restricted environment that evaluates BPMN expressions and runs script tasks.

Gateway conditions, timer expressions, ``dueDate`` expressions and script tasks are Python written by
process owners. SpiffWorkflow's default environment runs them with plain ``eval``/``exec`` and full
builtins; this module runs them instead (DESIGN.md, decision 8):

* every source is parsed and walked against an allow-list of syntax (:func:`check_source`), both at
  deploy time and again before it runs;
* names and attributes starting with an underscore are refused, so ``__class__``, ``__globals__``,
  ``__import__`` and friends cannot be reached, nor can frame, code and generator internals;
* only :data:`ALLOWED_BUILTINS` and the approved helper functions are in scope besides the case data.

* every source runs within a time and size budget (``budget.py``): it is rewritten so that power,
  repetition, padding, loops and the like go through guards that refuse a result past the limits
  before computing it, and every loop turn checks the step's deadline; what is over the budget on
  its face (``10 ** 10 ** 8 > 0``) is refused at deploy time (``bounded.py``).

Known limit: memory is bounded per operation and per variable a script keeps, not in total: a
process cannot cap one thread's memory, so run workers with a memory limit as well (README).
"""

from __future__ import annotations

import ast
import functools
from types import CodeType, MappingProxyType
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from app.workflow.bounded import bound_tree, budget_problems, guard_scope
from app.workflow.budget import BudgetExceeded, ScriptLimits, bounded_range, current_budget, text_size

__all__ = [
    "ALLOWED_BUILTINS",
    "SandboxEnvironment",
    "SandboxError",
    "SandboxScriptEngine",
    "check_source",
    "make_script_engine",
    "trial_evaluate",
]

ALLOWED_BUILTINS: MappingProxyType = MappingProxyType({
    "len": len, "min": min, "max": max, "any": any, "all": all, "sorted": sorted,
    "str": str, "int": int, "float": float, "bool": bool,
    "dict": dict, "list": list, "set": set, "tuple": tuple,
    "abs": abs, "round": round, "sum": sum, "isinstance": isinstance,
    "range": bounded_range, "enumerate": enumerate, "zip": zip,
    "None": None, "True": True, "False": False,
})
"""The only builtins a BPMN expression or script can use (read-only)."""

_EXPRESSION_NODES: frozenset[type] = frozenset({
    ast.Expression, ast.Expr,
    ast.BoolOp, ast.And, ast.Or,
    ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
    ast.LShift, ast.RShift, ast.BitOr, ast.BitXor, ast.BitAnd,
    ast.UnaryOp, ast.Not, ast.USub, ast.UAdd, ast.Invert,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE,
    ast.Is, ast.IsNot, ast.In, ast.NotIn,
    ast.IfExp, ast.Call, ast.keyword, ast.Starred,
    ast.Name, ast.Load, ast.Store, ast.Del, ast.Attribute, ast.Constant,
    ast.List, ast.Tuple, ast.Dict, ast.Set,
    ast.Subscript, ast.Slice,
    ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.comprehension,
    ast.JoinedStr, ast.FormattedValue,
})

_STATEMENT_NODES: frozenset[type] = frozenset({
    ast.Module, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.If, ast.For,
    ast.Pass, ast.Delete, ast.Break, ast.Continue,
})

_ALLOWED_NODES = {"eval": _EXPRESSION_NODES, "exec": _EXPRESSION_NODES | _STATEMENT_NODES}

_FORBIDDEN_NAMES: frozenset[str] = frozenset({
    "open", "exec", "eval", "compile", "getattr", "setattr", "delattr", "globals", "locals", "vars",
    "type", "object", "super", "input", "breakpoint", "help", "memoryview", "classmethod",
    "staticmethod", "property", "dir", "id", "hash", "iter", "next",
})

# str.format / format_map can read attributes ("{0.__class__}"); the prefixed ones are the internals
# of frames, code, generators, coroutines and tracebacks, which lead back to real globals.
_FORBIDDEN_ATTRIBUTES: frozenset[str] = frozenset({"format", "format_map", "mro"})
_FORBIDDEN_ATTRIBUTE_PREFIXES: tuple[str, ...] = ("_", "f_", "gi_", "cr_", "ag_", "tb_", "co_", "func_")

_CONSTRUCT_NAMES: dict[type, str] = {
    ast.Import: "'import'", ast.ImportFrom: "'import'",
    ast.FunctionDef: "defining a function ('def')", ast.AsyncFunctionDef: "defining a function ('def')",
    ast.Lambda: "'lambda'", ast.ClassDef: "defining a class ('class')",
    ast.While: "a 'while' loop", ast.With: "'with'", ast.AsyncWith: "'with'",
    ast.AsyncFor: "'async for'", ast.Try: "'try'", ast.Raise: "'raise'", ast.Assert: "'assert'",
    ast.Global: "'global'", ast.Nonlocal: "'nonlocal'", ast.Await: "'await'",
    ast.Yield: "'yield'", ast.YieldFrom: "'yield'", ast.NamedExpr: "the walrus operator ':='",
    ast.Return: "'return'", ast.Match: "'match'", ast.MatMult: "the '@' operator",
}
if hasattr(ast, "TryStar"):  # Python 3.11+
    _CONSTRUCT_NAMES[ast.TryStar] = "'try'"


class SandboxError(Exception):
    """An expression or script was refused by the sandbox; the message is meant for a process owner."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = list(problems or [])


def check_source(source: str, mode: str = "eval") -> list[str]:
    """Return the problems that stop ``source`` running in the sandbox; an empty list means safe.

    ``mode`` is ``"eval"`` for an expression (condition, timer, ``dueDate``) or ``"exec"`` for a script.
    Each problem reads like ``"line 1: attribute '__class__' is not allowed"``. The source is also
    compiled, so a deploy-time check catches what only the compiler finds (``break`` outside a loop).
    """
    if not isinstance(source, str):
        return [f"line 1: expected Python text, got {type(source).__name__}"]
    return list(_checked_code(source, mode)[1])


def _parse(source: str, mode: str) -> tuple[ast.AST | None, list[str]]:
    """Parse ``source`` in ``mode``; on failure return ``(None, [problem])``."""
    if mode not in _ALLOWED_NODES:
        raise ValueError(f"mode must be 'eval' or 'exec', not {mode!r}")
    try:
        return ast.parse(_normalise(source, mode), mode=mode), []
    except SyntaxError as err:
        detail = "" if err.msg == "invalid syntax" else f" ({err.msg})"
        return None, [f"line {err.lineno or 1}: invalid syntax{detail}"]
    except (ValueError, RecursionError, MemoryError):
        return None, ["line 1: invalid syntax (too long, too deeply nested or contains a null byte)"]


def _normalise(source: str, mode: str) -> str:
    """Strip the surrounding whitespace of an expression (BPMN XML often indents it)."""
    return source.strip() if mode == "eval" else source


def _walk_problems(tree: ast.AST, allowed: frozenset[type]) -> list[str]:
    """Walk ``tree`` iteratively (deep trees must not blow the stack); return problems in source order."""
    found: list[tuple[int, int, str]] = []
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, line = stack.pop()
        line = getattr(node, "lineno", line)
        problem = _node_problem(node, allowed)
        if problem:
            found.append((line, getattr(node, "end_col_offset", 0) or 0, f"line {line}: {problem}"))
            if type(node) not in allowed:
                continue  # do not report the insides of a construct that is refused as a whole
        stack.extend((child, line) for child in ast.iter_child_nodes(node))
    return [problem for _, _, problem in sorted(found, key=lambda item: item[:2])]


def _node_problem(node: ast.AST, allowed: frozenset[type]) -> str | None:
    """Return the problem with this one node, if any."""
    if type(node) not in allowed:
        construct = _CONSTRUCT_NAMES.get(type(node), f"'{type(node).__name__}'")
        return f"{construct} is not allowed"
    if isinstance(node, ast.Name):
        return _name_problem(node.id)
    if isinstance(node, ast.Attribute):
        return _attribute_problem(node.attr)
    if isinstance(node, ast.keyword) and node.arg and node.arg.startswith("_"):
        return f"keyword argument '{node.arg}' is not allowed"
    return None


def _name_problem(name: str) -> str | None:
    """Return why a variable name is refused, if it is."""
    if name.startswith("_"):
        return f"name '{name}' is not allowed (names starting with '_' are reserved)"
    if name in _FORBIDDEN_NAMES:
        return f"name '{name}' is not allowed"
    return None


def _attribute_problem(attr: str) -> str | None:
    """Return why an attribute is refused, if it is."""
    if attr in ("format", "format_map"):
        return f"attribute '{attr}' is not allowed (use an f-string instead)"
    if attr in _FORBIDDEN_ATTRIBUTES or attr.startswith(_FORBIDDEN_ATTRIBUTE_PREFIXES):
        return f"attribute '{attr}' is not allowed"
    return None


def _unique(items: list[str]) -> list[str]:
    """Drop repeated problems, keeping the first occurrence's order."""
    return list(dict.fromkeys(items))


@functools.lru_cache(maxsize=4096)
def _checked_code(source: str, mode: str) -> tuple[CodeType | None, tuple[str, ...]]:
    """Check and compile ``source`` once; return ``(code, ())`` or ``(None, problems)``."""
    tree, problems = _parse(source, mode)
    if tree is not None:
        problems = _unique(_walk_problems(tree, _ALLOWED_NODES[mode]))
        problems = problems or budget_problems(tree)
    if tree is None or problems:
        return None, tuple(problems)
    try:
        return compile(bound_tree(tree), "<string>", mode), ()
    except SyntaxError as err:
        return None, (f"line {err.lineno or 1}: {err.msg}",)
    except (ValueError, RecursionError, MemoryError):
        return None, ("line 1: cannot be compiled (too long or too deeply nested)",)


def _compiled(source: Any, mode: str) -> CodeType:
    """Return the code for ``source`` or raise :class:`SandboxError` naming its problems."""
    if not isinstance(source, str):
        raise SandboxError(f"Expected Python text, got {type(source).__name__}.")
    code, problems = _checked_code(source, mode)
    if code is None:
        kind = "expression" if mode == "eval" else "script"
        raise SandboxError(f"This {kind} is not allowed: " + "; ".join(problems), list(problems))
    return code


def trial_evaluate(expression: str, helpers: dict, data):
    """Evaluate a checked expression over ``data`` (any mapping, such as sample values) within the
    default budget: deploy validation's trial of a timer expression."""
    code = _compiled(expression, "eval")
    scope = {**helpers, **guard_scope(), "__builtins__": dict(ALLOWED_BUILTINS)}
    with current_budget(ScriptLimits()):
        return eval(code, scope, data)  # noqa: S307 - checked by check_source, restricted builtins, guarded


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """A SpiffWorkflow script environment that runs only checked code with restricted builtins.

    Same contract as SpiffWorkflow's ``TaskDataEnvironment``: ``evaluate`` returns the value of an
    expression over the task data; ``execute`` runs a script and updates the task data with the
    variables it sets or deletes. Helpers, builtins and callables never end up in the task data.
    """

    def __init__(self, helpers: dict, limits: ScriptLimits | None = None):
        """``helpers`` maps a name (e.g. ``working_days_after``) to a function scripts may call;
        ``limits`` is the budget of one step (a step's evaluations share it)."""
        bad = [name for name in helpers if _name_problem(name) or name in ALLOWED_BUILTINS]
        if bad:
            raise ValueError(f"helper names not allowed: {sorted(bad)}")
        super().__init__(dict(helpers))
        self.limits = limits or ScriptLimits()

    def evaluate(self, expression, context, external_context=None):
        """Return the value of ``expression`` with the helpers, ``external_context`` and ``context``."""
        code = _compiled(expression, "eval")
        scope = self._scope(external_context or {}, context)
        with current_budget(self.limits):
            return eval(code, scope)  # noqa: S307 - checked by check_source, restricted builtins, guarded

    def execute(self, script, context, external_context=None):
        """Run ``script`` over ``context`` (the task data) and store the variables it sets in it.

        A refused script, or one that fails, leaves ``context``'s variables as they were.
        """
        code = _compiled(script, "exec")
        external_context = external_context or {}
        self._check_for_overwrite(context, external_context)
        scope = self._scope(external_context, context)
        with current_budget(self.limits):
            exec(code, scope)  # noqa: S102 - checked by check_source, restricted builtins, guarded
        self._check_sizes(scope, context)
        self._store_results(scope, context, external_context)
        return True

    def call_service(self, context, **kwargs):
        """Service tasks are not supported in the sandbox."""
        raise SandboxError("Service tasks are not supported.")

    def _scope(self, external_context: dict, context: dict) -> dict:
        """Build the globals a source runs with: helpers, external context, data, builtins."""
        scope = dict(self.globals)
        scope.update(guard_scope())
        scope.update(external_context)
        scope.update(context)
        scope["__builtins__"] = dict(ALLOWED_BUILTINS)
        return scope

    def _check_for_overwrite(self, context: dict, external_context: dict) -> None:
        """Refuse task data whose field names hide a helper."""
        clashes = sorted(set(context) & (set(self.globals) | set(external_context)))
        if clashes:
            names = ", ".join(repr(name) for name in clashes)
            raise SandboxError(
                f"The case data has field(s) {names} with the same name as a helper function; "
                "rename the field(s) in the form or script."
            )

    def _check_sizes(self, scope: dict, context: dict) -> None:
        """Refuse to keep a new or changed variable whose text would be past ten times the length limit."""
        cap = 10 * self.limits.length
        for name, value in scope.items():
            if isinstance(value, (str, list, dict, set, tuple)) and not name.startswith("_") and (
                    context.get(name) is not value or not isinstance(value, str)) and text_size(value, cap) > cap:
                raise BudgetExceeded(f"the variable '{name}' is too large to keep (more than {cap:,} characters)")

    def _store_results(self, scope: dict, context: dict, external_context: dict) -> None:
        """Copy the script's variables back into ``context``, leaving helpers and callables out."""
        for name in [name for name in context if name not in scope]:
            del context[name]  # deleted by the script ('del x')
        for name, value in scope.items():
            if self._is_environment(name, value, external_context):
                context.pop(name, None)
            else:
                context[name] = value

    def _is_environment(self, name: str, value: Any, external_context: dict) -> bool:
        """True for what the environment or Python put in the scope, and for callables."""
        if name in ("__builtins__", "__annotations__"):
            return True
        return callable(value) or name in self.globals or name in external_context


class SandboxScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's ``PythonScriptEngine`` whose expression errors also say *why* they failed.

    The stock engine reports only "Error evaluating expression '...'"; this one appends the reason
    (e.g. the sandbox's "name '__import__' is not allowed") so a process owner can fix the model.
    """

    def evaluate(self, task, expression, external_context=None):
        """Evaluate ``expression`` over ``task.data``; wrap failures in ``WorkflowTaskException``."""
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as err:
            err.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as err:
            message = f"Error evaluating expression '{expression}': {err}"
            raise WorkflowTaskException(message, task=task, exception=err) from err


def make_script_engine(helpers: dict, limits: ScriptLimits | None = None) -> PythonScriptEngine:
    """Return the script engine every workflow must use: sandboxed, with ``helpers`` in scope, and
    every step within ``limits`` (the defaults of :class:`ScriptLimits` when not given)."""
    return SandboxScriptEngine(environment=SandboxEnvironment(helpers, limits))
