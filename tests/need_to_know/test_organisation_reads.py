"""What a step and a request read of the people and the organisation: the person acting with their
roles and where they hold them in one statement; the units, and who holds which role where, read
again only when they changed, by whatever process changed them."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, select, text

from app.extensions import db
from app.models import HumanTask, User
from app.services import people
from app.services.accounts.auth import load_user
from app.services.accounts.units import add_holding, add_unit, remove_holding
from app.services.cases import lifecycle
from app.services.tasks import human_tasks
from tests.need_to_know.conftest import CONCERN, person


@contextmanager
def statements():
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _reads(seen: list[str], table: str) -> list[str]:
    return [s for s in seen if s.startswith("SELECT") and f"FROM {table}" in s]


def _first_steps(case) -> HumanTask:
    return db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open",
                                                     HumanTask.bpmn_id == "Task_first_steps"))


def _concern(org, unit: str):
    return lifecycle.start_case("pipot", CONCERN | {"case_unit": unit}, org.person("raiser"))


def test_a_person_is_loaded_with_their_roles_and_where_they_hold_them_in_one_statement(org):
    lead = org.person("safeguarding-team")
    token, lead_id = people.issue_api_token(lead.username), lead.id
    db.session.remove()
    with statements() as seen:
        loaded = load_user(lead_id)
        assert "safeguarding_team" in loaded.role_keys and len(loaded.holdings) == 2
    assert len(seen) == 1, seen
    db.session.remove()
    with statements() as seen:
        by_token = people.user_for_token(token)
        assert by_token.id == lead_id and "safeguarding_team" in by_token.role_keys and len(by_token.holdings) == 2
    assert len(seen) == 1, seen


def test_the_organisation_is_read_again_only_when_it_changed(org):
    """Later steps route on the units and holdings already read, until a unit, a holding or an
    account's active flag changes: the next step reads them again and routes on the change."""
    admin = people.get_user("unit-admin")
    _concern(org, "care-group-a")  # reads the organisation
    with statements() as seen:
        second = _concern(org, "care-group-a")
    assert _reads(seen, "org_unit") == [] and _reads(seen, "role_holding") == [], seen
    assert {t.id for t in human_tasks.list_tasks(org.person("manager-a"))} >= {_first_steps(second).id}

    add_unit(admin, "care-group-c", "Children's services care group", "care_group", "riverside")
    manager_c = person(org, "manager-c", [("reporting_manager", "care-group-c")])
    with statements() as seen:
        in_c = _concern(org, "care-group-c")
    assert _reads(seen, "org_unit") and _reads(seen, "role_holding"), seen
    assert [t.id for t in human_tasks.list_tasks(manager_c)] == [_first_steps(in_c).id]

    for who in ("manager-a", "manager-a2"):  # nobody holds the role in care group A any more
        remove_holding(admin, org.person(who).id, "reporting_manager", "care-group-a")
    add_holding(admin, manager_c.id, "reporting_manager", "care-group-a")
    moved = _concern(org, "care-group-a")
    assert _first_steps(moved).id in {t.id for t in human_tasks.list_tasks(db.session.get(User, manager_c.id))}
    assert _first_steps(moved).id not in {t.id for t in human_tasks.list_tasks(org.person("manager-a"))}

    db.session.execute(text("UPDATE user_account SET is_active = :no WHERE id = :id"),
                       {"no": False, "id": manager_c.id})  # not through the services: the trigger still sees it
    db.session.commit()
    with statements() as seen:
        unheld = _concern(org, "care-group-a")
    assert _reads(seen, "role_holding"), seen
    assert _first_steps(unheld).assignee_id is None
    assert _first_steps(unheld).unit_id == _first_steps(moved).unit_id  # the case's own unit, held by nobody


def test_what_a_transaction_sees_of_its_own_changes_is_not_kept_for_others(app, org):
    """A transaction that takes a role away (the holding becomes an orphan of the person) and routes
    before it ends sees the change itself; when it is rolled back, nobody else ever saw it."""
    from app.services.people import holding_unit_and_held
    from app.services.units import organisation, unit_by_key

    care_group_a = unit_by_key("care-group-a").id
    organisation()  # this process knows the organisation, not yet who holds the role in care group A
    db.session.commit()
    for who in ("manager-a", "manager-a2"):
        people.set_role_holdings(org.person(who), [("staff", "all")])
    db.session.flush()
    assert holding_unit_and_held("reporting_manager", care_group_a) == (care_group_a, False)
    db.session.rollback()
    assert holding_unit_and_held("reporting_manager", care_group_a) == (care_group_a, True)
    assert app.extensions["organisation"].holding_units[("reporting_manager", care_group_a)] == (care_group_a, True)


def test_every_change_to_the_organisation_changes_its_token(org):
    """The triggers of migration 0020 are there, on every table they watch (a table rebuilt by a later
    migration would lose them)."""
    admin = people.get_user("unit-admin")

    def token():
        return db.session.execute(text("SELECT token FROM organisation_version WHERE id = 1")).scalar_one()

    changes = [
        lambda: add_unit(admin, "care-group-d", "Forensic care group", "care_group", "riverside"),
        lambda: db.session.execute(text("UPDATE org_unit SET name = 'Forensic services' WHERE key = 'care-group-d'")),
        lambda: add_holding(admin, org.person("colleague").id, "reporting_manager", "care-group-d"),
        lambda: db.session.execute(text("UPDATE role_holding SET unit_id = unit_id")),
        lambda: remove_holding(admin, org.person("colleague").id, "reporting_manager", "care-group-d"),
        lambda: db.session.execute(text("UPDATE user_account SET is_active = :no WHERE id = :id"),
                                   {"no": False, "id": org.person("colleague").id}),
        lambda: db.session.execute(text("DELETE FROM user_account WHERE id = :id"), {"id": org.person("colleague").id}),
        lambda: db.session.execute(text("DELETE FROM org_unit WHERE key = 'care-group-d'")),
    ]
    for change in changes:
        before = token()
        change()
        db.session.commit()
        assert token() != before, change
    before = token()
    db.session.execute(text("UPDATE user_account SET display_name = 'Someone Else' WHERE id = :id"),
                       {"id": org.person("raiser").id})
    db.session.commit()
    assert token() == before  # a change that routes nothing leaves it
