"""Every page declares who may use it (DESIGN.md: every route declares its access rule)."""
from __future__ import annotations

WEB_BLUEPRINTS = {"auth", "inbox", "case", "admin", "notification_settings", "health"}
PUBLIC = {"auth.sign_in", "auth.sign_in_post", "auth.oidc_sign_in", "auth.oidc_callback", "health.healthz"}


def test_every_page_declares_an_access_rule(app):
    rules = {endpoint: getattr(view, "access_rule", None) for endpoint, view in app.view_functions.items()
             if endpoint.split(".")[0] in WEB_BLUEPRINTS}
    assert rules, "no web pages found"
    assert [e for e, rule in rules.items() if rule is None] == []
    assert {e for e, rule in rules.items() if rule == "public"} == PUBLIC
    assert {rule for e, rule in rules.items() if e.startswith("admin.")} == {"role system_administrator"}


def test_unknown_pages_get_the_page_not_found_page(web):
    assert web.get("/no-such-page", status=404).h1 == "Page not found"


def test_the_api_keeps_answering_in_json(client):
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404 and response.is_json
