"""Nobody can see a case about themselves, on the real pathways too (matched on the staff number the
first form records)."""
from __future__ import annotations

from app.config import PROJECT_ROOT
from app.services import definitions, people
from bench.answers import CONCERN
from tests.factories import auth


def test_the_subject_of_a_pipot_case_cannot_find_or_open_it(app_ctx, client, runner):
    path = PROJECT_ROOT / "bpmn" / "pipot.bpmn"
    definitions.deploy_definition(path.read_bytes(), path.name)
    result = runner.invoke(args=["create-user", "alex", "Alex Morgan", "--role", "head_of_safeguarding",
                                 "--role", "reporting_manager", "--role", "on_call_manager",
                                 "--staff-number", "rdash 1234"])
    assert result.exit_code == 0, result.output
    people.create_user("lead", "Jo Lead", ["head_of_safeguarding", "staff"])
    subject, lead = people.issue_api_token("alex"), people.issue_api_token("lead")
    reporter = people.create_user("reporter", "Sam Carter", ["staff"])
    reporter_token = people.issue_api_token(reporter.username)

    started = client.post("/api/cases", json={"pathway": "pipot", "data": CONCERN | {"subject_staff_number": "RDASH1234"}},
                          headers=auth(reporter_token))
    assert started.status_code == 201, started.json
    reference = started.json["reference"]

    assert client.get(f"/api/cases/{reference}", headers=auth(lead)).status_code == 200
    assert client.get(f"/api/cases/{reference}", headers=auth(subject)).status_code == 404
    assert reference not in {t["case_reference"] for t in client.get("/api/tasks", headers=auth(subject)).json}
