"""PostgreSQL: a connection keeps its prepared statements from one request to the next.

psycopg prepares a statement on the server once it has run five times on a connection, and forgets
every prepared statement at each ROLLBACK. Every request ends its session, and a request that only
read used to end with a ROLLBACK: the statements were parsed and planned afresh at almost every
execution. A transaction that ran nothing but SELECTs now ends with a COMMIT, which for it is the
same; one that ran anything else (a write, a SET) is still rolled back.
"""
from __future__ import annotations

import pytest
from sqlalchemy import insert, select, text

from app import clock
from app.extensions import db
from app.models import Case, User
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
