"""/retention: closed cases by retention review date, legal holds, and disposal (two people)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.reports.access import any_role
from app.services.errors import Forbidden, NotFound, ValidationFailed
from app.services.report_access import PATHWAY_MANAGERS, may_manage_retention
from app.services.reporting import disposal, retention
from app.web.errors import register_blueprint_errors

bp = Blueprint("retention", __name__, url_prefix="/retention")
register_blueprint_errors(bp)
MANAGERS = tuple(sorted(set().union(*PATHWAY_MANAGERS.values())))
ACTIONS = {
    "hold": (retention.place_legal_hold, "The case is on legal hold: it will not be disposed of."),
    "lift": (retention.lift_legal_hold, "The legal hold has been lifted."),
    "request": (disposal.request_disposal, "Disposal requested. Someone else must approve it."),
}


@bp.get("")
@any_role(*MANAGERS, "auditor")
def cases():
    status = request.args.get("status", "due")
    status = status if status in retention.STATUSES else "due"
    return render_template("reports/retention.html", lines=retention.retention_list(current_user, status),
                           status=status)


@bp.get("/<reference>")
@any_role(*MANAGERS, "auditor")
def case(reference):
    return _page(reference, {}, "")


def _page(reference: str, errors: dict, action: str, status: int = 200):
    line = retention.retention_line(reference, current_user)
    may_manage = may_manage_retention(current_user, line.case)
    return render_template("reports/retention_case.html", line=line, errors=errors, failed_action=action,
                           may_manage=may_manage), status


@bp.post("/<reference>/<action>")
@any_role(*MANAGERS)
def act(reference, action):
    if action not in ACTIONS:
        raise NotFound("No such action.")
    change, message = ACTIONS[action]
    try:
        change(reference, current_user, request.form.get("reason", ""))
    except ValidationFailed as failed:
        return _page(reference, failed.errors, action, 400)
    flash(message, "success")
    return redirect(url_for("retention.case", reference=reference))


@bp.post("/<reference>/disposal/<decision>")
@any_role(*MANAGERS)
def decide(reference, decision):
    if decision not in ("approve", "cancel"):
        raise NotFound("No such decision.")
    try:
        (disposal.approve_disposal if decision == "approve" else disposal.cancel_disposal)(reference, current_user)
    except (ValidationFailed, Forbidden) as refused:
        flash(refused.message if isinstance(refused, Forbidden) else next(iter(refused.errors.values())), "error")
    else:
        flash("The case has been disposed of. Its tombstone is kept." if decision == "approve"
              else "The disposal request has been withdrawn.", "success")
    return redirect(url_for("retention.case", reference=reference))
