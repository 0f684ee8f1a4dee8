"""The access matrix, generated from the URL map and the OpenAPI document, so that a route added later
is covered without anyone remembering to: every route with a case, task, document or user id is
requested, with every method it answers, by the subject of the case, the person who raised it, a
holder of the role in another unit and an unrelated member of staff. Anything but 404 (or any of the
case's details in the answer) fails. The case team is asked too, to show the routes are real."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask
from app.services import people
from app.services.cases import lifecycle
from app.services.cases.documents import Upload, attach_documents, store_upload
from tests.factories import auth
from tests.need_to_know.conftest import CONCERN
from tests.web.pages import WebClient

ID_ARGUMENTS = {"reference", "task_id", "document_id", "user_id", "case_id"}
OUTSIDERS = ("subject", "raiser", "manager-b", "colleague")
SECRETS = ("Alex Morgan", "handling a patient roughly", "Ward 4")
# What one person may legitimately reach with their own id: the raiser's receipt of their concern.
OWN = {("raiser", "case.receipt")}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def world(app, org):
    """A PiPoT case in care group A with an open task, a completed one, and a document."""
    case = lifecycle.start_case("pipot", CONCERN | {"case_unit": "care-group-a"}, org.person("raiser"))
    tasks = {t.bpmn_id: t for t in db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id))}
    document = store_upload(Upload("report.pdf", PDF), org.person("manager-a"), "report", case_id=case.id,
                            task_id=tasks["Task_first_steps"].id)
    attach_documents([document.id], org.person("manager-a"), case.id, tasks["Task_first_steps"].id)
    db.session.commit()
    return {"reference": case.reference, "document_id": document.id, "user_id": org.person("manager-a").id,
            "case_id": case.id, "open_task": tasks["Task_first_steps"].id,
            "first_task": tasks["Task_raise_concern"].id}


def _web_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/api/") or not (set(rule.arguments) & ID_ARGUMENTS):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _fill(rule, world, task_key: str) -> str:
    values = {"reference": world["reference"], "document_id": world["document_id"], "user_id": world["user_id"],
              "case_id": world["case_id"], "task_id": world[task_key], "pathway": "pipot", "process_key": "pipot",
              "version": 1, "draft_id": 1, "shift_id": 1}
    return rule.build({name: values.get(name, 1) for name in rule.arguments})[1]


def _csrf(web) -> str:
    return web.get("/inbox").tree.xpath("//input[@name='csrf_token']/@value")[0]


def _ask(web, method: str, url: str, token: str):
    """One request in an app context of its own (as in a server), so nothing of the last one is kept."""
    with web.app.app_context():
        if method == "GET":
            return web.client.get(url)
        return web.client.open(url, method=method, data={"csrf_token": token, "reason": "x", "username": "x",
                                                         "role": "x", "unit": "all"})


def test_every_case_task_document_and_user_route_is_404_to_everyone_off_the_case(app, org, world):
    assert len(list(_web_routes(app))) >= 15, "the matrix found too few routes to be the whole site"
    failures = []
    for persona in OUTSIDERS:
        web = WebClient(app, app.test_client())
        web.sign_in(org.person(persona).username)
        token = _csrf(web)
        for rule, method in _web_routes(app):
            for task_key in ("open_task", "first_task") if "task_id" in rule.arguments else ("open_task",):
                url = _fill(rule, world, task_key)
                answer = _ask(web, method, url, token)
                body = answer.get_data(as_text=True)
                leaked = [secret for secret in SECRETS if secret in body]
                expected = 200 if (persona, rule.endpoint) in OWN else 404
                if answer.status_code != expected or leaked:
                    failures.append(f"{persona} {method} {url} ({rule.endpoint}): {answer.status_code} {leaked}")
    assert failures == []


def test_the_case_team_reaches_the_same_routes(app, org, world):
    web = WebClient(app, app.test_client())
    web.sign_in(org.person("manager-a").username)
    assert "Alex Morgan" in web.get(f"/cases/{world['reference']}").words
    assert web.get(f"/tasks/{world['open_task']}").status == 200
    with app.app_context():
        download = web.client.get(f"/cases/{world['reference']}/documents/{world['document_id']}")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")


def _api_routes(app):
    document = app.test_client().get("/api/openapi.json").json
    for path, operations in document["paths"].items():
        if not re.search(r"\{(reference|task_id|document_id|user_id)\}", path):
            continue
        for method in operations:
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method.upper()


def test_every_api_route_with_an_id_is_404_to_everyone_off_the_case(app, org, world, client):
    routes = list(_api_routes(app))
    assert len(routes) >= 4
    failures = []
    for persona in OUTSIDERS:
        token = people.issue_api_token(org.person(persona).username)
        for path, method in routes:
            for task_key in ("open_task", "first_task"):
                url = path.replace("{reference}", world["reference"]).replace("{task_id}", str(world[task_key]))
                with app.app_context():
                    answer = client.open(url, method=method, json={"data": {}}, headers=auth(token))
                leaked = [secret for secret in SECRETS if secret in answer.get_data(as_text=True)]
                if answer.status_code != 404 or leaked or not answer.is_json:
                    failures.append(f"{persona} {method} {url}: {answer.status_code} {leaked}")
    assert failures == []
