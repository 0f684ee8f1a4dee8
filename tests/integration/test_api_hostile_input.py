"""Hostile or broken input to the JSON API gets a clear JSON answer, never a server error."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Case
from tests.factories import auth, deploy_test_model, make_user

CONCERN = {"subject_name": "Alex Example", "summary": "Shouted at a patient.", "immediate_danger": False}
TOO_BIG = "99999999999999999999"  # past 64 bits


def _post(client, token, body: bytes | str, path="/api/cases"):
    return client.post(path, data=body, headers=auth(token) | {"Content-Type": "application/json"})


def _cases() -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


@pytest.fixture
def reporter(app_ctx):
    deploy_test_model("simple")
    return make_user()[1]


def test_malformed_json_is_a_400_in_json(client, reporter):
    answer = _post(client, reporter, b'{"pathway": "simple", "data": {')
    assert answer.status_code == 400
    assert answer.is_json and answer.json["code"] == 400


def test_json_nested_100000_deep_is_a_400(client, reporter):
    body = '{"pathway": "simple", "data": {"summary": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    answer = _post(client, reporter, body)
    assert answer.status_code == 400
    assert "nested too deeply" in answer.json["message"]


def test_a_number_of_5000_digits_is_a_400(client, reporter):
    body = '{"pathway": "simple", "data": {"summary": ' + "9" * 5000 + "}}"
    answer = _post(client, reporter, body)
    assert answer.status_code == 400
    assert "number" in answer.json["message"]


def test_a_lone_surrogate_is_refused_with_a_message(client, reporter):
    body = '{"pathway": "simple", "data": {"subject_name": "Alex \\ud800", "summary": "x", "immediate_danger": false}}'
    answer = _post(client, reporter, body)
    assert answer.status_code == 400
    assert "surrogate" in answer.json["message"]
    assert _cases() == 0


def test_a_nul_in_an_answer_is_refused_with_a_message(client, reporter):
    answer = client.post("/api/cases", json={"pathway": "simple", "data": CONCERN | {"summary": "a\x00b"}},
                         headers=auth(reporter))
    assert answer.status_code in (400, 422)
    assert "NUL" in answer.text
    assert _cases() == 0


def test_an_answer_longer_than_the_default_limit_is_refused(client, reporter):
    answer = client.post("/api/cases", json={"pathway": "simple", "data": CONCERN | {"summary": "x" * 30_000}},
                         headers=auth(reporter))
    assert answer.status_code == 422
    assert answer.json["errors"] == {"summary": "'What happened' must be 10,000 characters or fewer."}
    assert len(answer.text) < 2000  # the message does not repeat the answer
    assert _cases() == 0


@pytest.mark.parametrize("path", [f"/api/tasks/{TOO_BIG}/claim", f"/api/tasks/{TOO_BIG}/complete",
                                  "/api/tasks/-1/claim"])
def test_task_ids_out_of_range_are_404_in_json(client, reporter, path):
    answer = client.post(path, json={"data": {}}, headers=auth(reporter))
    assert answer.status_code == 404
    assert answer.is_json


def test_an_offset_out_of_range_is_a_400(client, reporter):
    answer = client.get(f"/api/tasks?offset={TOO_BIG}", headers=auth(reporter))
    assert answer.status_code == 400
    assert answer.is_json


def test_an_instance_version_out_of_range_is_refused(client, reporter):
    answer = client.post("/api/tasks/1/complete", json={"data": {}, "instance_version": int(TOO_BIG)},
                         headers=auth(reporter))
    assert answer.status_code in (400, 404, 422)
    assert answer.is_json


def test_a_server_error_in_the_api_is_json(database_url, reporter):
    from app import create_app

    crashing = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test"})  # not TESTING: errors are answered

    @crashing.get("/api/test-crash")
    def crash():
        raise RuntimeError("the details of this stay in the log")

    answer = crashing.test_client().get("/api/test-crash", headers=auth(reporter))
    assert answer.status_code == 500
    assert answer.is_json and answer.json["code"] == 500
    assert "details" not in answer.text
