"""Administration: users and their roles, teams, the on-call rota; for the system administrator only."""
from __future__ import annotations

from datetime import datetime, timezone

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import AccessLog, User
from app.services import people
from tests.web.conftest import staff

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


def test_administration_is_hidden_from_everyone_else(web):
    web.sign_in(staff("safeguarding_team").username)
    assert "Administration" not in web.get("/inbox").all_words
    for url in ("/admin/users", "/admin/users/new", "/admin/teams", "/admin/rota"):
        assert web.get(url, status=404).h1 == "Page not found"


def test_an_administrator_adds_a_user_with_several_roles(web):
    admin = staff("system_administrator")
    web.sign_in(admin.username)
    form = web.get("/admin/users/new")
    refused = web.submit(form, {"display_name": "", "username": admin.username, "password": "short"})
    assert [e[1] for e in refused.error_summary()] == ["#display_name", "#username", "#password"]
    done = web.submit(refused, {"display_name": "Dana Duty", "username": "dana", "password": "a long enough password",
                                "staff_number": "E777", "roles": ["safeguarding_team", "on_call_manager"]})
    assert "Dana Duty can now sign in as dana." in done.words
    dana = db.session.scalar(select(User).where(User.username == "dana"))
    assert dana.role_keys == {"staff", "safeguarding_team", "on_call_manager"}
    assert dana.staff_number == "E777"


def test_roles_teams_and_switching_off(web, other_web):
    admin, person = staff("system_administrator"), staff("safeguarding_team", name="Pat Person")
    web.sign_in(admin.username)
    teams = web.get("/admin/teams")
    web.submit(teams, {"name": "Trust safeguarding team"})
    page = web.get(f"/admin/users/{person.id}")
    team_id = page.tree.xpath("//input[@name='teams']/@value")[0]
    saved = web.submit(page, {"roles": ["lado"], "teams": [team_id], "active": "no"})
    assert "The changes have been saved." in saved.words
    db.session.refresh(person)
    assert person.role_keys == {"staff", "lado"} and not person.is_active
    assert "Pat Person" in web.get("/admin/teams").words
    assert "Enter a correct username" in other_web.sign_in(person.username).words


def test_an_administrator_cannot_lock_themselves_out(web):
    admin = staff("system_administrator")
    web.sign_in(admin.username)
    page = web.get(f"/admin/users/{admin.id}")
    refused = web.submit(page, {"roles": ["lado"], "active": "yes"})
    assert refused.error_summary()[0][0].startswith("You cannot remove your own administrator role")


def test_searching_for_people_is_logged(web):
    admin = staff("system_administrator")
    staff(name="Findable Person")
    web.sign_in(admin.username)
    page = web.get("/admin/users?q=findable")
    assert "Findable Person" in page.words
    logged = db.session.scalar(select(AccessLog).where(AccessLog.action == "search_people"))
    assert logged.user_id == admin.id and logged.detail == {"query": "findable"}


def test_the_on_call_rota(web):
    admin, manager = staff("system_administrator"), staff("on_call_manager", name="Olu On-call")
    with time_machine.travel(MONDAY, tick=False):
        web.sign_in(admin.username)
        rota = web.get("/admin/rota")
        refused = web.submit(rota, {"role_key": "on_call_manager", "user_id": str(admin.id), "starts-day": "23",
                                    "starts-month": "11", "starts-year": "2026", "starts-time": "17:00",
                                    "ends-day": "23", "ends-month": "11", "ends-year": "2026", "ends-time": "09:00"})
        assert [e[1] for e in refused.error_summary()] == ["#user_id", "#ends-day"]
        done = web.submit(refused, {"user_id": str(manager.id), "ends-day": "24"})
        assert "The shift is on the rota." in done.words
        assert "Olu On-call" in done.words and "23 Nov 2026, 17:00" in done.words
    with time_machine.travel(datetime(2026, 11, 23, 20, 0, tzinfo=timezone.utc), tick=False):
        assert people.on_call_roles_of(manager.id) == {"on_call_manager"}
        web.sign_in(manager.username)
        assert "You are on call now as On-call manager." in web.get("/inbox").words
    with time_machine.travel(MONDAY, tick=False):
        web.sign_in(admin.username)
        rota = web.get("/admin/rota")
        removed = web.submit(rota, form=rota.tree.xpath("//form[contains(@action,'/delete')]/@action")[0])
        assert "The shift has been taken off the rota." in removed.words
