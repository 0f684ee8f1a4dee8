"""The time and size budget every BPMN expression and script runs within.

The sandbox (``sandbox.py``) rewrites each source so that the operations that can grow without bound
go through the guards below: power, multiplication and shifts of numbers, repetition and
concatenation of sequences, ``%`` and format specs, the string methods that pad or replace, loops
and comprehensions (each turn counts), and ``range``. A guard refuses, *before* computing it, a
result past the limits; every loop turn also checks the wall-clock deadline of the step. Without
``while``, ``def``, ``lambda`` or recursion (all refused by the sandbox), every repetition passes
through a guarded loop, so a script either finishes within the budget or is stopped by it.

A step (start a case, complete a task, fire timers) shares one budget: :func:`step_budget`.
"""
from __future__ import annotations

import contextvars
import re
import time
from collections.abc import Iterable, Iterator, Sized
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["BudgetExceeded", "GUARDS", "ScriptLimits", "bounded_range", "current_budget", "step_budget",
           "text_size"]


@dataclass(frozen=True)
class ScriptLimits:
    """The budget of one workflow step."""

    step_seconds: float = 5.0   # wall clock for every script and expression of one step together
    iterations: int = 100_000   # loop and comprehension turns in one step
    length: int = 100_000       # items of a list, tuple, set or range; characters of a string
    int_bits: int = 4096        # size of a whole number (about 1,200 digits)


class BudgetExceeded(Exception):
    """A script or expression went past its budget; the message is meant for a process owner."""


@dataclass
class _Budget:
    limits: ScriptLimits
    deadline: float
    turns_left: int

    def tick(self) -> None:
        self.turns_left -= 1
        if self.turns_left < 0:
            raise BudgetExceeded(f"more than {self.limits.iterations:,} loop turns in one step")
        if time.monotonic() > self.deadline:
            seconds = self.limits.step_seconds
            raise BudgetExceeded(f"ran for more than {seconds:g} second{'' if seconds == 1 else 's'} "
                                 "(the limit for one step)")


_CURRENT: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("script_budget", default=None)


def _new_budget(limits: ScriptLimits) -> _Budget:
    return _Budget(limits, time.monotonic() + limits.step_seconds, limits.iterations)


@contextmanager
def step_budget(limits: ScriptLimits):
    """One budget for everything evaluated inside the block (a step inside a step keeps the outer one)."""
    if _CURRENT.get() is not None:
        yield
        return
    token = _CURRENT.set(_new_budget(limits))
    try:
        yield
    finally:
        _CURRENT.reset(token)


@contextmanager
def current_budget(limits: ScriptLimits):
    """The step's budget when one is running, else a budget of its own for a single evaluation."""
    with step_budget(limits):
        yield _CURRENT.get()


def _budget() -> _Budget:
    """The budget in force; a guard called outside any (a generator a script left behind) gets a
    fresh one of its own, never kept for later."""
    budget = _CURRENT.get()
    return budget if budget is not None else _new_budget(ScriptLimits())


def _limits() -> ScriptLimits:
    return _budget().limits


# --- guards (called by rewritten code; their names start with '_' so sources cannot name them) ------


def _too_long(size: int, what: str) -> None:
    limit = _limits().length
    if size > limit:
        raise BudgetExceeded(f"{what} would have {size:,} items or characters (the limit is {limit:,})")


def _int_too_big(bits: int) -> None:
    limit = _limits().int_bits
    if bits > limit:
        raise BudgetExceeded(f"a whole number would have about {bits:,} bits (the limit is {limit:,}, "
                             f"about {limit * 3 // 10:,} digits)")


def _is_int(value) -> bool:
    return isinstance(value, int)


def _is_sequence(value) -> bool:
    return isinstance(value, (str, bytes, list, tuple))


def guard_pow(base, exponent):
    """``base ** exponent``, refused when a whole number would grow past the limit."""
    if _is_int(base) and _is_int(exponent) and exponent > 0 and abs(base) > 1:
        _int_too_big(base.bit_length() * exponent)
    return base ** exponent


def guard_mul(left, right):
    """``left * right``: numbers past the size limit, or a sequence repeated past the length limit, refused."""
    if _is_int(left) and _is_int(right):
        _int_too_big(left.bit_length() + right.bit_length())
    elif _is_sequence(left) and _is_int(right):
        _too_long(len(left) * max(right, 0), "a repeated sequence")
    elif _is_int(left) and _is_sequence(right):
        _too_long(len(right) * max(left, 0), "a repeated sequence")
    return left * right


def guard_lshift(left, right):
    """``left << right``, refused when the number would grow past the limit."""
    if _is_int(left) and _is_int(right) and right > 0 and left:
        _int_too_big(left.bit_length() + right)
    return left << right


def guard_add(left, right):
    """``left + right``: two sequences joined past the length limit are refused."""
    if _is_sequence(left) and _is_sequence(right):
        _too_long(len(left) + len(right), "a joined sequence")
    return left + right


_PRINTF_NUMBERS = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_SPEC_NUMBERS = re.compile(r"\d+")
MAX_FORMAT_WIDTH = 1000


