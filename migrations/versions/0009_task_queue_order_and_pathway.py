"""Task queue indexes end with the task id, the queue's last sort key, so a page of a band reads an
index range and stops, with no sort. Without it PostgreSQL sorted every dated task of a busy role, and
for tasks with no due date walked the primary key instead, through the whole table when a role had none.

Each task also carries its case's pathway (which never changes), kept last in both indexes, so the
inbox's pathway filter is read from the index rather than from the case of every task of a busy role.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
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
    op.add_column("human_task", sa.Column("pathway", sa.String(120), nullable=True))
    op.execute("UPDATE human_task SET pathway = "
               "(SELECT case_record.pathway FROM case_record WHERE case_record.id = human_task.case_id)")
    _replace([*ROLE, "id", "pathway"], [*ASSIGNEE, "id", "pathway"])


def downgrade():
    _replace(ROLE, ASSIGNEE)
    with op.batch_alter_table("human_task") as batch:
        batch.drop_column("pathway")
