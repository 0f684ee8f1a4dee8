"""/inbox, /tasks/<id> (the task page), claim, give back, reassign; /notifications."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.notifications import notify
from app.services.tasks import human_tasks
from app.services.tasks import inbox as inbox_service
from app.services.tasks.task_forms import open_task_form, post_task_form
from app.web.access import signed_in
from app.web.errors import register_blueprint_errors
from app.web.posts import form_post, typed_answers

bp = Blueprint("inbox", __name__)
register_blueprint_errors(bp)


@bp.get("/")
@signed_in
def home():
    return redirect(url_for("inbox.inbox"))


@bp.get("/inbox")
@signed_in
def inbox():
    page = inbox_service.list_inbox(current_user, pathway=request.args.get("pathway", ""), role=request.args.get("role", ""),
                            due=request.args.get("due", ""), page=request.args.get("page", 1, type=int),
                            page_size=current_app.config["INBOX_PAGE_SIZE"])
    return render_template("inbox/inbox.html", inbox=page, due_filters=inbox_service.DUE_FILTERS)


@bp.get("/tasks/<int:task_id>")
@signed_in
def task(task_id):
    return render_template("inbox/task.html", form=open_task_form(task_id, current_user,
                                                                  request.args.get("section", type=int)))


@bp.post("/tasks/<int:task_id>")
@signed_in
def task_post(task_id):
    try:
        form = post_task_form(task_id, current_user, form_post(request), request.args.get("section", type=int))
    except NotFound:
        # Someone else completed or took the task while this person typed: nothing about the case or
        # who took it is said, but what they typed is given back so that it is not lost.
        return render_template("inbox/task_gone.html", typed=typed_answers(request.form)), 404
    if form.outcome == "completed":
        flash(f"You completed “{form.task.title}” for case {form.case.reference}.", "success")
        for words in form.sent_back:
            flash(words, "important")
        return redirect(url_for("inbox.inbox"))
    if form.outcome == "section_saved":
        title = form.sections[form.section].title
        flash(f"“{title}” is saved. Carry on with the next section, or submit when every section is completed.",
              "success")
        return redirect(url_for("inbox.task", task_id=task_id))
    if form.outcome == "draft_saved":
        flash(f"Your answers to “{form.task.title}” are saved as a draft. Open the task again to carry on.", "success")
        return redirect(url_for("inbox.inbox"))
    return render_template("inbox/task.html", form=form), 200


@bp.post("/tasks/<int:task_id>/claim")
@signed_in
def claim(task_id):
    try:
        human_tasks.claim_task(task_id, current_user)
    except Conflict as refused:
        flash(refused.message, "error")
        return redirect(url_for("inbox.inbox"))
    return redirect(url_for("inbox.task", task_id=task_id))


@bp.post("/tasks/<int:task_id>/unclaim")
@signed_in
def unclaim(task_id):
    task = inbox_service.unclaim_task(task_id, current_user)
    flash(f"You gave back “{task.title}”. Anyone in the team can pick it up.", "success")
    return redirect(url_for("inbox.inbox"))


@bp.get("/tasks/<int:task_id>/reassign")
@signed_in
def reassign(task_id):
    task, colleagues = inbox_service.colleagues_for(task_id, current_user)
    return render_template("inbox/reassign.html", task=task, colleagues=colleagues, errors={}, values={})


@bp.post("/tasks/<int:task_id>/reassign")
@signed_in
def reassign_post(task_id):
    colleague = request.form.get("colleague", type=int)
    try:
        task = inbox_service.reassign_task(task_id, current_user, colleague, request.form.get("reason", ""))
    except ValidationFailed as failed:
        task, colleagues = inbox_service.colleagues_for(task_id, current_user)
        return render_template("inbox/reassign.html", task=task, colleagues=colleagues, errors=failed.errors,
                               values=request.form), 200
    flash(f"You passed “{task.title}” to a colleague.", "success")
    return redirect(url_for("inbox.inbox"))


@bp.get("/notifications")
@signed_in
def notifications_page():
    return render_template("inbox/notifications.html", items=notify.list_notifications(current_user))


@bp.post("/notifications/read")
@signed_in
def notifications_read():
    notify.mark_all_read(current_user)
    return redirect(url_for("inbox.notifications_page"))
