"""A case runs through the API: start, task for the lane's role, complete, end; it survives a restart."""
from __future__ import annotations

from datetime import datetime, timezone

import time_machine

from app import create_app
from app.extensions import db
from app.services.audit import count_events
from tests.factories import auth, deploy_test_model, make_user

CONCERN = {"subject_name": "Alex Example", "summary": "Shouted at a patient.", "immediate_danger": False,
           "subject_date_of_birth": "1980-02-03"}


def _start(client, token, pathway="simple", data=CONCERN):
    return client.post("/api/cases", json={"pathway": pathway, "data": data}, headers=auth(token))


def test_case_runs_from_start_to_end_through_the_api(app_ctx, client):
    deploy_test_model("simple")
    _, reporter = make_user()
    _, lead = make_user("safeguarding_team", name="Sam Lead")

    started = _start(client, reporter)
    assert started.status_code == 201, started.json
    assert set(started.json) == {"reference", "pathway", "raised_at", "received_by"}  # a receipt, not the case
    assert client.get(f"/api/cases/{started.json['reference']}", headers=auth(reporter)).status_code == 404
    case = client.get(f"/api/cases/{started.json['reference']}", headers=auth(lead)).json
    assert case["reference"].startswith("SIMPLE-")
    assert case["subject_name"] == "Alex Example"
    assert case["stage"] == "Review"
    assert [t["title"] for t in case["open_tasks"]] == ["Review the concern"]
    assert case["open_tasks"][0]["role"] == "safeguarding_team"

    inbox = client.get("/api/tasks", headers=auth(lead)).json
    assert [t["title"] for t in inbox] == ["Review the concern"]
    assert client.get("/api/tasks", headers=auth(reporter)).json == []

    done = client.post(f"/api/tasks/{inbox[0]['id']}/complete", json={"data": {"decision": "close"}},
                       headers=auth(lead))
    assert done.status_code == 200, done.json
    assert done.json["status"] == "completed"

    after = client.get(f"/api/cases/{case['reference']}", headers=auth(lead)).json
    assert after["status"] == "closed"
    assert after["open_tasks"] == []
    events = [e["event_type"] for e in client.get(f"/api/cases/{case['reference']}/events", headers=auth(lead)).json]
    assert events[0] == "case_opened"
    assert events.count("task_completed") == 2
    assert events[-1] == "case_closed"
    assert "timer_cancelled" in events  # both boundary timers went with the review task


def test_state_survives_a_fresh_app(app_ctx, client, database_url):
    deploy_test_model("simple")
    _, reporter = make_user()
    _, lead = make_user("safeguarding_team")
    reference = _start(client, reporter).json["reference"]
    db.session.remove()

    restarted = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True})
    with restarted.app_context():
        fresh = restarted.test_client()
        task = fresh.get("/api/tasks", headers=auth(lead)).json[0]
        assert task["case_reference"] == reference
        done = fresh.post(f"/api/tasks/{task['id']}/complete", json={"data": {"decision": "refer"}},
                          headers=auth(lead))
        assert done.status_code == 200
        assert fresh.get(f"/api/cases/{reference}", headers=auth(lead)).json["status"] == "closed"
        db.session.remove()


def test_answers_that_fail_the_form_get_a_message_per_field_and_save_nothing(app_ctx, client):
    deploy_test_model("simple")
    _, reporter = make_user()
    bad = {"subject_name": "", "summary": "x", "immediate_danger": "perhaps", "subject_date_of_birth": "3/2/1980",
           "shoe_size": 9}
    answer = _start(client, reporter, data=bad)
    assert answer.status_code == 422
    errors = answer.json["errors"]
    assert set(errors) == {"subject_name", "immediate_danger", "subject_date_of_birth", "shoe_size"}
    assert "yes or no" in errors["immediate_danger"]
    assert "date" in errors["subject_date_of_birth"]
    assert errors["shoe_size"] == "This is not a question on this form."
    assert count_events("case_opened") == 0


def test_malformed_json_wrong_types_and_unknown_fields_are_refused(app_ctx, client):
    deploy_test_model("simple")
    _, reporter = make_user()
    headers = auth(reporter) | {"Content-Type": "application/json"}
    assert client.post("/api/cases", data="{not json", headers=headers).status_code == 400
    wrong_type = client.post("/api/cases", json={"pathway": 3, "data": []}, headers=auth(reporter))
    assert wrong_type.status_code == 422
    assert set(wrong_type.json["errors"]["json"]) == {"pathway", "data"}
    unknown = client.post("/api/cases", json={"pathway": "simple", "colour": "red"}, headers=auth(reporter))
    assert unknown.status_code == 422
    assert "colour" in unknown.json["errors"]["json"]
    no_such = client.post("/api/cases", json={"pathway": "nonesuch", "data": {}}, headers=auth(reporter))
    assert no_such.status_code == 404
    assert count_events("case_opened") == 0


def test_the_api_needs_a_token(app_ctx, client):
    assert client.get("/api/tasks").status_code == 401
    assert client.get("/api/tasks", headers=auth("not-a-token")).status_code == 401


