"""Optional OpenID Connect sign-in: off unless configured; an identity provider's groups map to roles."""
from __future__ import annotations

import pytest

from app import create_app
from app.extensions import db
from app.services.accounts import auth, sessions
from tests.web.pages import WebClient


def test_without_configuration_there_is_no_oidc_sign_in(web):
    assert "organisation account" not in web.get("/sign-in").words
    assert web.get("/sign-in/oidc", status=404).h1 == "Page not found"


def test_groups_map_to_roles_and_the_account_follows_the_provider(app_ctx):
    app_ctx.config["OIDC_ROLE_MAP"] = "sg-safeguarding=safeguarding_team; sg-oncall=on_call_manager"
    app_ctx.config["OIDC_STAFF_NUMBER_CLAIM"] = "employee_number"
    try:
        claims = {"sub": "abc", "preferred_username": "Kim.Wells", "name": "Kim Wells", "email": "kim@example.org",
                  "employee_number": "E42", "groups": ["sg-safeguarding", "Head of safeguarding", "unrelated"]}
        first = auth.sign_in_with_claims(claims, "127.0.0.1")
        user = first.user
        assert (user.username, user.display_name, user.staff_number) == ("kim.wells", "Kim Wells", "E42")
        assert user.role_keys == {"staff", "safeguarding_team", "head_of_safeguarding"}
        same = auth.sign_in_with_claims(claims, "127.0.0.1")
        assert sessions.find_session(first.session.token).ended_reason is None  # same groups: both go on
        again = auth.sign_in_with_claims(claims | {"groups": ["sg-oncall"]}, "127.0.0.1").user
        assert again.id == user.id and again.role_keys == {"staff", "on_call_manager"}
        for earlier in (first, same):  # new roles: the sessions begun with the old ones are over
            assert sessions.find_session(earlier.session.token).ended_reason == "roles changed"
        again.is_active = False
        db.session.commit()
        with pytest.raises(auth.SignInRefused):
            auth.sign_in_with_claims(claims, "127.0.0.1")
    finally:
        app_ctx.config["OIDC_ROLE_MAP"] = ""
        app_ctx.config["OIDC_STAFF_NUMBER_CLAIM"] = ""


def test_when_configured_the_sign_in_page_offers_it(database_url):
    configured = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "SECRET_KEY": "test",
                             "OIDC_ISSUER": "https://idp.example.org", "OIDC_CLIENT_ID": "safeguarding"})
    with configured.app_context():
        page = WebClient(configured, configured.test_client()).get("/sign-in")
        assert page.links()["Sign in with your organisation account"] == "/sign-in/oidc"
        db.session.remove()
