"""The BPMN expression and script sandbox (app/workflow/sandbox.py; DESIGN.md decision 8)."""

import ast
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from app.workflow import sandbox
from app.workflow.sandbox import (
    ALLOWED_BUILTINS,
    SandboxEnvironment,
    SandboxError,
    check_source,
    make_script_engine,
)

DATA = Path(__file__).resolve().parents[1] / "data"

ESCAPE_PAYLOADS = [
    ("().__class__.__base__.__subclasses__()", "attribute '__class__' is not allowed"),
    ("__import__('os')", "name '__import__' is not allowed"),
    ('"{0.__class__}".format(1)', "attribute 'format' is not allowed"),
    ("getattr(1, 'real')", "name 'getattr' is not allowed"),
    ("open('/etc/passwd')", "name 'open' is not allowed"),
    ("[c for c in ().__class__.__mro__]", "attribute '__mro__' is not allowed"),
]


def helpers():
    return {
        "working_days_after": lambda when, n: f"{when}+{n}wd",
        "is_out_of_hours": lambda when: when.endswith("T22:00:00Z"),
        "weight": lambda level: {"a": 1, "b": 3}[level],
        "helper_name": lambda: "sandbox",
    }


@pytest.fixture
def env():
    return SandboxEnvironment(helpers())


# --- what is allowed -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("immediate_danger == True and source != 'police'", True),
        ("risk_score >= 7 or 'police' in agencies", True),
        ("not (risk_score < 3)", True),
        ("'urgent' if risk_score > 5 else 'routine'", "urgent"),
        ("len(agencies) == 2 and agencies[0] == 'school'", True),
        ("agencies[-1:]", ["police"]),
        ("details['role'].lower()", "teacher"),
        ("details.get('missing', 'none')", "none"),
        ("working_days_after(received_at, 3)", "2026-01-05T10:00:00Z+3wd"),
        ("is_out_of_hours(received_at)", False),
        ("[a.upper() for a in agencies if a != 'school']", ["POLICE"]),
        ("{a: len(a) for a in agencies}", {"school": 6, "police": 6}),
        ("sum(x * 2 for x in range(4))", 12),
        ("sorted({3, 1, 2})", [1, 2, 3]),
        ("f'{case_reference}: {risk_score:03d} {agencies!r}'", "PIPOT-2026-0001: 007 ['school', 'police']"),
        ("max(risk_score, 10) - abs(-2) + round(2.6)", 11),
        ("isinstance(risk_score, int) and str(risk_score) == '7'", True),
        ("dict(zip(agencies, range(2)))", {"school": 0, "police": 1}),
        ("list(enumerate(agencies))[1]", (1, "police")),
        ("None is None and all([True]) and not any([False])", True),
        ("\n   risk_score > 5\n  ", True),  # BPMN XML often indents the condition text
        ('"P3D"', "P3D"),
    ],
)
def test_allowed_expressions_evaluate(env, expression, expected):
    data = {
        "immediate_danger": True,
        "source": "school",
        "risk_score": 7,
        "agencies": ["school", "police"],
        "details": {"role": "Teacher"},
        "received_at": "2026-01-05T10:00:00Z",
        "case_reference": "PIPOT-2026-0001",
    }
    assert check_source(expression) == []
    assert env.evaluate(expression, data) == expected


def test_external_context_is_visible_to_expressions(env):
    assert env.evaluate("threshold + extra", {"extra": 1}, external_context={"threshold": 4}) == 5


def test_script_assigns_updates_and_deletes_variables(env):
    context = {"points": [2, 3], "level": "b", "scratch": "temporary"}
    script = (
        "score = sum(points) * weight(level)\n"
        "labels = [f'p{p}' for p in points]\n"
        "risk: str = 'high' if score >= 10 else 'low'\n"
        "total = 0\n"
        "for p in points:\n"
        "    if p > 2:\n"
        "        total += p\n"
        "    else:\n"
        "        continue\n"
        "points.append(4)\n"
        "del scratch\n"
        "pass\n"
    )
    assert check_source(script, "exec") == []
    assert env.execute(script, context) is True
    assert context == {
        "points": [2, 3, 4],
        "level": "b",
        "score": 15,
        "labels": ["p2", "p3"],
        "risk": "high",
        "total": 3,
        "p": 3,
    }


