"""/api/cases: start a case, read it, read its audit events."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.api.auth import token_required
from app.api.schemas import CaseSchema, CaseStartSchema, EventSchema, ReceiptSchema
from app.services.cases import lifecycle, records
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
