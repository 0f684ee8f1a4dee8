"""/admin/units (organisation units), where people hold their roles, and /admin/units/import (a CSV of
role holdings). Routes on the administration blueprint."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.admin.blueprint import ADMIN, bp
from app.services.accounts import units
from app.services.errors import ValidationFailed
from app.web.access import role_required
from app.web.posts import flash_outcome

MAX_CSV_BYTES = 1024 * 1024


@bp.get("/units")
@role_required(ADMIN)
def units_page():
    return render_template("admin/units.html", units=units.list_units(), kinds=units.KINDS, errors={}, values={})


@bp.post("/units")
@role_required(ADMIN)
def units_post():
    form = request.form
    try:
        unit = units.add_unit(current_user, form.get("key", ""), form.get("name", ""), form.get("kind", ""),
                              form.get("parent", ""))
    except ValidationFailed as failed:
        return render_template("admin/units.html", units=units.list_units(), kinds=units.KINDS,
                               errors=failed.errors, values=form), 400
    flash(f"“{unit.name}” added. Give people roles in it from their user page, or import a CSV file.", "success")
    return redirect(url_for("admin.units_page"))


@bp.post("/users/<int:user_id>/holdings")
@role_required(ADMIN)
def holding_add(user_id):
    flash_outcome(lambda: units.add_holding(current_user, user_id, request.form.get("role", ""),
                                            request.form.get("unit", "")),
                  "The role has been added. Their sessions have ended: they sign in again to use it.")
    return redirect(url_for("admin.user", user_id=user_id) + "#holdings")


@bp.post("/users/<int:user_id>/holdings/remove")
@role_required(ADMIN)
def holding_remove(user_id):
    flash_outcome(lambda: units.remove_holding(current_user, user_id, request.form.get("role", ""),
                                               request.form.get("unit", "")),
                  "The role has been removed.")
    return redirect(url_for("admin.user", user_id=user_id) + "#holdings")


@bp.get("/units/import")
@role_required(ADMIN)
def units_import():
    return render_template("admin/units_import.html", errors={}, text="")


@bp.post("/units/import")
@role_required(ADMIN)
def units_import_post():
    upload = request.files.get("holdings_file")
    text = upload.read(MAX_CSV_BYTES).decode("utf-8-sig", errors="replace") if upload and upload.filename else ""
    text = text or request.form.get("holdings_text", "")
    try:
        added = units.import_holdings(current_user, text)
    except ValidationFailed as failed:
        return render_template("admin/units_import.html", errors=failed.errors, text=text), 400
    flash(f"{added} role holding{'s' if added != 1 else ''} added.", "success")
    return redirect(url_for("admin.units_page"))
