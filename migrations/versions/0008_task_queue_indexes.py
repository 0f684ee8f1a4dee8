"""Task queue indexes in the queue's own order: per role's unclaimed tasks and per holder, escalations
apart, then by due time, so a page of the inbox reads index ranges rather than sorting every open task.

Revision ID: 0008
Revises: 0007
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_human_task_open_role", table_name="human_task")
    op.drop_index("ix_human_task_open_assignee", table_name="human_task")
    op.create_index("ix_human_task_queue_role", "human_task",
                    ["status", "role_key", "assignee_id", "escalation", "due_at"])
    op.create_index("ix_human_task_queue_assignee", "human_task", ["status", "assignee_id", "escalation", "due_at"])


def downgrade():
    op.drop_index("ix_human_task_queue_assignee", table_name="human_task")
    op.drop_index("ix_human_task_queue_role", table_name="human_task")
    op.create_index("ix_human_task_open_assignee", "human_task", ["status", "assignee_id", "due_at"])
    op.create_index("ix_human_task_open_role", "human_task", ["status", "role_key", "due_at"])
