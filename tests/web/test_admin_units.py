"""Administration of organisation units and of where people hold their roles: pages and a CSV import,
all or nothing; for the system administrator only, every change audited."""
from __future__ import annotations

from app.extensions import db
from app.services import people
from app.services.audit import count_events
from app.services.units import unit_tree
from tests.web.conftest import staff


def _holdings(user) -> set[tuple[str, str]]:
    db.session.expire_all()  # the pages changed them in their own sessions
    tree = unit_tree()
    return {(role, tree.by_id[unit].key) for role, unit in people.holdings_of(user)}


def test_units_are_the_administrators(web):
    web.sign_in(staff("head_of_safeguarding").username)
    for url in ("/admin/units", "/admin/units/import"):
        web.get(url, status=404)


def test_an_administrator_adds_units_as_a_tree(web):
    web.sign_in(staff("system_administrator").username)
    page = web.get("/admin/units")
    refused = web.submit(page, {"name": "", "key": "Bad Key!", "kind": "", "parent": "nowhere"}, status=400)
    assert {href for _text, href in refused.error_summary()} == {"#name", "#key", "#kind", "#parent"}
    web.submit(refused, {"name": "Riverside NHS Trust", "key": "riverside", "kind": "trust", "parent": "all"})
    done = web.submit(web.get("/admin/units"), {"name": "Adult mental health care group", "key": "amh",
                                                 "kind": "care_group", "parent": "riverside"})
    assert "“Adult mental health care group” added." in done.words
    rows = [row.text_content() for row in done.tree.xpath("//table//tbody/tr")]
    assert [r.split()[0] for r in rows] == ["All", "Riverside", "Adult"]  # each under its parent
    assert unit_tree().chain(unit_tree().by_key["amh"].id) == [unit_tree().by_key[k].id for k in ("amh", "riverside", "all")]
    assert count_events("unit_added") == 2


def test_a_role_is_added_in_a_unit_and_removed_from_the_user_page(web):
    admin = staff("system_administrator")
    person = staff(name="Rita Manager")
    people_admin = people.get_user(admin.username)
    from app.services.accounts.units import add_unit

    add_unit(people_admin, "amh", "Adult mental health care group", "care_group", "all")
    web.sign_in(admin.username)
    page = web.get(f"/admin/users/{person.id}")
    added = web.submit(page, {"role": "reporting_manager", "unit": "amh"}, form=f"/admin/users/{person.id}/holdings")
    assert ("reporting_manager", "amh") in _holdings(person)
    assert "Adult mental health care group" in added.words
    removed = web.submit(added, {"role": "reporting_manager", "unit": "amh"},
                         form=f"/admin/users/{person.id}/holdings/remove")
    assert ("reporting_manager", "amh") not in _holdings(person)
    assert "The role has been removed." in removed.words
    assert count_events("role_holdings_changed") == 2


def test_role_holdings_are_imported_all_or_nothing(web):
    admin = staff("system_administrator")
    first, second = staff(name="First Person"), staff(name="Second Person")
    from app.services.accounts.units import add_unit

    add_unit(people.get_user(admin.username), "amh", "Adult mental health care group", "care_group", "all")
    web.sign_in(admin.username)
    page = web.get("/admin/units/import")
    bad = (f"username,role,unit\n{first.username},Reporting manager,amh\n"
           f"nobody,reporting_manager,amh\n{second.username},Wizard,amh\n{second.username},lado,nowhere\n")
    refused = web.submit(page, {"holdings_text": bad}, status=400)
    assert [text for text, _href in refused.error_summary()] == [
        "Line 3: no such username.", "Line 4: no such role.", "Line 5: no such unit (use the unit's key)."]
    assert ("reporting_manager", "amh") not in _holdings(first)
    good = f"username,role,unit\n{first.username},Reporting manager,amh\n{second.username},care_group_nurse_director,amh\n"
    done = web.submit(refused, {"holdings_text": good})
    assert "2 role holdings added." in done.words
    assert ("reporting_manager", "amh") in _holdings(first)
    assert ("care_group_nurse_director", "amh") in _holdings(second) and "care_group_nurse_director" in second.role_keys


def test_a_role_held_in_another_unit_ends_the_persons_sessions(web, other_web):
    from app.services.accounts.units import add_unit

    admin, person = staff("system_administrator"), staff("safeguarding_team")
    add_unit(people.get_user(admin.username), "amh", "Adult mental health care group", "care_group", "all")
    other_web.sign_in(person.username)
    web.sign_in(admin.username)
    web.submit(web.get(f"/admin/users/{person.id}"), {"role": "reporting_manager", "unit": "amh"},
               form=f"/admin/users/{person.id}/holdings")
    page = other_web.get("/inbox")
    assert page.h1 == "Sign in"
    assert "You were signed out because your roles changed. Sign in again." in page.words