def guard_mod(left, right):
    """``left % right``: printf-style formatting with a width or precision past 1,000 is refused."""
    if isinstance(left, (str, bytes)):
        text = left.decode("latin-1") if isinstance(left, bytes) else left
        for width, precision in _PRINTF_NUMBERS.findall(text):
            if "*" in (width, precision) or max(int(width or 0), int(precision or 0)) > MAX_FORMAT_WIDTH:
                raise BudgetExceeded(f"a '%' format asks for a width or precision over {MAX_FORMAT_WIDTH:,}")
        _too_long(len(text) + text_size(right, _limits().length), "formatted text")
    return left % right


def guard_format(value, spec: str, conversion: int):
    """One ``{value!r:spec}`` of an f-string: a width or precision over 1,000, or text past the
    length limit, refused."""
    if any(int(number) > MAX_FORMAT_WIDTH for number in _SPEC_NUMBERS.findall(spec)):
        raise BudgetExceeded(f"a format spec asks for a width or precision over {MAX_FORMAT_WIDTH:,}")
    _too_long(text_size(value, _limits().length), "formatted text")
    if conversion == ord("r"):
        value = repr(value)
    elif conversion == ord("a"):
        value = ascii(value)
    elif conversion == ord("s"):
        value = str(value)
    return format(value, spec)


def guard_iter(iterable: Iterable) -> Iterator:
    """A loop or comprehension: every turn counts against the step's turns and its deadline."""
    budget = _budget()
    for item in iterable:
        budget.tick()
        yield item


def guard_sized(value):
    """``*value`` in a display or a call: a sequence past the length limit is refused."""
    if isinstance(value, Sized):
        _too_long(len(value), "an unpacked sequence")
    return value


def guard_text(text: str) -> str:
    """An f-string's result, refused past the length limit."""
    _too_long(len(text), "formatted text")
    return text


def bounded_range(*args) -> range:
    """``range`` for scripts: refused past the length limit."""
    result = range(*args)
    _too_long(len(result), "range(...)")
    return result


def bounded_str(*args, **kwargs) -> str:
    """``str`` for scripts: a value whose text would pass the length limit is refused first."""
    if len(args) == 1 and not kwargs:
        _too_long(text_size(args[0], _limits().length), "str(...)")
    return str(*args, **kwargs)


GROWING_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs", "replace", "join", "translate",
                             "extend"})
"""Methods whose result can be far longer than their inputs: called only through :func:`guard_method`."""


def guard_method(obj, name: str, *args, **kwargs):
    """``obj.name(...)`` for a method of GROWING_METHODS: a result past the length limit is refused
    before it is built (``str.join(sep, items)`` is read as ``sep.join(items)``)."""
    if isinstance(obj, type) and args and isinstance(args[0], obj):
        return guard_method(args[0], name, *args[1:], **kwargs)
    if name == "join" and isinstance(obj, (str, bytes)) and args:
        args = (_joined_items(obj, args[0]), *args[1:])
    elif isinstance(obj, (str, bytes)):
        _too_long(_text_method_size(obj, name, args, kwargs), f"the result of .{name}(...)")
    elif isinstance(obj, list) and name == "extend" and args and isinstance(args[0], Sized):
        _too_long(len(obj) + len(args[0]), "an extended list")
    return getattr(obj, name)(*args, **kwargs)


def _joined_items(separator, items) -> list:
    items = list(guard_iter(items))
    size = sum(len(item) for item in items if isinstance(item, (str, bytes)))
    _too_long(size + len(separator) * max(len(items) - 1, 0), "the result of .join(...)")
    return items


def _text_method_size(text, name: str, args: tuple, kwargs: dict) -> int:
    """The length a padding, replacing or translating method of str or bytes would give."""
    first = args[0] if args else None
    if name in ("ljust", "rjust", "center", "zfill"):
        width = first if first is not None else kwargs.get("width", 0)
        return max(len(text), width if isinstance(width, int) else 0)
    if name == "expandtabs":
        size = first if first is not None else kwargs.get("tabsize", 8)
        return len(text) + text.count("\t" if isinstance(text, str) else b"\t") * max(size, 0)
    if name == "replace" and len(args) >= 2:
        return _replaced_size(text, *args[:3])
    if name == "translate" and isinstance(first, dict):
        longest = max((len(v) for v in first.values() if isinstance(v, (str, bytes))), default=1)
        return len(text) * max(longest, 1)
    return len(text)


def _replaced_size(text, old, new, count: int = -1) -> int:
    if not isinstance(old, (str, bytes)) or not isinstance(new, (str, bytes)):
        return len(text)
    found = len(text) + 1 if not old else text.count(old)
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(text) + found * (len(new) - len(old))


def text_size(value, cap: int) -> int:
    """About how many characters the text of ``value`` has; counting stops once past ``cap``."""
    total, stack = 0, [value]
    while stack and total <= cap:
        item = stack.pop()
        if isinstance(item, (str, bytes)):
            total += len(item)
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2 + 2 * len(item)
            stack.extend(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            total += item.bit_length() // 3 + 1
        else:
            total += 8
    return total


GUARDS = {
    "_sb_pow": guard_pow, "_sb_mul": guard_mul, "_sb_lshift": guard_lshift, "_sb_add": guard_add,
    "_sb_mod": guard_mod, "_sb_format": guard_format, "_sb_iter": guard_iter, "_sb_sized": guard_sized,
    "_sb_text": guard_text, "_sb_method": guard_method, "_sb_str": bounded_str,
}
"""The guards by the names rewritten code calls them."""
