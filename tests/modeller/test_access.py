"""Every page of the process library and the modeller declares who may use it: process owners only, but
the diagram of a version, which any member of staff may read (the case page draws cases on it)."""
from __future__ import annotations


def test_every_modeller_route_is_for_process_owners(app):
    rules = {endpoint: getattr(view, "access_rule", None) for endpoint, view in app.view_functions.items()
             if endpoint.startswith("modeller.")}
    assert len(rules) > 10
    assert {e for e, rule in rules.items() if rule != "role process_owner"} == {"modeller.diagram_bpmn"}
    assert rules["modeller.diagram_bpmn"] == "signed in"


def test_posts_without_the_csrf_token_are_refused(web, owner, pipot):
    web.sign_in(owner.username)
    with web.app.app_context():
        assert web.client.post("/processes/pipot/versions/1/draft").status_code == 400
        assert web.client.post("/processes/pipot/versions/1/migrate", data={"cases": "1"}).status_code == 400
