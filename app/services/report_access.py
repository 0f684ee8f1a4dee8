"""Who may read which reports and audit trails, and who manages retention.

The operational dashboard, governance reports and retention belong to each pathway's manager (the
head of safeguarding for PiPoT, the LADO manager for LADO). The auditor reads every report and
every case's audit trail but changes nothing (app/reports enforces read-only for the role). The
process owner reads the process audit view of every pathway.
"""
from __future__ import annotations

from app.models import Case, User
from app.services.access import is_about
from app.services.errors import NotFound

PATHWAY_MANAGERS = {"pipot": {"head_of_safeguarding"}, "lado": {"lado_manager"}}
PATHWAY_NAMES = {"pipot": "PiPoT", "lado": "LADO"}
AUDITOR = "auditor"
PROCESS_OWNER = "process_owner"
REPORT_ROLES = frozenset({AUDITOR, PROCESS_OWNER, *set().union(*PATHWAY_MANAGERS.values())})


def is_auditor(user: User) -> bool:
    return AUDITOR in user.role_keys


def managed_pathways(user: User) -> list[str]:
    """Pathways whose dashboard, reports and retention this person manages."""
    return [pathway for pathway, roles in PATHWAY_MANAGERS.items() if roles & user.role_keys]


def report_pathways(user: User) -> list[str]:
    """Pathways whose governance reports this person may read."""
    return list(PATHWAY_MANAGERS) if is_auditor(user) else managed_pathways(user)


def process_audit_pathways(user: User) -> list[str]:
    """Pathways whose process audit view this person may read."""
    return list(PATHWAY_MANAGERS) if user.role_keys & {AUDITOR, PROCESS_OWNER} else managed_pathways(user)


def check_pathway(pathway: str, allowed: list[str]) -> str:
    """The pathway, if it is one of `allowed`; else NotFound (no hint that it exists)."""
    if pathway not in allowed:
        raise NotFound(f"No reports for {pathway}.")
    return pathway


def may_read_trail(user: User, case: Case) -> bool:
    """The auditor, or the pathway's manager; never the subject of the case."""
    if is_about(user, case):
        return False
    return is_auditor(user) or case.pathway in managed_pathways(user)


def may_manage_retention(user: User, case: Case) -> bool:
    return not is_about(user, case) and case.pathway in managed_pathways(user)
