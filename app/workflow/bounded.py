"""Rewriting a checked source so that what can grow without bound goes through the guards of
``budget.py``, and finding, before deploy, what is over the budget on its face (``10 ** 10 ** 8``).
"""
from __future__ import annotations

import ast
import copy

from app.workflow.budget import GROWING_METHODS, GUARDS, BudgetExceeded, ScriptLimits, bounded_range, current_budget

__all__ = ["bound_tree", "budget_problems"]

_BINOP_GUARDS: dict[type, str] = {ast.Pow: "_sb_pow", ast.Mult: "_sb_mul", ast.LShift: "_sb_lshift",
                                  ast.Add: "_sb_add", ast.Mod: "_sb_mod"}
_CALL_GUARDS = {"str": "_sb_str", "range": "_sb_range"}


def _call(guard: str, *args: ast.expr, keywords=None) -> ast.Call:
    return ast.Call(func=ast.Name(id=guard, ctx=ast.Load()), args=list(args), keywords=keywords or [])


def _as_load(target: ast.expr) -> ast.expr:
    loaded = copy.deepcopy(target)
    loaded.ctx = ast.Load()
    return loaded


class _Bound(ast.NodeTransformer):
    """Route growing operations, loops, f-strings and unpacking through the guards."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        guard = _BINOP_GUARDS.get(type(node.op))
        return node if guard is None else ast.copy_location(_call(guard, node.left, node.right), node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.stmt:
        self.generic_visit(node)
        guard = _BINOP_GUARDS.get(type(node.op))
        if guard is None:
            return node
        value = _call(guard, _as_load(node.target), node.value)
        return ast.copy_location(ast.Assign(targets=[node.target], value=value), node)

    def visit_For(self, node: ast.For) -> ast.stmt:
        self.generic_visit(node)
        node.iter = _call("_sb_iter", node.iter)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.comprehension:
        self.generic_visit(node)
        node.iter = _call("_sb_iter", node.iter)
        return node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in GROWING_METHODS:
            args = [func.value, ast.Constant(func.attr), *node.args]
            return ast.copy_location(_call("_sb_method", *args, keywords=node.keywords), node)
        if isinstance(func, ast.Name) and func.id in _CALL_GUARDS:
            node.func = ast.copy_location(ast.Name(id=_CALL_GUARDS[func.id], ctx=ast.Load()), func)
        return node

    def visit_Starred(self, node: ast.Starred) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):
            node.value = _call("_sb_sized", node.value)
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.expr:
        self.generic_visit(node)
        spec = node.format_spec if node.format_spec is not None else ast.Constant("")
        value = _call("_sb_format", node.value, spec, ast.Constant(node.conversion))
        return ast.copy_location(ast.FormattedValue(value=value, conversion=-1, format_spec=None), node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.expr:
        self.generic_visit(node)
        return ast.copy_location(_call("_sb_text", node), node)


def bound_tree(tree: ast.AST) -> ast.AST:
    """A copy of a checked tree whose growing operations call the guards (see ``budget.py``)."""
    return ast.fix_missing_locations(_Bound().visit(copy.deepcopy(tree)))


def guard_scope() -> dict:
    """The guards as a rewritten source finds them (names starting with '_': sources cannot name them)."""
    return {**GUARDS, "_sb_range": bounded_range}


# --- what is over the budget on its face -------------------------------------------------------------

_FOLDABLE = (ast.UnaryOp, ast.BinOp, ast.BoolOp, ast.Compare, ast.Tuple, ast.List, ast.Set)
_FOLDABLE_CALLS = frozenset({"range", "str", "len"})


def _constant(node: ast.AST) -> bool:
    """Whether ``node`` reads no data: literals, operators over them, and range/str/len of them."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Call):
        return (isinstance(node.func, ast.Name) and node.func.id in _FOLDABLE_CALLS and not node.keywords
                and all(_constant(arg) for arg in node.args))
    if isinstance(node, _FOLDABLE):
        return all(_constant(child) for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr))
    return False


def budget_problems(tree: ast.AST, limits: ScriptLimits | None = None) -> list[str]:
    """Problems with the parts of ``tree`` that read no data and are over the budget whatever the
    case (each is worked out, through the guards, at deploy time), and growing methods that are
    taken without being called (the guard sees only calls)."""
    problems, stack = _method_reference_problems(tree), [tree]
    try:
        while stack:
            node = stack.pop()
            if isinstance(node, ast.expr) and not isinstance(node, ast.Constant) and _constant(node):
                problem = _fold(node, limits or ScriptLimits())
                if problem:
                    problems.append(f"line {node.lineno}: {problem}")
                continue
            stack.extend(ast.iter_child_nodes(node))
    except RecursionError:
        return ["line 1: too deeply nested to check"]
    return sorted(problems)


def _method_reference_problems(tree: ast.AST) -> list[str]:
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return [f"line {node.lineno}: call '.{node.attr}(...)' directly; it cannot be kept in a variable"
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr in GROWING_METHODS and id(node) not in called]


def _fold(node: ast.expr, limits: ScriptLimits) -> str | None:
    expression = ast.fix_missing_locations(ast.Expression(body=bound_tree(node)))
    try:
        with current_budget(limits):
            eval(compile(expression, "<budget>", "eval"),  # noqa: S307 - literals only, through the guards
                 {"__builtins__": {"len": len}, **guard_scope()})
    except BudgetExceeded as over:
        shown = ast.unparse(node)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return f"'{shown}' is over the budget of a script: {over}"
    except Exception:  # noqa: BLE001 - anything else is for run time to report, with the case's data
        return None
    return None
