"""/cases (my cases and search), /cases/new (start a case), /cases/<reference> (the case page)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from app.services.cases import call_now as calling
from app.services.cases import lists, meeting_records, notes, records, referrals
from app.services.cases.chronology import KINDS as CHRONOLOGY_KINDS
from app.services.cases.chronology import chronology as case_chronology
from app.services.cases.documents import clean_filename, open_document
from app.services.cases.page import TIMELINE_FILTERS, case_page
from app.services.errors import ValidationFailed
from app.web.access import signed_in
from app.web.errors import register_blueprint_errors
from app.web.posts import flash_outcome, form_post

bp = Blueprint("case", __name__, url_prefix="/cases")
register_blueprint_errors(bp)


@bp.get("")
@signed_in
def cases():
    query, status = request.args.get("q", ""), request.args.get("status", "open")
    found = lists.list_cases(current_user, query, status)
    return render_template("cases/cases.html", cases=found, query=query, status=status,
                           receipts=records.my_receipts(current_user))


@bp.get("/new")
@signed_in
def start():
    _refuse_readers()
    return render_template("cases/start.html", pathways=referrals.list_pathways())


@bp.get("/new/<process_key>")
@signed_in
def referral(process_key):
    _refuse_readers()
    return render_template("cases/referral.html", form=referrals.open_referral(process_key, current_user))


@bp.post("/new/<process_key>")
@signed_in
def referral_post(process_key):
    form = referrals.post_referral(process_key, current_user, form_post(request))
    if form.case is not None:
        return redirect(url_for("case.receipt", reference=form.case.reference))
    return render_template("cases/referral.html", form=form)


def _refuse_readers():
    """The auditor reads and changes nothing: refused before a form is filled in, not after."""
    if "auditor" in current_user.role_keys or "staff" not in current_user.role_keys:
        abort(403)


@bp.get("/<reference>/receipt")
@signed_in
def receipt(reference):
    return render_template("cases/receipt.html", receipt=records.receipt(reference, current_user))


@bp.get("/<reference>")
@signed_in
def case(reference):
    return render_template("cases/case.html", page=case_page(reference, current_user, request.args.get("timeline", "")), timeline_filters=TIMELINE_FILTERS)


@bp.get("/<reference>/chronology")
@signed_in
def chronology(reference):
    return render_template("cases/chronology.html", chronology=case_chronology(reference, current_user,
                                                                                 request.args.get("kind", "")),
                           kinds=CHRONOLOGY_KINDS)


@bp.get("/<reference>/records/<int:task_id>")
@signed_in
def meeting_record(reference, task_id):
    return render_template("cases/meeting_record.html", record=meeting_records.meeting_record(reference, current_user,
                                                                                             task_id))


@bp.get("/<reference>/notes/new")
@signed_in
def new_note(reference):
    if "auditor" in current_user.role_keys:
        abort(403)  # the auditor reads and changes nothing
    case = records.view_case(reference, current_user, "open_case_note_form")
    corrects = notes.note_to_correct(case, request.args.get("corrects", type=int))
    return render_template("cases/note.html", case=case, corrects=corrects, kinds=notes.KINDS, values={}, errors={})


@bp.post("/<reference>/notes")
@signed_in
def add_note(reference):
    try:
        notes.add_note(reference, current_user, request.form)
    except ValidationFailed as failed:
        case = records.view_case(reference, current_user, "open_case_note_form")
        corrects = notes.note_to_correct(case, request.form.get("corrects", type=int))
        return render_template("cases/note.html", case=case, corrects=corrects, kinds=notes.KINDS,
                               values=request.form, errors=failed.errors), 200
    flash("The note is added to the case. It cannot be changed: add an addendum to correct it.", "success")
    return redirect(url_for("case.chronology", reference=reference, kind="note"))


@bp.post("/<reference>/call-now")
@signed_in
def call_now(reference):
    done = flash_outcome(lambda: calling.call_now(reference, current_user, request.form.get("timer", ""),
                                                  request.form.get("reason", "")),
                         "Done: the work it starts is open now. It is in the open tasks below.")
    return redirect(url_for("case.case", reference=reference) + ("#tasks" if done else "#call-now"))


@bp.get("/<reference>/documents/<int:document_id>")
@signed_in
def document(reference, document_id):
    row, path = open_document(reference, document_id, current_user)
    return send_file(path, mimetype=row.content_type, as_attachment=True, download_name=clean_filename(row.filename),
                     max_age=0)


@bp.post("/<reference>/team")
@signed_in
def add_team_member(reference):
    flash_outcome(lambda: lists.add_team_member(reference, current_user, request.form.get("username", ""),
                                                request.form.get("reason", "")),
                  "They have been added to the case team.")
    return redirect(url_for("case.case", reference=reference) + "#team")
