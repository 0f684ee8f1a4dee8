"""/api/cases: start a case, read it, its audit events and its chronology; add case notes."""
from __future__ import annotations

from functools import wraps

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.api.auth import token_required
from app.api.schemas import (
    CaseNoteSchema,
    CaseSchema,
    CaseStartSchema,
    ChronologyEntrySchema,
    ChronologyQuerySchema,
    EventSchema,
    NoteSchema,
    ReceiptSchema,
)
from app.services.cases import lifecycle, notes, records
from app.services.cases.chronology import chronology
from app.services.cases.summaries import case_summary

blp = Blueprint("cases", __name__, url_prefix="/api/cases", description="Cases")


@blp.route("")
class CaseCollection(MethodView):
    decorators = [token_required]

    @blp.arguments(CaseStartSchema)
    @blp.response(201, ReceiptSchema)
    @blp.alt_response(422, description="The answers do not fit the first form; a message per field")
    @blp.doc(security=[{"bearerAuth": []}])
    def post(self, payload):
        """Raise a concern or make a referral; `data` answers the pathway's first form. The answer is a
        receipt: the person who raised it does not see the case (GET it only if you are on its team)."""
        return lifecycle.raise_concern(payload["pathway"], payload["data"] or {}, g.api_user)


@blp.route("/<reference>")
class CaseItem(MethodView):
    decorators = [token_required]

    @blp.response(200, CaseSchema)
    @blp.doc(security=[{"bearerAuth": []}])
    def get(self, reference):
        """One case, if you are on its team."""
        return case_summary(records.view_case(reference, g.api_user))


@blp.route("/<reference>/events")
class CaseEvents(MethodView):
    decorators = [token_required]

    @blp.response(200, EventSchema(many=True))
    @blp.doc(security=[{"bearerAuth": []}])
    def get(self, reference):
        """The case's audit trail, oldest first."""
        return records.case_events(records.view_case(reference, g.api_user, "view_case_events"))


@blp.route("/<reference>/chronology")
class CaseChronology(MethodView):
    decorators = [token_required]

    @blp.arguments(ChronologyQuerySchema, location="query")
    @blp.response(200, ChronologyEntrySchema(many=True))
    @blp.doc(security=[{"bearerAuth": []}])
    def get(self, query, reference):
        """What happened on the case in the order it happened: notes, decisions, meetings, clocks run
        out and outcomes; `kind` keeps one kind."""
        return chronology(reference, g.api_user, query["kind"]).entries


def on_the_case(view):
    """The case is checked before the body is read, so that nobody off the case learns anything from
    an answer about the body (404 before 422)."""
    @wraps(view)
    def checked(*args, **kwargs):
        records.view_case(kwargs["reference"], g.api_user, "open_case_note_form")
        return view(*args, **kwargs)
    return checked


@blp.route("/<reference>/notes")
class CaseNotes(MethodView):
    decorators = [on_the_case, token_required]  # the last is the outermost: the token first

    @blp.arguments(NoteSchema)
    @blp.response(201, CaseNoteSchema)
    @blp.alt_response(422, description="An answer needs correcting; a message per field")
    @blp.doc(security=[{"bearerAuth": []}])
    def post(self, payload, reference):
        """Add a case note (a call, an email, a contact with another agency), or with `corrects` an
        addendum to one. Notes are never changed."""
        return notes.add_note_from_answers(reference, g.api_user, payload)
