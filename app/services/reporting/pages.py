"""What each report page shows a person: the access check, the period or version asked for, and the
need-to-know filter on lists of cases (the figures themselves count every case)."""
from __future__ import annotations

from dataclasses import dataclass

from app.models import Case, User
from app.services.report_access import check_pathway, managed_pathways, process_audit_pathways, report_pathways
from app.services.reporting import periods
from app.services.reporting.adherence import Adherence, breaches_visible_to
from app.services.reporting.dashboard import Dashboard, dashboard, describe_figure, figure_cases
from app.services.reporting.governance import GovernanceReport, governance_report
from app.services.reporting.heat_map import HeatMap, heat_map
from app.services.reporting.process_audit import ProcessAudit, process_audit

DEFAULT_PERIOD = {"pipot": "quarter", "lado": "year"}


@dataclass
class ProcessPage:
    audit: ProcessAudit
    heat_map: HeatMap
    show_breaches: bool


def governance_page(pathway: str, period_key: str | None, user: User) -> GovernanceReport:
    """The pathway's governance report for the period (the last complete one by default), if the person
    may read it (else NotFound); cases about them are left out of the list of breaches."""
    check_pathway(pathway, report_pathways(user))
    key = period_key or periods.last_complete(DEFAULT_PERIOD[pathway]).key
    report = governance_report(pathway, periods.period(key))
    report.adherence = breaches_visible_to(report.adherence, user)
    return report


def process_page(pathway: str, version: int | None, user: User) -> ProcessPage:
    """The process audit view of a version (the latest by default), with its heat map; the list of
    breaches only for the pathway's manager and the auditor."""
    check_pathway(pathway, process_audit_pathways(user))
    audit = process_audit(pathway, version)
    show = pathway in report_pathways(user)
    audit.adherence = breaches_visible_to(audit.adherence, user) if show else Adherence(audit.adherence.figures)
    return ProcessPage(audit, heat_map(audit), show)


def process_figures(pathway: str, version: int | None, user: User) -> dict:
    """The process audit figures as JSON (per element; no case is named)."""
    check_pathway(pathway, process_audit_pathways(user))
    return process_audit(pathway, version).as_json()


def dashboard_page(pathway: str, user: User) -> Dashboard:
    """The pathway's dashboard, for its manager (else NotFound)."""
    check_pathway(pathway, managed_pathways(user))
    return dashboard(pathway, user)


def cases_behind_figure(pathway: str, user: User, figure: str, value: str) -> tuple[str, list[Case]]:
    """(what the figure counts, the cases behind it), for the pathway's manager (else NotFound)."""
    check_pathway(pathway, managed_pathways(user))
    cases = figure_cases(pathway, user, figure, value)  # NotFound for a figure the dashboard lacks
    return describe_figure(figure, value), cases
