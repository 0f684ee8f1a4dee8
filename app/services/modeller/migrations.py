"""Moving running cases to a newer version of their process (DESIGN.md decision 10).

Cases stay on the version they started with. A process owner may move selected running cases to a
newer version when nothing the case has reached is changed by it (`app.workflow.migration`); each move
is an audit event on the case, and so is each refusal. Lists show case references and stages only:
a process owner is not on every case's team, and nobody is shown a case about themselves.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import not_, select, update

from app.extensions import db
from app.models import Case, HumanTask, ProcessDefinition, ProcessInstance, User
from app.services.access import about_user_clause
from app.services.audit import lock_case, record_event
from app.services.cases.lifecycle import load_workflow, process_step, save_step
from app.services.errors import ValidationFailed
from app.services.modeller.library import get_version
from app.services.runtime import model_for
from app.workflow import Blocker, migrate_workflow, migration_blockers

MOST_CASES = 500  # cases assessed per page: each is loaded to be compared with the new version


@dataclass
class CaseMove:
    """One running case and whether it can move to the target version."""

    reference: str
    case_id: int
    version: int
    stage: str
    open_tasks: list[str]
    blockers: list[Blocker] = field(default_factory=list)

    @property
    def can_move(self) -> bool:
        return not self.blockers


@dataclass
class MigrationPlan:
    target: ProcessDefinition
    cases: list[CaseMove]

    @property
    def movable(self) -> list[CaseMove]:
        return [c for c in self.cases if c.can_move]

    @property
    def stuck(self) -> list[CaseMove]:
        return [c for c in self.cases if not c.can_move]


@dataclass
class MigrationResult:
    moved: list[str] = field(default_factory=list)
    refused: list[CaseMove] = field(default_factory=list)


def migration_plan(process_key: str, version: int, user: User) -> MigrationPlan:
    """The running cases on older versions of a process, each with whether it can move to `version`."""
    target = get_version(process_key, version)
    return MigrationPlan(target, [_assess(case, target) for case in _running_cases(target, user)])


def _running_cases(target: ProcessDefinition, user: User, case_ids: list[int] | None = None) -> list[Case]:
    query = (select(Case).join(ProcessInstance, ProcessInstance.id == Case.instance_id)
             .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
             .where(ProcessDefinition.process_key == target.process_key, ProcessDefinition.version < target.version,
                    Case.status == "open", not_(about_user_clause(user)))
             .order_by(Case.reference).limit(MOST_CASES))
    if case_ids is not None:
        query = query.where(Case.id.in_(case_ids))
    return db.session.scalars(query).all()


def _assess(case: Case, target: ProcessDefinition) -> CaseMove:
    titles = db.session.scalars(select(HumanTask.title).where(HumanTask.case_id == case.id, HumanTask.status == "open")
                                .order_by(HumanTask.id)).all()
    workflow, model = load_workflow(case.instance)
    return CaseMove(case.reference, case.id, case.instance.definition.version, case.stage or "", list(titles),
                    migration_blockers(workflow, model, model_for(target)))


def migrate_cases(process_key: str, version: int, case_ids: list[int], actor: User) -> MigrationResult:
    """Move each selected case that can move to `version`; refuse (with the reasons) those that cannot.

    Each case is its own transaction, so one refusal does not undo another case's move.
    """
    if not case_ids:
        raise ValidationFailed({"cases": "Select the cases to move."})
    target = get_version(process_key, version)
    result = MigrationResult()
    for case in _running_cases(target, actor, case_ids):
        move = _assess(case, target)
        if move.can_move:
            _move(case, target, actor)
            result.moved.append(case.reference)
        else:
            _refuse(case, target, move, actor)
            result.refused.append(move)
    return result


def _move(case: Case, target: ProcessDefinition, actor: User) -> None:
    instance = case.instance
    source, expected = instance.definition, instance.version
    workflow, _ = load_workflow(instance)
    model = model_for(target)
    try:
        lock_case(case.id)
        with process_step(), db.session.no_autoflush:
            migrate_workflow(workflow, model)
            record_event("case_migrated", case_id=case.id, actor=actor, data={
                "process_key": target.process_key, "from_version": source.version, "version": target.version,
                "sha256": target.sha256})
            save_step(case, instance, workflow, model, actor, expected)
            db.session.execute(update(ProcessInstance).where(ProcessInstance.id == instance.id)
                               .values(definition_id=target.id).execution_options(synchronize_session=False))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    db.session.expire_all()


def _refuse(case: Case, target: ProcessDefinition, move: CaseMove, actor: User) -> None:
    lock_case(case.id)
    record_event("case_migration_refused", case_id=case.id, actor=actor, data={
        "process_key": target.process_key, "from_version": move.version, "version": target.version,
        "reasons": [f"{b.name} ({b.bpmn_id}): {b.reason}" for b in move.blockers]})
    db.session.commit()