def test_script_leaves_no_helpers_builtins_or_callables_in_the_data(env):
    context = {"a": 1}
    env.execute("b = a + 1\nf = len\nw = weight", context, external_context={"data_object": 5})
    assert context == {"a": 1, "b": 2}


def test_external_context_is_not_copied_into_the_data(env):
    context = {"a": 1}
    env.execute("b = a + data_object", context, external_context={"data_object": 5})
    assert context == {"a": 1, "b": 6}


def test_task_data_that_hides_a_helper_is_refused(env):
    context = {"weight": 3}
    with pytest.raises(SandboxError, match="'weight'.*helper"):
        env.execute("x = 1", context)
    assert context == {"weight": 3}


def test_a_failing_script_leaves_the_data_unchanged(env):
    context = {"a": 1}
    with pytest.raises(ZeroDivisionError):
        env.execute("b = 2\na = 5\nc = a / 0", context)
    assert context == {"a": 1}


def test_only_the_allowed_builtins_are_in_scope(env):
    assert set(ALLOWED_BUILTINS) == {
        "len", "min", "max", "any", "all", "sorted", "str", "int", "float", "bool", "dict", "list",
        "set", "tuple", "abs", "round", "sum", "isinstance", "range", "enumerate", "zip",
        "None", "True", "False",
    }
    for name in ("print", "pow", "repr", "chr", "map", "filter", "reversed"):
        with pytest.raises(NameError):
            env.evaluate(f"{name}", {})
    with pytest.raises(TypeError):
        ALLOWED_BUILTINS["open"] = open  # read-only


def test_helpers_with_unsafe_names_are_refused():
    with pytest.raises(ValueError, match="_secret"):
        SandboxEnvironment({"_secret": lambda: 1})
    with pytest.raises(ValueError, match="open"):
        SandboxEnvironment({"open": open})


def test_each_distinct_source_is_checked_and_compiled_once(env):
    sandbox._checked_code.cache_clear()
    for _ in range(3):
        env.evaluate("a + 1", {"a": 1})
    env.execute("b = a + 1", {"a": 1})
    info = sandbox._checked_code.cache_info()
    assert (info.misses, info.hits) == (2, 2)


# --- what is refused -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "mode", "problem"),
    [
        ("import os", "exec", "line 1: 'import' is not allowed"),
        ("from os import system", "exec", "line 1: 'import' is not allowed"),
        ("x = 1\ndef f():\n    pass", "exec", "line 2: defining a function ('def') is not allowed"),
        ("async def f():\n    pass", "exec", "defining a function ('def') is not allowed"),
        ("class C:\n    pass", "exec", "defining a class ('class') is not allowed"),
        ("(lambda: 1)()", "eval", "'lambda' is not allowed"),
        ("sorted(x, key=lambda v: v)", "eval", "'lambda' is not allowed"),
        ("while True:\n    pass", "exec", "a 'while' loop is not allowed"),
        ("with open('f') as f:\n    pass", "exec", "'with' is not allowed"),
        ("try:\n    x = 1\nexcept Exception:\n    pass", "exec", "'try' is not allowed"),
        ("raise ValueError()", "exec", "'raise' is not allowed"),
        ("assert x", "exec", "'assert' is not allowed"),
        ("global x", "exec", "'global' is not allowed"),
        ("x = [(y := 1)]", "exec", "the walrus operator ':=' is not allowed"),
        ("x = (yield 1)", "exec", "'yield' is not allowed"),
        ("x = a @ b", "exec", "the '@' operator is not allowed"),
        ("__import__", "eval", "name '__import__' is not allowed"),
        ("_private + 1", "eval", "name '_private' is not allowed"),
        ("_x = 1", "exec", "name '_x' is not allowed"),
        ("x.__class__", "eval", "attribute '__class__' is not allowed"),
        ("x._private", "eval", "attribute '_private' is not allowed"),
        ("f(__x=1)", "eval", "keyword argument '__x' is not allowed"),
        ("'{}'.format(x)", "eval", "attribute 'format' is not allowed"),
        ("'{a}'.format_map(d)", "eval", "attribute 'format_map' is not allowed"),
        ("g.gi_frame.f_back.f_globals", "eval", "attribute 'gi_frame' is not allowed"),
        ("g.gi_frame.f_back.f_globals", "eval", "attribute 'f_globals' is not allowed"),
        ("str.mro()", "eval", "attribute 'mro' is not allowed"),
        ("f'{x.__class__}'", "eval", "attribute '__class__' is not allowed"),
        ("x: open('/etc/passwd') = 1", "exec", "name 'open' is not allowed"),
    ]
    + [(f"{name}(x)", "eval", f"name '{name}' is not allowed") for name in sorted(sandbox._FORBIDDEN_NAMES)],
)
def test_forbidden_constructs_are_rejected_with_a_message_naming_them(source, mode, problem):
    problems = check_source(source, mode)
    assert any(problem in p for p in problems), problems
    assert all(p.startswith("line ") for p in problems)


