"""/admin/users, /admin/teams and /admin/rota."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.admin import notification_routes, unit_routes  # noqa: F401  (their pages are on this blueprint)
from app.admin.blueprint import ADMIN, bp
from app.services.accounts import admin, auth
from app.services.errors import ValidationFailed
from app.web.access import role_required

__all__ = ["bp"]


@bp.get("")
@role_required(ADMIN)
def home():
    return redirect(url_for("admin.users"))


@bp.get("/users")
@role_required(ADMIN)
def users():
    query = request.args.get("q", "")
    return render_template("admin/users.html", users=admin.search_users(current_user, query), query=query)


@bp.get("/users/new")
@role_required(ADMIN)
def new_user():
    return render_template("admin/new_user.html", roles=admin.list_roles(), units=admin.unit_choices(), values={},
                           errors={})


@bp.post("/users/new")
@role_required(ADMIN)
def new_user_post():
    form = request.form
    try:
        user = admin.add_user(current_user, form.get("username", ""), form.get("display_name", ""),
                              form.get("password", ""), form.get("staff_number", ""), form.get("email", ""),
                              form.getlist("roles"), form.get("unit", "all"))
    except ValidationFailed as failed:
        return render_template("admin/new_user.html", roles=admin.list_roles(), units=admin.unit_choices(),
                               values=form, errors=failed.errors)
    flash(f"{user.display_name} can now sign in as {user.username}.", "success")
    return redirect(url_for("admin.users"))


@bp.get("/users/<int:user_id>")
@role_required(ADMIN)
def user(user_id):
    return render_template("admin/user.html", page=admin.user_page(user_id), errors={}, values=None)


@bp.post("/users/<int:user_id>")
@role_required(ADMIN)
def user_post(user_id):
    form = request.form
    try:
        admin.update_user(current_user, user_id, form.get("display_name", ""), form.get("staff_number", ""),
                          form.get("email", ""), form.getlist("roles"),
                          [int(t) for t in form.getlist("teams") if t.isdigit()], form.get("active") == "yes",
                          form.get("unit", "all"))
    except ValidationFailed as failed:
        return render_template("admin/user.html", page=admin.user_page(user_id), errors=failed.errors, values=form)
    flash("The changes have been saved.", "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/unlock")
@role_required(ADMIN)
def unlock(user_id):
    auth.unlock_account(admin.get_user_details(user_id).user.username, current_user)
    flash("The account is unlocked.", "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.get("/teams")
@role_required(ADMIN)
def teams():
    return render_template("admin/teams.html", teams=admin.list_teams(), errors={}, values={})


@bp.post("/teams")
@role_required(ADMIN)
def teams_post():
    try:
        team = admin.add_team(current_user, request.form.get("name", ""), request.form.get("description", ""))
    except ValidationFailed as failed:
        return render_template("admin/teams.html", teams=admin.list_teams(), errors=failed.errors, values=request.form)
    flash(f"Team “{team.name}” added. Add people to it from their user page.", "success")
    return redirect(url_for("admin.teams"))


@bp.get("/rota")
@role_required(ADMIN)
def rota():
    return render_template("admin/rota.html", page=admin.rota_page(), errors={}, values={})


@bp.post("/rota")
@role_required(ADMIN)
def rota_post():
    form = request.form
    parts = ("day", "month", "year", "time")
    try:
        admin.add_shift(current_user, form.get("role_key", ""), form.get("user_id", type=int),
                        {p: form.get(f"starts-{p}", "") for p in parts}, {p: form.get(f"ends-{p}", "") for p in parts})
    except ValidationFailed as failed:
        return render_template("admin/rota.html", page=admin.rota_page(), errors=failed.errors, values=form)
    flash("The shift is on the rota.", "success")
    return redirect(url_for("admin.rota"))


@bp.post("/rota/<int:shift_id>/delete")
@role_required(ADMIN)
def rota_delete(shift_id):
    admin.remove_shift(current_user, shift_id)
    flash("The shift has been taken off the rota.", "success")
    return redirect(url_for("admin.rota"))


