"""/api/cases: start a case, read it, read its audit events."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.api.auth import token_required
from app.api.present import present_case
from app.api.schemas import CaseSchema, CaseStartSchema, EventSchema
from app.services import access, cases

blp = Blueprint("cases", __name__, url_prefix="/api/cases", description="Cases")


@blp.route("")
class CaseCollection(MethodView):
    decorators = [token_required]

    @blp.arguments(CaseStartSchema)
    @blp.response(201, CaseSchema)
    @blp.doc(security=[{"bearerAuth": []}])
    def post(self, payload):
        """Open a case; `data` answers the pathway's first form."""
        return present_case(cases.start_case(payload["pathway"], payload["data"], g.api_user))


@blp.route("/<reference>")
class CaseItem(MethodView):
    decorators = [token_required]

    @blp.response(200, CaseSchema)
    @blp.doc(security=[{"bearerAuth": []}])
    def get(self, reference):
        """One case, if you are on its team."""
        return present_case(access.view_case(reference, g.api_user))


@blp.route("/<reference>/events")
class CaseEvents(MethodView):
    decorators = [token_required]

    @blp.response(200, EventSchema(many=True))
    @blp.doc(security=[{"bearerAuth": []}])
    def get(self, reference):
        """The case's audit trail, oldest first."""
        return cases.case_events(access.view_case(reference, g.api_user, "view_case_events"))
