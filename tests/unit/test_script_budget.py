"""Every BPMN expression and script runs within a time and size budget (app/workflow/budget.py):
what is over it on its face is refused at deploy; what goes over it at run time is stopped."""
from __future__ import annotations

import pytest

from app.workflow.budget import BudgetExceeded, ScriptLimits
from app.workflow.sandbox import SandboxEnvironment, check_source
from tests.unit.test_validate import bpmn, problems

SMALL = ScriptLimits(step_seconds=0.5, iterations=10_000, length=1_000, int_bits=256)


@pytest.fixture
def env():
    return SandboxEnvironment({}, SMALL)


@pytest.mark.parametrize("source, mode", [
    ("10 ** 10 ** 8 > 0", "eval"),
    ("'x' * 10 ** 10", "eval"),
    ("len(range(10 ** 12)) > 0", "eval"),
    ("1 << 10 ** 9", "eval"),
    ("for i in range(10 ** 12):\n    pass", "exec"),
    ("text = '%0999999999d' % 1", "exec"),
])
def test_what_is_over_the_budget_on_its_face_is_refused_before_deploy(source, mode):
    [problem] = check_source(source, mode)
    assert problem.startswith("line ") and "over the budget of a script" in problem


def test_deploy_validation_refuses_a_condition_that_would_never_finish():
    [(element, message)] = problems(bpmn(condition="10 ** 10 ** 8 > 0"))
    assert element == "F4" and "over the budget" in message and "10 ** 10 ** 8" in message


def test_a_timer_expression_over_the_budget_is_refused_without_running_it():
    [(element, message)] = problems(bpmn(timer="<bpmn:timeDate>str(9 ** 9 ** 9)</bpmn:timeDate>"))
    assert element == "Timer_deadline" and "over the budget" in message


def test_a_growing_method_kept_in_a_variable_is_refused():
    [problem] = check_source("pad = name.ljust", "exec")
    assert "call '.ljust(...)' directly" in problem


@pytest.mark.parametrize("script, data, words", [
    ("big = n ** n", {"n": 1000}, "whole number"),
    ("big = n * n", {"n": 2 ** 200}, "whole number"),
    ("big = n << n", {"n": 300}, "whole number"),
    ("text = word * n", {"word": "ab", "n": 10_000}, "repeated sequence"),
    ("for i in range(20):\n    text = text + text", {"text": "ab"}, "joined sequence"),
    ("for i in range(20):\n    text += text", {"text": "ab"}, "joined sequence"),
    ("for i in range(20):\n    items.extend(items)", {"items": [1]}, "extended list"),
    ("for i in range(20):\n    items = [*items, *items]", {"items": [1]}, "unpacked sequence"),
    ("text = word.ljust(n)", {"word": "a", "n": 10 ** 9}, ".ljust"),
    ("text = word.replace('', 'abc')", {"word": "x" * 600}, ".replace"),
    ("text = ''.join([word] * 100)", {"word": "x" * 600}, ".join"),
    ("text = str.join('', [word] * 100)", {"word": "x" * 600}, ".join"),
    ("text = f'{1:>{n}}'", {"n": 10 ** 9}, "format spec"),
    ("text = f'{items}'", {"items": ["x" * 600] * 100}, "formatted text"),
    ("text = str(items)", {"items": ["x" * 600] * 100}, "str(...)"),
    ("r = range(n)", {"n": 10 ** 12}, "range(...)"),
    ("total = 0\nfor a in range(1000):\n    for b in range(1000):\n        total = total + 1", {}, "loop turns"),
    ("found = [a * b for a in range(1000) for b in range(1000)]", {}, "loop turns"),
    ("items = [word] * 900\nkept = [items, items]", {"word": "x" * 100}, "too large to keep"),
])
def test_a_script_that_goes_over_the_budget_is_stopped(env, script, data, words):
    context = dict(data)
    with pytest.raises(BudgetExceeded) as stopped:
        env.execute(script, context)
    assert words in str(stopped.value)
    assert context == data  # nothing it did was kept


def test_a_script_that_runs_too_long_is_stopped_by_the_clock():
    script = ("pile = list(range(100000))\nspins = 0\nfor turn in range(100000):\n"
              "    spins = spins + len(sorted(pile, reverse=turn % 2 == 0))")
    patient = SandboxEnvironment({}, ScriptLimits(step_seconds=0.2, iterations=10 ** 9))
    with pytest.raises(BudgetExceeded) as stopped:
        patient.execute(script, {})
    assert "ran for more than 0.2 seconds" in str(stopped.value)


def test_scripts_within_the_budget_run_as_before(env):
    context = {"attendees": [{"name": "Ann"}, {"name": "Bo"}], "n": 12}
    env.execute("names = ', '.join(a['name'] for a in attendees)\nsquare = n ** 2\n"
                "label = f'{n:03d} {names!r}'\nrows = [i * 2 for i in range(5)]\npadded = 'x'.ljust(5)", context)
    assert context["names"] == "Ann, Bo" and context["square"] == 144
    assert context["label"] == "012 'Ann, Bo'" and context["rows"] == [0, 2, 4, 6, 8]
    assert context["padded"] == "x    "
    assert env.evaluate("2.5 ** 2 + 10 % 3 + (1 << 4)", {}) == 23.25


def test_the_trial_of_a_timer_expression_at_deploy_runs_within_the_budget():
    timer = "<bpmn:timeDate>hours_after(referral_at, int(review_hours) ** 10 ** 6)</bpmn:timeDate>"
    [(element, message)] = problems(bpmn(timer=timer))
    assert element == "Timer_deadline" and "BudgetExceeded" in message and "whole number" in message
