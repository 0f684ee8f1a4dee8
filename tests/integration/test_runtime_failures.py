"""A model that cannot run on fails safely: a clear answer, nothing saved, no side effect."""
from __future__ import annotations

from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import Case, ProcessDefinition
from app.services.audit import count_events
from tests.conftest import DATA
from tests.factories import auth, deploy_test_model, make_user


def test_a_script_that_fails_at_run_time_gives_500_with_the_element_and_saves_nothing(app_ctx, client):
    deploy_test_model("broken")
    _, reporter = make_user()
    answer = client.post("/api/cases", json={"pathway": "broken", "data": {"action_taken": "Called"}},
                         headers=auth(reporter))
    assert answer.status_code == 500
    assert "Script_broken" in answer.json["message"] and "missing_field" in answer.json["message"]
    assert "Nothing was saved" in answer.json["message"]
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    assert count_events("case_opened") == 0


def test_a_sandbox_escape_that_bypassed_deploy_is_stopped_at_run_time(app_ctx, client, tmp_path):
    # Written straight into the table, as if validation had been skipped.
    document = (DATA / "unsafe" / "sandbox_escape_script.bpmn").read_bytes()
    db.session.add(ProcessDefinition(process_key="escape", version=1, sha256="0" * 64, filename="escape.bpmn",
                                     bpmn_xml=document, forms={}, deployed_at=clock.now()))
    db.session.commit()
    _, reporter = make_user()
    answer = client.post("/api/cases", json={"pathway": "escape", "data": {}}, headers=auth(reporter))
    assert answer.status_code == 500
    assert "not allowed" in answer.json["message"]
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
