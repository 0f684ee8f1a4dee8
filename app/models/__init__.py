"""SQLAlchemy models, one module per aggregate. No business rules live here."""
from app.models.audit import AccessLog, AuditEvent
from app.models.calendar import ClosureDay
from app.models.cases import Case, CaseLink, ProcessInstance, ReferenceCounter
from app.models.definitions import ProcessDefinition
from app.models.people import Role, User, user_role
from app.models.work import HumanTask, Timer

__all__ = [
    "AccessLog", "AuditEvent", "Case", "CaseLink", "ClosureDay", "HumanTask", "ProcessDefinition",
    "ProcessInstance", "ReferenceCounter", "Role", "Timer", "User", "user_role",
]
