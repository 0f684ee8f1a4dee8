"""/processes: the process library, its versions and downloads, the difference between two versions,
and moving running cases to a newer version."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.modeller.blueprint import bp
from app.services.cases.diagrams import version_diff
from app.services.cases.stopped import stopped_cases
from app.services.errors import ValidationFailed
from app.services.modeller import drafts, library, migrations
from app.web.access import role_required, signed_in
from app.web.request_checks import bounded_int

OWNER = library.PROCESS_OWNER


@bp.get("", endpoint="library")
@role_required(OWNER)
def library_page():
    return render_template("modeller/library.html", processes=library.list_processes(), drafts=drafts.list_drafts(),
                           errors={})


@bp.get("/<process_key>")
@role_required(OWNER)
def process(process_key):
    versions = library.process_versions(process_key)
    return render_template("modeller/process.html", process_key=process_key, versions=versions,
                           stopped=stopped_cases(process_key))


@bp.get("/<process_key>/versions/<int:version>.bpmn")
@role_required(OWNER)
def download_bpmn(process_key, version):
    definition = library.get_version(process_key, version)
    return _download(definition.bpmn_xml, "application/xml", f"{process_key}-v{version}.bpmn")


@bp.get("/<process_key>/versions/<int:version>/diagram.bpmn")
@signed_in
def diagram_bpmn(process_key, version):
    """The model of a version for the diagram viewer: the procedure, never case data, so any member
    of staff may read it (the case page draws a case on it)."""
    definition = library.get_version(process_key, version)
    return definition.bpmn_xml, 200, {"Content-Type": "application/xml"}


@bp.get("/<process_key>/versions/<int:version>/forms.zip")
@role_required(OWNER)
def download_forms(process_key, version):
    definition = library.get_version(process_key, version)
    return _download(library.forms_archive(definition), "application/zip", f"{process_key}-v{version}-forms.zip")


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.post("/<process_key>/versions/<int:version>/draft")
@role_required(OWNER)
def new_draft(process_key, version):
    draft = drafts.start_draft(process_key, version, current_user)
    flash(f"This draft is a copy of version {version}. Nothing changes for anyone until you deploy it.", "info")
    return redirect(url_for("modeller.draft", draft_id=draft.id))


@bp.get("/<process_key>/compare")
@role_required(OWNER)
def compare(process_key):
    old = library.get_version(process_key, request.args.get("old", type=bounded_int) or 0)
    new = library.get_version(process_key, request.args.get("new", type=bounded_int) or 0)
    return render_template("modeller/compare.html", diff=version_diff(old, new), process_key=process_key)


@bp.get("/<process_key>/versions/<int:version>/migrate")
@role_required(OWNER)
def migrate(process_key, version):
    plan = migrations.migration_plan(process_key, version, current_user)
    return render_template("modeller/migrate.html", plan=plan, errors={}, result=None)


@bp.post("/<process_key>/versions/<int:version>/migrate")
@role_required(OWNER)
def migrate_post(process_key, version):
    chosen = [int(i) for i in request.form.getlist("cases") if i.isdigit()]
    try:
        result = migrations.migrate_cases(process_key, version, chosen, current_user)
    except ValidationFailed as failed:
        plan = migrations.migration_plan(process_key, version, current_user)
        return render_template("modeller/migrate.html", plan=plan, errors=failed.errors, result=None)
    if result.moved:
        flash(f"Moved to version {version}: {', '.join(result.moved)}.", "success")
    plan = migrations.migration_plan(process_key, version, current_user)
    return render_template("modeller/migrate.html", plan=plan, errors={}, result=result)
