"""A case's start reads the latest version of its process, and the organisation's version token, in one
prebuilt statement; the definition it gets behaves as one the ORM loaded (what was not read loads when
touched), and is the session's own copy where the session holds one."""
from __future__ import annotations

import pytest
from sqlalchemy import event, inspect, select

from app.config import PROJECT_ROOT
from app.db import transaction_cache
from app.extensions import db
from app.models import ProcessDefinition
from app.services import definitions
from app.services.errors import NotFound
from app.services.units import ORGANISATION


def _deploy_pipot_twice() -> ProcessDefinition:
    path = PROJECT_ROOT / "bpmn" / "pipot.bpmn"
    definitions.deploy_definition(path.read_bytes(), path.name)
    changed = path.read_bytes() + b"<!-- the second version -->\n"
    latest, created = definitions.deploy_definition(changed, path.name, change_note="second version")
    assert created and latest.version == 2
    db.session.commit()
    return latest


def _statements(run):
    seen = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        return run(), seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_the_latest_version_and_the_organisation_are_read_in_one_statement(app_ctx):
    latest = _deploy_pipot_twice()
    latest_id, stored_xml, deployed_at = latest.id, latest.bpmn_xml, latest.deployed_at
    definitions.definition_to_start("pipot")  # this process reads the units once, while they stay the same
    db.session.rollback()
    db.session.expunge_all()
    definition, seen = _statements(lambda: definitions.definition_to_start("pipot"))
    assert len(seen) == 1 and "organisation_version" in seen[0], seen
    assert ORGANISATION in transaction_cache(db.session)  # the step's organisation: no statement of its own
    assert (definition.id, definition.process_key, definition.version) == (latest_id, "pipot", 2)
    assert definition.name == db.session.scalar(select(ProcessDefinition.name).where(ProcessDefinition.id == latest_id))
    (xml, when, note), loads = _statements(lambda: (definition.bpmn_xml, definition.deployed_at, definition.change_note))
    assert xml == stored_xml and when == deployed_at and note == "second version"
    assert loads, "what the start did not read is read when touched"


def test_a_definition_the_session_holds_is_the_one_returned(app_ctx):
    latest = _deploy_pipot_twice()
    held = db.session.get(ProcessDefinition, latest.id)
    assert definitions.definition_to_start("pipot") is held
    db.session.expunge_all()
    first = definitions.definition_to_start("pipot")
    assert definitions.definition_to_start("pipot") is first


def test_a_process_never_deployed_is_not_found(app_ctx):
    with pytest.raises(NotFound):
        definitions.definition_to_start("no-such-process")


def test_a_held_definition_expired_by_a_commit_is_refreshed_by_the_same_statement(app_ctx):
    latest = _deploy_pipot_twice()
    first = definitions.definition_to_start("pipot")
    db.session.commit()  # expires what the session holds, the definition with it
    assert "version" in inspect(first).expired_attributes

    def start_reads():
        definition = definitions.definition_to_start("pipot")
        return definition, (definition.id, definition.process_key, definition.version, definition.name)

    (definition, read), seen = _statements(start_reads)
    assert definition is first and read[:3] == (latest.id, "pipot", 2)
    assert len(seen) == 1, seen  # nothing read again when the step touches what it was given
