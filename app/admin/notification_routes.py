"""/admin/outbox (emails that failed or are being retried) and /admin/rota/import (a CSV rota).
Routes on the administration blueprint."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.admin.blueprint import ADMIN, bp
from app.services.errors import ValidationFailed
from app.services.notifications import outbox, rota
from app.web.access import role_required

MAX_CSV_BYTES = 1024 * 1024


@bp.get("/outbox")
@role_required(ADMIN)
def outbox_page():
    return render_template("admin/outbox.html", page=outbox.outbox_page())


@bp.post("/outbox/retry")
@role_required(ADMIN)
def outbox_retry():
    count = outbox.retry_failed(current_user)
    flash(f"{count} failed email(s) will be sent again shortly." if count else "No failed emails to send again.",
          "success")
    return redirect(url_for("admin.outbox_page"))


@bp.get("/rota/import")
@role_required(ADMIN)
def rota_import():
    return render_template("admin/rota_import.html", errors={}, text="")


@bp.post("/rota/import")
@role_required(ADMIN)
def rota_import_post():
    text = _posted_csv()
    try:
        count = rota.import_rota(current_user, text)
    except ValidationFailed as failed:
        return render_template("admin/rota_import.html", errors=failed.errors, text=text), 200
    flash(f"{count} shift{'s' if count != 1 else ''} added to the rota.", "success")
    return redirect(url_for("admin.rota"))


def _posted_csv() -> str:
    upload = request.files.get("rota_file")
    if upload and upload.filename:
        return upload.stream.read(MAX_CSV_BYTES).decode("utf-8-sig", errors="replace")
    return request.form.get("rota_text", "")