def test_completing_twice_says_who_completed_it_and_when(app_ctx, client):
    deploy_test_model("simple")
    _, reporter = make_user()
    _, lead = make_user("safeguarding_team", name="Sam Lead")
    _start(client, reporter)
    task_id = client.get("/api/tasks", headers=auth(lead)).json[0]["id"]
    with time_machine.travel(datetime(2026, 11, 24, 10, 30, tzinfo=timezone.utc), tick=False):
        assert client.post(f"/api/tasks/{task_id}/complete", json={"data": {"decision": "close"}},
                           headers=auth(lead)).status_code == 200
    again = client.post(f"/api/tasks/{task_id}/complete", json={"data": {"decision": "refer"}}, headers=auth(lead))
    assert again.status_code == 409
    assert again.json["completed_by"] == "Sam Lead"
    assert "Sam Lead" in again.json["message"] and "24 November 2026 at 10:30" in again.json["message"]


def test_a_stale_instance_version_is_refused(app_ctx, client):
    deploy_test_model("simple")
    _, reporter = make_user()
    _, lead = make_user("safeguarding_team")
    reference = _start(client, reporter).json["reference"]
    case = client.get(f"/api/cases/{reference}", headers=auth(lead)).json
    task_id = case["open_tasks"][0]["id"]
    stale = client.post(f"/api/tasks/{task_id}/complete",
                        json={"data": {"decision": "close"}, "instance_version": case["instance_version"] - 1},
                        headers=auth(lead))
    assert stale.status_code == 409
    assert count_events("task_completed") == 1  # only the concern


def test_claimed_tasks_leave_colleagues_inboxes(app_ctx, client):
    deploy_test_model("simple")
    _, reporter = make_user()
    _, first = make_user("safeguarding_team", name="First Lead")
    _, second = make_user("safeguarding_team")
    _start(client, reporter)
    task_id = client.get("/api/tasks", headers=auth(first)).json[0]["id"]
    claimed = client.post(f"/api/tasks/{task_id}/claim", headers=auth(first))
    assert claimed.status_code == 200 and claimed.json["assignee"] == "First Lead"
    assert client.get("/api/tasks", headers=auth(second)).json == []
    refused = client.post(f"/api/tasks/{task_id}/claim", headers=auth(second))
    assert refused.status_code == 404  # claimed by a colleague: no longer theirs to see, and no name given
    assert "First Lead" not in refused.get_data(as_text=True)
    assert count_events("task_claimed") == 1


def test_openapi_document_lists_the_endpoints(client):
    spec = client.get("/api/openapi.json").json
    assert {"/api/cases", "/api/cases/{reference}", "/api/cases/{reference}/events", "/api/tasks",
            "/api/tasks/{task_id}/claim", "/api/tasks/{task_id}/complete"} <= set(spec["paths"])


def test_the_task_list_costs_the_same_for_two_tasks_as_for_six(app_ctx, client):
    from sqlalchemy import event

    deploy_test_model("simple")
    _, reporter = make_user()
    _, lead = make_user("safeguarding_team")

    def statements_to_list(cases: int) -> int:
        while len(client.get("/api/tasks", headers=auth(lead)).json) < cases:
            _start(client, reporter)
        seen = []

        def count(*_args):
            seen.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            listed = client.get("/api/tasks", headers=auth(lead)).json
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert len(listed) == cases and all(t["case_reference"].startswith("SIMPLE-") for t in listed)
        return len(seen)

    assert statements_to_list(2) == statements_to_list(6)


def _after_the_commit(client, path: str, body: dict, token: str):
    """The response, and the statements sent after the request's (one) COMMIT."""
    from sqlalchemy import event

    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split())[:90])

    def committed(_conn):
        seen.append("COMMIT")

    event.listen(db.engine, "before_cursor_execute", record)
    event.listen(db.engine, "commit", committed)
    try:
        response = client.post(path, json=body, headers=auth(token))
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
        event.remove(db.engine, "commit", committed)
    assert seen.count("COMMIT") == 1, seen
    return response, seen[seen.index("COMMIT") + 1:]


def _a_task_for_sam(client) -> tuple[str, dict, str]:
    """A new case's reference, its task in Sam Lead's role's inbox, and Sam's token."""
    deploy_test_model("simple")
    _, reporter = make_user()
    _, lead = make_user("safeguarding_team", name="Sam Lead")
    reference = _start(client, reporter).json["reference"]
    [task] = client.get("/api/tasks", headers=auth(lead)).json
    return reference, task, lead


def test_a_completion_answers_from_what_the_step_knows_reading_nothing_after_its_commit(app_ctx, client):
    reference, task, lead = _a_task_for_sam(client)
    done, after = _after_the_commit(client, f"/api/tasks/{task['id']}/complete", {"data": {"decision": "close"}}, lead)
    assert done.status_code == 200, done.json
    assert after == []
    assert (done.json["case_reference"], done.json["assignee"], done.json["status"]) == (reference, "Sam Lead", "completed")
    assert done.json["completed_at"] and done.json["title"] == "Review the concern"


def test_a_claim_answers_from_what_the_claim_knows_reading_nothing_after_its_commit(app_ctx, client):
    reference, task, lead = _a_task_for_sam(client)
    claimed, after = _after_the_commit(client, f"/api/tasks/{task['id']}/claim", {}, lead)
    assert claimed.status_code == 200, claimed.json
    assert after == []
    assert (claimed.json["case_reference"], claimed.json["assignee"], claimed.json["status"]) == (reference, "Sam Lead", "open")
