"""SQLAlchemy models, one module per aggregate. No business rules live here."""
from app.models.audit import AccessLog, AuditEvent
from app.models.calendar import ClosureDay
from app.models.cases import Case, CaseLink, CaseNote, ProcessInstance, ReferenceCounter
from app.models.definitions import ProcessDefinition
from app.models.documents import Document
from app.models.drafts import TaskDraft
from app.models.modeller import ModelDraft, ScenarioCheck
from app.models.notifications import Notification
from app.models.operations import WorkerHeartbeat
from app.models.outbox import NotificationPreference, OutboxNotification, StageChangeEvent, TaskReadyEvent, TaskRouting
from app.models.people import Role, User, user_role
from app.models.reporting import (
    CaseCount,
    CaseCountChange,
    CaseFact,
    DashboardCount,
    DashboardCountChange,
    DisposalRequest,
    ProcessSchedule,
    RetentionRecord,
)
from app.models.sessions import UserSession
from app.models.signin import SignInAttempt, SignInCounter
from app.models.teams import CaseTeamMember, OnCallShift, Team, team_member
from app.models.units import ROOT_UNIT, OrganisationVersion, OrgUnit, RoleHolding
from app.models.work import HumanTask, Timer

__all__ = [
    "CaseCount", "CaseCountChange", "CaseFact", "DashboardCount", "DashboardCountChange", "DisposalRequest",
    "ProcessSchedule", "RetentionRecord",
    "AccessLog", "AuditEvent", "Case", "CaseLink", "CaseNote", "CaseTeamMember", "ClosureDay", "Document",
    "HumanTask", "ModelDraft", "Notification", "OnCallShift", "ProcessDefinition", "ProcessInstance",
    "ReferenceCounter", "Role", "ScenarioCheck", "SignInAttempt", "SignInCounter", "TaskDraft", "Team", "Timer", "User",
    "UserSession", "team_member", "user_role",
    "NotificationPreference", "OutboxNotification", "StageChangeEvent", "TaskReadyEvent", "TaskRouting", "ROOT_UNIT", "OrgUnit", "OrganisationVersion", "RoleHolding",
    "WorkerHeartbeat",
]
