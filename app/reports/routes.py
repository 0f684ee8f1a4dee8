"""/reports: the operational dashboard, the governance reports (page, CSV, print) and the process
audit view (page and JSON) of each pathway."""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from app.reports.access import any_role
from app.services.report_access import (
    PATHWAY_MANAGERS,
    PATHWAY_NAMES,
    REPORT_ROLES,
    managed_pathways,
    process_audit_pathways,
    report_pathways,
)
from app.services.reporting import periods
from app.services.reporting.access_review import access_review, access_review_csv
from app.services.reporting.export import export_report_csv
from app.services.reporting.pages import (
    cases_behind_figure,
    dashboard_page,
    governance_page,
    process_figures,
    process_page,
)
from app.web.errors import register_blueprint_errors

bp = Blueprint("reports", __name__, url_prefix="/reports")
register_blueprint_errors(bp)
MANAGERS = tuple(sorted(set().union(*PATHWAY_MANAGERS.values())))
READERS = (*MANAGERS, "auditor")


@bp.get("")
@any_role(*REPORT_ROLES)
def index():
    return render_template("reports/index.html", names=PATHWAY_NAMES, managed=managed_pathways(current_user),
                           reports=report_pathways(current_user), process=process_audit_pathways(current_user))


@bp.get("/<pathway>/dashboard")
@any_role(*MANAGERS)
def dashboard(pathway):
    return render_template("reports/dashboard.html", board=dashboard_page(pathway, current_user),
                           name=PATHWAY_NAMES[pathway])


@bp.get("/<pathway>/dashboard/cases")
@any_role(*MANAGERS)
def dashboard_cases(pathway):
    heading, cases = cases_behind_figure(pathway, current_user, request.args.get("figure", ""),
                                     request.args.get("value", ""))
    return render_template("reports/dashboard_cases.html", cases=cases, name=PATHWAY_NAMES[pathway],
                           pathway=pathway, heading=heading)


@bp.get("/<pathway>/access-review")
@any_role(*MANAGERS)
def access_review_report(pathway):
    review = access_review(pathway, current_user, request.args.get("days", 30, type=int))
    return render_template("reports/access_review.html", review=review, name=PATHWAY_NAMES[pathway])


@bp.get("/<pathway>/access-review.csv")
@any_role(*MANAGERS)
def access_review_export(pathway):
    review = access_review(pathway, current_user, request.args.get("days", 30, type=int))
    return Response(access_review_csv(review), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{pathway}-access-review.csv"'})


@bp.get("/<pathway>/governance")
@any_role(*READERS)
def governance(pathway):
    report = governance_page(pathway, request.args.get("period"), current_user)
    return render_template("reports/governance.html", report=report, quarters=periods.recent_periods("quarter"),
                           years=periods.recent_periods("year", 4))


@bp.get("/<pathway>/governance.csv")
@any_role(*READERS)
def governance_export(pathway):
    name, text = export_report_csv(governance_page(pathway, request.args.get("period"), current_user), current_user)
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/<pathway>/governance/print")
@any_role(*READERS)
def governance_print(pathway):
    report = governance_page(pathway, request.args.get("period"), current_user).suppressed()
    return render_template("reports/print.html", report=report)


@bp.get("/<pathway>/process")
@any_role(*READERS, "process_owner")
def process(pathway):
    page = process_page(pathway, request.args.get("version", type=int), current_user)
    return render_template("reports/process.html", audit=page.audit, heat_map=page.heat_map,
                           show_breaches=page.show_breaches, name=PATHWAY_NAMES[pathway], pathway=pathway)


@bp.get("/<pathway>/process.json")
@any_role(*READERS, "process_owner")
def process_json(pathway):
    return process_figures(pathway, request.args.get("version", type=int), current_user)
