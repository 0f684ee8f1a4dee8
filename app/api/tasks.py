"""/api/tasks: my tasks and my roles' tasks; claim; complete."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.api.auth import token_required
from app.api.schemas import TaskCompleteSchema, TaskListQuerySchema, TaskSchema
from app.services.cases.summaries import task_summaries, task_summary
from app.services.tasks import human_tasks

blp = Blueprint("tasks", __name__, url_prefix="/api/tasks", description="Tasks")


@blp.route("")
class TaskCollection(MethodView):
    decorators = [token_required]

    @blp.arguments(TaskListQuerySchema, location="query", error_status_code=400)
    @blp.response(200, TaskSchema(many=True))
    @blp.doc(security=[{"bearerAuth": []}])
    def get(self, query):
        """Open tasks assigned to me, then unclaimed tasks of my roles, most urgent first."""
        return task_summaries(human_tasks.list_tasks(g.api_user, limit=query["limit"], offset=query["offset"]))


@blp.route("/<int:task_id>/claim")
class TaskClaim(MethodView):
    decorators = [token_required]

    @blp.response(200, TaskSchema)
    @blp.doc(security=[{"bearerAuth": []}])
    def post(self, task_id):
        """Claim an unclaimed task of one of my roles."""
        return task_summary(human_tasks.claim_task(task_id, g.api_user))


@blp.route("/<int:task_id>/complete")
class TaskComplete(MethodView):
    decorators = [token_required]

    @blp.arguments(TaskCompleteSchema)
    @blp.response(200, TaskSchema)
    @blp.alt_response(409, description="Already completed, or the case changed since it was read")
    @blp.alt_response(422, description="The answers do not fit the form; a message per field")
    @blp.doc(security=[{"bearerAuth": []}])
    def post(self, payload, task_id):
        """Complete a task with the answers to its form."""
        return task_summary(human_tasks.complete_task(task_id, g.api_user, payload["data"],
                                                      expected_version=payload["instance_version"]))
