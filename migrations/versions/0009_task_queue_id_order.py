"""Task queue indexes end with the task id, the queue's last sort key: a page of a band reads an index
range and stops, with no sort. Without it PostgreSQL sorted every dated task of a busy role, and for
tasks with no due date walked the primary key instead, through the whole table when a role had none.

Revision ID: 0009
Revises: 0008
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ROLE = ["status", "role_key", "assignee_id", "escalation", "due_at"]
ASSIGNEE = ["status", "assignee_id", "escalation", "due_at"]


def _replace(role: list[str], assignee: list[str]) -> None:
    op.drop_index("ix_human_task_queue_role", table_name="human_task")
    op.drop_index("ix_human_task_queue_assignee", table_name="human_task")
    op.create_index("ix_human_task_queue_role", "human_task", role)
    op.create_index("ix_human_task_queue_assignee", "human_task", assignee)


def upgrade():
    _replace([*ROLE, "id"], [*ASSIGNEE, "id"])


def downgrade():
    _replace(ROLE, ASSIGNEE)
