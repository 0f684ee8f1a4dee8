"""/notifications/settings: how I get my emails (each at once, or a daily digest)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.services.errors import ValidationFailed
from app.services.notifications import outbox
from app.web.access import signed_in
from app.web.errors import register_blueprint_errors

bp = Blueprint("notification_settings", __name__)
register_blueprint_errors(bp)


@bp.get("/notifications/settings")
@signed_in
def settings():
    preference = outbox.preferences_for(current_user)
    values = {"email_delivery": preference.email_delivery, "digest_time": preference.digest_time}
    return render_template("notification_settings/settings.html", values=values, errors={})


@bp.post("/notifications/settings")
@signed_in
def settings_post():
    form = request.form
    try:
        outbox.save_preferences(current_user, form.get("email_delivery", ""), form.get("digest_time", ""))
    except ValidationFailed as failed:
        return render_template("notification_settings/settings.html", values=form, errors=failed.errors), 200
    flash("Your email settings are saved.", "success")
    return redirect(url_for("notification_settings.settings"))
