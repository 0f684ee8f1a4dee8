"""PostgreSQL: a connection keeps its prepared statements from one request to the next.

psycopg prepares a statement on the server once it has run five times on a connection, and forgets
every prepared statement at each ROLLBACK. Every request ends its session, and a request that only
read used to end with a ROLLBACK: the statements were parsed and planned afresh at almost every
execution. A transaction that ran nothing but SELECTs now ends with a COMMIT, which for it is the
same; one that ran anything else (a write, a SET) is still rolled back.
"""
from __future__ import annotations

import pytest
from flask import current_app
from sqlalchemy import insert, select, text

from app import clock
from app.extensions import db
from app.models import Case, HumanTask, User
from app.services import people


@pytest.fixture
def postgres(app_ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite prepares nothing on a server")
    db.session.remove()
    db.engine.dispose()  # one connection, used by every session below
    yield
    db.session.remove()


def _prepared_on_server() -> int:
    return db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements"))


def test_statements_prepared_in_read_only_requests_are_kept(postgres):
    for _ in range(8):  # eight requests, each reading the same way once, then ending its session
        db.session.execute(select(Case.id).where(Case.id == 1)).all()
        db.session.remove()
    assert _prepared_on_server() >= 1


def test_a_request_that_wrote_without_committing_is_rolled_back(postgres):
    people.create_user("kept", "Kept", ["staff"])
    db.session.execute(text("UPDATE user_account SET display_name = 'Changed' WHERE username = 'kept'"))
    db.session.execute(insert(User).values(username="never-committed", display_name="Never committed",
                                           is_active=True, created_at=clock.now()))
    db.session.remove()
    assert db.session.execute(select(User.username, User.display_name)).all() == [("kept", "Kept")]


def test_a_setting_changed_in_a_request_is_undone_at_its_end(postgres):
    before = db.session.scalar(text("SHOW statement_timeout"))
    db.session.execute(text("SET statement_timeout = 123456"))
    db.session.remove()
    assert db.session.scalar(text("SHOW statement_timeout")) == before


def test_a_failed_read_leaves_the_connection_usable(postgres):
    with pytest.raises(Exception, match="division by zero"):
        db.session.execute(text("SELECT 1 / 0"))
    db.session.remove()
    assert db.session.scalar(text("SELECT 2")) == 2


def test_row_locks_taken_by_a_read_end_with_the_request(postgres):
    people.create_user("locked", "Locked", ["staff"])
    db.session.execute(select(User.id).where(User.username == "locked").with_for_update()).all()
    db.session.remove()
    with db.engine.connect() as other:  # a second connection: refused at once if the lock were held
        other.execute(text("SET lock_timeout = 2000"))
        ids = other.execute(select(User.id).where(User.username == "locked").with_for_update()).all()
    assert len(ids) == 1


def _plans(fragment: str) -> list[tuple[int, int]]:
    """(generic, custom) plans the server made for each prepared statement containing `fragment`."""
    return db.session.execute(text("SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                                   "WHERE statement LIKE :fragment"), {"fragment": f"%{fragment}%"}).all()


def test_a_steps_save_and_a_new_cases_insert_are_planned_once(postgres, monkeypatch):
    """The statements that take ids for a step's new tasks (a completion's save of its state, a new
    case's INSERT) plan once and reuse the plan, as the step's other statements do. Their count of ids
    was a series from 1 to a parameter, which the server, not knowing the parameter, takes for a
    thousand rows: a plan made without the value looked dearer than planning afresh, and the server
    planned them again at every execution (a new case's INSERT here; with the bench's population the
    PiPoT completion's save too, a sixth of the server's CPU for the step's statements)."""
    from app.services.cases import lifecycle
    from app.services.tasks import human_tasks
    from tests.factories import deploy_test_model, make_user

    # the people concerned told later by the worker: every statement on the one connection
    monkeypatch.setitem(current_app.config, "NOTIFY_FANOUT", "worker")
    deploy_test_model("simple")
    reporter_id, lead_id = make_user()[0].id, make_user("safeguarding_team")[0].id
    for n in range(12):  # each a request of its own on the one connection
        reporter, lead = db.session.get(User, reporter_id), db.session.get(User, lead_id)
        case = lifecycle.start_case("simple", {"subject_name": f"Subject {n}", "summary": "Shouted.",
                                               "immediate_danger": False}, reporter)
        task_id = db.session.scalar(select(HumanTask.id).where(HumanTask.case_id == case.id,
                                                               HumanTask.status == "open"))
        human_tasks.complete_task(task_id, lead, {"decision": "close", "notes": "Seen."})
        db.session.remove()
    for fragment in ("UPDATE process_instance", "INSERT INTO process_instance"):
        plans = _plans(fragment)
        assert len(plans) == 1, (fragment, plans)
        generic, custom = plans[0]
        assert custom <= 5 and generic >= 1, (fragment, plans)  # the server's five tries, then its plan