def test_statements_are_not_expressions():
    assert check_source("x = 1") == ["line 1: invalid syntax"]
    assert check_source("import os") == ["line 1: invalid syntax"]


def test_syntax_errors_become_one_problem_with_a_line():
    problems = check_source("x = 1\ny = (", "exec")
    assert len(problems) == 1
    assert problems[0].startswith("line 2: invalid syntax")
    assert check_source("x ==") == ["line 1: invalid syntax"]
    assert len(check_source("a\x00b")) == 1


def test_deeply_nested_source_is_a_problem_not_a_crash(env):
    huge = "1" + " + 1" * 50_000
    assert check_source(huge)[0].startswith("line 1: invalid syntax")
    with pytest.raises(SandboxError):
        env.evaluate(huge, {})
    deep = "(" * 500 + "1" + ")" * 500
    assert check_source(deep)[0].startswith("line 1: invalid syntax")


def test_problems_are_reported_in_source_order_without_duplicates():
    assert check_source("().__class__.__base__.__subclasses__()") == [
        "line 1: attribute '__class__' is not allowed",
        "line 1: attribute '__base__' is not allowed",
        "line 1: attribute '__subclasses__' is not allowed",
    ]
    assert check_source("open(1) + open(2)") == ["line 1: name 'open' is not allowed"]


def test_compiler_errors_are_found_at_check_time():
    assert check_source("x = 1\nbreak", "exec") == ["line 2: 'break' outside loop"]
    assert check_source(None) == ["line 1: expected Python text, got NoneType"]


def test_unknown_mode_is_a_programming_error():
    with pytest.raises(ValueError):
        check_source("1", "single")


# --- escapes fail safely at run time ---------------------------------------------------------------


@pytest.mark.parametrize(("payload", "problem"), ESCAPE_PAYLOADS)
def test_escape_payloads_are_rejected_by_check_source(payload, problem):
    assert any(problem in p for p in check_source(payload))
    assert any(problem in p for p in check_source(f"x = {payload}", "exec"))


@pytest.mark.parametrize(("payload", "problem"), ESCAPE_PAYLOADS)
def test_escape_payloads_fail_safely_when_evaluated(env, payload, problem):
    context = {"a": 1}
    with pytest.raises(SandboxError, match="not allowed") as caught:
        env.evaluate(payload, context)
    assert problem in str(caught.value)
    assert problem in caught.value.problems[0] or any(problem in p for p in caught.value.problems)
    assert context == {"a": 1}


@pytest.mark.parametrize(("payload", "problem"), ESCAPE_PAYLOADS)
def test_escape_payloads_fail_safely_when_executed(env, payload, problem):
    context = {"a": 1}
    with pytest.raises(SandboxError) as caught:
        env.execute(f"a = 2\nb = 3\nx = {payload}", context)
    assert f"line 3: {problem}" in str(caught.value)
    assert context == {"a": 1}


def test_a_refused_expression_has_no_side_effect(env, tmp_path):
    marker = tmp_path / "pwned"
    for source in (
        f"__import__('os').system('touch {marker}')",
        f"().__class__.__base__.__subclasses__()[0]('{marker}')",
    ):
        with pytest.raises(SandboxError):
            env.evaluate(source, {})
        with pytest.raises(SandboxError):
            env.execute(f"x = {source}", {})
    assert not marker.exists()


def test_frame_walking_through_a_generator_is_refused(env):
    script = "g = (g.gi_frame.f_back.f_back.f_globals for i in [1])\nx = list(g)"
    with pytest.raises(SandboxError, match="gi_frame"):
        env.execute(script, {})


def test_builtins_cannot_be_reached_through_data_names(env):
    # A data field called __builtins__ cannot replace the restricted builtins.
    with pytest.raises(NameError):
        env.evaluate("print", {"__builtins__": {"print": print}})


