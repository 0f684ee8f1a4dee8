"""The auditor reads reports and audit trails and changes nothing: every route that could change
something refuses the role, on the pages and through the API. Every reports page declares who may
use it."""
from __future__ import annotations

import re

from app.services import people
from tests.factories import auth
from tests.web.conftest import staff

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
ALLOWED = {"auth.sign_out", "auth.sign_in_post", "auth.oidc_callback"}


def _url(rule) -> str:
    return re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: "1" if m.group(1) in ("int", "float") else "x", rule.rule)


def mutating_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.methods & MUTATING and rule.endpoint not in ALLOWED
            and rule.endpoint != "static"]


def test_every_mutating_page_refuses_the_auditor(web, app):
    auditor = staff("auditor")
    web.sign_in(auditor.username)
    token = web.get("/reports").tree.xpath("//input[@name='csrf_token']/@value")[0]
    api_token = people.issue_api_token(auditor.username)
    rules = mutating_rules(app)
    assert len(rules) > 20
    for rule in rules:
        method = sorted(rule.methods & MUTATING)[0]
        headers = auth(api_token) if rule.rule.startswith("/api/") else {}
        with app.app_context():
            response = web.client.open(_url(rule), method=method, data={"csrf_token": token, "reason": "x"},
                                       headers=headers)
        assert response.status_code == 403, f"{method} {rule.rule} answered {response.status_code}"


def test_the_refusal_is_for_the_auditor_not_for_everyone(web, app):
    web.sign_in(staff("safeguarding_team").username)
    token = web.get("/inbox").tree.xpath("//input[@name='csrf_token']/@value")[0]
    answers = []
    for rule in mutating_rules(app):
        if not rule.rule.startswith("/api/") and rule.endpoint != "auth.sign_out":
            with app.app_context():
                answers.append(web.client.open(_url(rule), method=sorted(rule.methods & MUTATING)[0],
                                               data={"csrf_token": token}).status_code)
    assert 403 not in answers


def test_the_api_refuses_the_auditor_a_new_case(client, app_ctx):
    token = people.issue_api_token(staff("auditor").username)
    response = client.post("/api/cases", json={"pathway": "pipot", "data": {}}, headers=auth(token))
    assert response.status_code == 403 and response.is_json


def test_the_auditor_may_still_sign_out(web):
    auditor = staff("auditor")
    web.sign_in(auditor.username)
    token = web.get("/reports").tree.xpath("//input[@name='csrf_token']/@value")[0]
    assert web.post("/sign-out", {"csrf_token": token}).h1 == "Sign in"


def test_every_reports_page_declares_who_may_use_it(app):
    rules = {endpoint: getattr(view, "access_rule", None) for endpoint, view in app.view_functions.items()
             if endpoint.split(".")[0] in {"reports", "audit", "retention"}}
    assert len(rules) >= 14
    assert [endpoint for endpoint, rule in rules.items() if rule is None or rule == "public"] == []
