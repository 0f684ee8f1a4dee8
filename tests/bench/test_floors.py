"""The durable floors measure the floor's own work: their statements and commits go to the database on
a connection of their own. Through the bench's ORM session, as before, each commit expired whatever
the service's samples had left in the session and each statement paid the session's overhead: 13-17 %
of the reference model's floor, measured in turns against the same work on a plain connection, which
made every service / floor ratio look lower than it was."""
from __future__ import annotations

from sqlalchemy import inspect, select

from app.config import PROJECT_ROOT
from app.extensions import db
from app.models import User
from app.services import definitions, people
from bench import engine, reference


def _loaded_person() -> User:
    people.create_user("floor-bystander", "Someone the service left in the session", ["staff"])
    db.session.commit()
    person = db.session.scalar(select(User).where(User.username == "floor-bystander"))
    assert "display_name" in inspect(person).dict
    return person


def test_the_reference_model_s_floor_writes_its_states_and_leaves_the_session_alone(app_ctx):
    reference.deploy()
    floor = reference._Floor(3)
    person = _loaded_person()
    before = [floor.blobs.read(n) for n in range(3)]
    for n in range(3):
        floor.complete(n)
    assert not inspect(person).expired_attributes and person in db.session
    after = [floor.blobs.read(n) for n in range(3)]
    for n in range(3):
        assert after[n] != before[n] and f"Case {n}, step" in after[n]  # each sample's answers, stored
    assert floor.close()["complete"]["n"] == 3


def test_the_pipot_floor_writes_its_states_and_leaves_the_session_alone(app_ctx):
    definitions.deploy_definition((PROJECT_ROOT / "bpmn" / "pipot.bpmn").read_bytes(), "pipot.bpmn")
    people.seed_roles()
    reporter = people.create_user("floor-reporter", "Floor reporter", ["staff"])
    floor = engine._Floor(2, reporter)
    person = _loaded_person()
    before = floor.blobs.read(0)
    floor.complete(0)
    floor.start(0)
    assert not inspect(person).expired_attributes and person in db.session
    assert floor.blobs.read(0) != before and "INC-55512" in floor.blobs.read(0)  # the first steps' answers
    assert "Seen handling a patient roughly" in floor.blobs.read(2)  # the started case's first form
    result = floor.close()
    assert result["complete"]["n"] == 1 and result["start"]["n"] == 1