def test_non_text_source_is_refused(env):
    with pytest.raises(SandboxError):
        env.evaluate(compile("1", "<string>", "eval"), {})


def _imports(path: Path) -> set[str]:
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    return imported


def test_the_module_does_not_import_flask_or_the_database():
    folder = Path(sandbox.__file__).parent
    for name in ("sandbox.py", "bounded.py", "budget.py"):  # the sandbox and its budget
        imported = _imports(folder / name)
        assert {i.split(".")[0] for i in imported}.isdisjoint({"flask", "flask_sqlalchemy", "sqlalchemy"})
        assert {i for i in imported if i.split(".")[0] == "app"} <= {"app.workflow.bounded", "app.workflow.budget"}


# --- running real workflows ------------------------------------------------------------------------


def load_workflow(path: Path, process_id: str, data: dict | None = None) -> BpmnWorkflow:
    parser = SpiffBpmnParser(validator=VALIDATOR)  # the files are valid BPMN with DI
    parser.add_bpmn_str(path.read_bytes(), filename=path.name)
    workflow = BpmnWorkflow(
        parser.get_spec(process_id),
        parser.get_subprocess_specs(process_id),
        script_engine=make_script_engine(helpers()),
    )
    if data:
        workflow.get_next_task(state=TaskState.READY).set_data(**data)
    return workflow


def completed_bpmn_ids(workflow: BpmnWorkflow) -> list[str]:
    return [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id]


def test_make_script_engine_returns_a_sandboxed_python_script_engine():
    engine = make_script_engine(helpers())
    assert isinstance(engine, PythonScriptEngine)
    assert isinstance(engine.environment, SandboxEnvironment)


def test_workflow_takes_the_high_path_and_keeps_the_data():
    workflow = load_workflow(
        DATA / "sandbox" / "score_and_route.bpmn", "score_and_route",
        {"points": [2, 3], "level": "b", "names": ["first", "second"]},
    )
    workflow.do_engine_steps()
    assert workflow.is_completed()
    assert completed_bpmn_ids(workflow) == ["start", "score", "risk_gateway", "high_route", "end_high"]
    data = workflow.last_task.data
    assert data["score"] == 15
    assert data["labels"] == ["first: 2", "second: 3"]
    assert data["risk"] == "high"
    assert data["case_stage"] == "Triage"
    assert data["route"] == "escalated"
    assert data["flags"] == {"urgent": True, "by": "sandbox"}
    assert not any(callable(v) for v in data.values())
    assert set(helpers()).isdisjoint(data)


def test_workflow_takes_the_low_path():
    workflow = load_workflow(
        DATA / "sandbox" / "score_and_route.bpmn", "score_and_route",
        {"points": [1, 2], "level": "a", "names": ["first", "second"]},
    )
    workflow.do_engine_steps()
    assert workflow.is_completed()
    assert completed_bpmn_ids(workflow) == ["start", "score", "risk_gateway", "low_route", "end_low"]
    assert workflow.last_task.data["route"] == "routine"
    assert workflow.last_task.data["score"] == 3


def test_escape_through_a_script_task_stops_the_workflow_with_the_reason():
    path = DATA / "unsafe" / "sandbox_escape_script.bpmn"
    workflow = load_workflow(path, "sandbox_escape_script", {"a": 1})
    with pytest.raises(SpiffWorkflowException) as caught:
        workflow.do_engine_steps()
    assert "attribute '__class__' is not allowed" in str(caught.value)
    assert not workflow.is_completed()
    script_task = workflow.get_next_task(spec_name="escape_script")
    assert script_task.data == {"a": 1}  # no 'x': nothing ran


def test_escape_through_a_gateway_condition_stops_the_workflow_with_the_reason(capfd):
    path = DATA / "unsafe" / "sandbox_import_condition.bpmn"
    workflow = load_workflow(path, "sandbox_import_condition", {"a": 1})
    with pytest.raises(SpiffWorkflowException) as caught:
        workflow.do_engine_steps()
    message = str(caught.value)
    assert "name '__import__' is not allowed" in message
    assert "Error evaluating expression" in message
    assert "end_command" not in completed_bpmn_ids(workflow)
    assert not workflow.is_completed()
    out, err = capfd.readouterr()
    assert "uid=" not in out + err  # os.system('id') never ran
