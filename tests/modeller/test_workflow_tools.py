"""The workflow side of the modeller: moving cases between versions, the element diff, the progress read
from stored state, and the server-drawn SVG."""
from __future__ import annotations

from html5lib import HTMLParser

from app.services import definitions
from app.services.runtime import model_for
from app.workflow.compare import compare_models
from app.workflow.migration import migration_blockers
from app.workflow.progress import element_progress
from app.workflow.svg import list_diagrams, render_svg
from tests.modeller.conftest import open_pipot_case
from tests.modeller.models import pipot_bytes, pipot_with_manager_check
from tests.web.conftest import staff

LIMIT = 5 * 1024 * 1024


def test_a_case_can_move_when_the_change_is_still_ahead_of_it(pipot, office_hours):
    from app.services.cases.lifecycle import load_workflow

    manager = staff("reporting_manager")
    ahead, past = open_pipot_case(manager), open_pipot_case(manager, past_first_steps=True)
    new, _ = definitions.deploy_definition(pipot_with_manager_check(), "pipot.bpmn")
    target = model_for(new)
    workflow, model = load_workflow(ahead.instance)
    assert migration_blockers(workflow, model, target) == []
    workflow, model = load_workflow(past.instance)
    reasons = {(b.bpmn_id, b.reason) for b in migration_blockers(workflow, model, target)}
    assert ("Task_first_steps", "it has been reached and the new version changes what follows it") in reasons


def test_the_diff_names_what_was_added_and_changed():
    changes = {(c.element_id, c.change) for c in compare_models(pipot_bytes(), pipot_with_manager_check(), max_bytes=LIMIT)}
    assert ("Task_manager_check", "added") in changes
    assert ("Flow_first_steps_to_merge", "changed") in changes
    assert ("Lane_reporting_manager", "changed") in changes
    assert compare_models(pipot_bytes(), pipot_bytes(), max_bytes=LIMIT) == []


def test_progress_is_read_from_the_stored_state(pipot, office_hours):
    case = open_pipot_case(staff("reporting_manager"))
    progress = element_progress(case.instance.state)
    assert progress["Task_raise_concern"] == "completed"
    assert progress["Task_first_steps"] == "active"
    assert "Task_triage" not in progress


def test_the_svg_is_valid_markup_with_every_element_marked():
    svg = render_svg(pipot_bytes(), max_bytes=LIMIT, marks={"Task_triage": "current"}, label="PiPoT")
    HTMLParser(strict=True).parse(f"<!DOCTYPE html><title>t</title><body>{svg}</body>")
    assert 'data-element-id="Task_triage"' in svg and "app-mark--current" in svg
    assert svg.count("app-bpmn__element") > 100
    assert [d.diagram_id for d in list_diagrams(pipot_bytes(), max_bytes=LIMIT)]


def test_text_in_a_model_cannot_reach_the_page_unescaped():
    hostile = pipot_bytes().replace(b'name="Review the key learning points"', b'name="&lt;script&gt;alert(1)&lt;/script&gt;"')
    svg = render_svg(hostile, max_bytes=LIMIT)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
