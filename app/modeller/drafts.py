"""/processes/drafts: the modeller (a draft in bpmn-js), import, validation, the scenario check and
deployment. The modeller saves and validates with JSON calls; every page also works without JavaScript
(a file upload replaces the model, a form button validates it)."""
from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.modeller.blueprint import bp
from app.services.errors import DeployRefused, ValidationFailed
from app.services.modeller import deployment, drafts, library, scenario_checks
from app.web.access import role_required

OWNER = library.PROCESS_OWNER


@bp.post("/import")
@role_required(OWNER)
def import_post():
    upload = request.files.get("file")
    try:
        draft = drafts.import_draft(upload.filename if upload else "", upload.read() if upload else b"", current_user)
    except ValidationFailed as failed:
        return render_template("modeller/library.html", processes=library.list_processes(),
                               drafts=drafts.list_drafts(), errors=failed.errors), 400
    flash(f"{draft.filename} has been imported as a draft. Check it before you deploy it.", "success")
    return redirect(url_for("modeller.draft", draft_id=draft.id))


@bp.get("/drafts/<int:draft_id>")
@role_required(OWNER)
def draft(draft_id):
    return _draft_page(draft_id)


def _draft_page(draft_id, check=None, errors=None, status=200):
    page = deployment.draft_page(draft_id)
    return render_template("modeller/draft.html", page=page, check=check, errors=errors or {}), status


@bp.get("/drafts/<int:draft_id>/model.bpmn")
@role_required(OWNER)
def draft_bpmn(draft_id):
    return drafts.get_draft(draft_id).bpmn_xml, 200, {"Content-Type": "application/xml"}


@bp.post("/drafts/<int:draft_id>/save")
@role_required(OWNER)
def save(draft_id):
    if request.is_json:
        try:
            saved = drafts.save_draft(draft_id, (request.get_json().get("xml") or "").encode("utf-8"), current_user)
        except ValidationFailed as failed:
            return jsonify(saved=False, errors=failed.errors), 400
        return jsonify(saved=True, updated_at=saved.updated_at.isoformat(), process_key=saved.process_key)
    upload = request.files.get("file")
    try:
        drafts.save_draft(draft_id, upload.read() if upload else b"", current_user)
    except ValidationFailed as failed:
        return _draft_page(draft_id, errors={"file": failed.errors.get("model", failed.message)}, status=400)
    flash("The draft now holds the file you uploaded.", "success")
    return redirect(url_for("modeller.draft", draft_id=draft_id))


@bp.post("/drafts/<int:draft_id>/validate")
@role_required(OWNER)
def validate(draft_id):
    check = drafts.check_draft(draft_id)
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return jsonify(passed=check.passed, problems=[{"element_id": p.element_id, "message": p.message}
                                                      for p in check.problems])
    return _draft_page(draft_id, check=check)


@bp.post("/drafts/<int:draft_id>/discard")
@role_required(OWNER)
def discard(draft_id):
    drafts.discard_draft(draft_id, current_user)
    flash("The draft has been put aside.", "success")
    return redirect(url_for("modeller.library"))


@bp.get("/drafts/<int:draft_id>/deploy")
@role_required(OWNER)
def deploy(draft_id):
    return _deploy_page(draft_id)


def _deploy_page(draft_id, errors=None, values=None, status=200):
    page = deployment.deploy_page(draft_id)
    return render_template("modeller/deploy.html", page=page, errors=errors or {}, values=values or {}), status


@bp.post("/drafts/<int:draft_id>/check")
@role_required(OWNER)
def start_check(draft_id):
    scenario_checks.start_check(draft_id, current_user)
    flash("The scenario check has started. It takes a minute or so: refresh this page to see the results.", "info")
    return redirect(url_for("modeller.deploy", draft_id=draft_id) + "#scenarios")


@bp.post("/drafts/<int:draft_id>/deploy")
@role_required(OWNER)
def deploy_post(draft_id):
    values = request.form
    try:
        definition = deployment.deploy_draft(draft_id, current_user, values.get("change_note", ""),
                                           values.get("accept_failures") == "yes")
    except ValidationFailed as failed:
        return _deploy_page(draft_id, errors=failed.errors, values=values, status=400)
    except DeployRefused:
        return _deploy_page(draft_id, values=values, status=400)
    flash(f"Version {definition.version} of {definition.name or definition.process_key} is deployed. New cases "
          "start on it; running cases stay on their version unless you move them.", "success")
    return redirect(url_for("modeller.process", process_key=definition.process_key))
