"""/audit: a case's audit trail (decisions, access log, hash-chain check), the export of its full
record, and a check of every chain. For the auditor and each pathway's manager."""
from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_login import current_user

from app.reports.access import any_role
from app.services.errors import NotFound
from app.services.report_access import PATHWAY_MANAGERS
from app.services.reporting.audit_checks import verify_all_chains
from app.services.reporting.audit_trail import audit_trail, find_trail_case
from app.services.reporting.case_export import export_case
from app.web.errors import register_blueprint_errors

bp = Blueprint("audit", __name__, url_prefix="/audit")
register_blueprint_errors(bp)
READERS = tuple(sorted({"auditor", *set().union(*PATHWAY_MANAGERS.values())}))
PURPOSES = {"subject_access_request": "A subject access request", "regulator": "A regulator or inspection",
            "legal": "Legal proceedings", "other": "Another reason"}


@bp.get("")
@any_role(*READERS)
def search():
    reference = request.args.get("reference", "").strip()
    if reference:
        try:
            case = find_trail_case(reference, current_user)
        except NotFound:
            return render_template("reports/audit_search.html", reference=reference, not_found=True), 404
        return redirect(url_for("audit.trail", reference=case.reference))
    return render_template("reports/audit_search.html", reference="", not_found=False)


@bp.get("/cases/<reference>")
@any_role(*READERS)
def trail(reference):
    return render_template("reports/audit_trail.html", trail=audit_trail(reference, current_user), purposes=PURPOSES)


@bp.get("/cases/<reference>/export")
@any_role(*READERS)
def export(reference):
    purpose = request.args.get("purpose", "")
    if purpose not in PURPOSES:
        return redirect(url_for("audit.trail", reference=reference, purpose_missing=1) + "#export")
    name, bundle = export_case(reference, current_user, purpose)
    return Response(bundle, mimetype="application/zip", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/chains")
@any_role("auditor")
def chains():
    return render_template("reports/audit_chains.html", check=verify_all_chains(current_user))
