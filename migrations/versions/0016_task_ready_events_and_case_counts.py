"""task ready events and case counts: a step records that a task is ready in its own transaction and
the people concerned are told after it commits; the open cases per pathway, unit and stage are
counted as the steps go, for the dashboard

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "task_ready_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("rota_gap", sa.Boolean(), nullable=False),
        sa.Column("no_holder", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["human_task.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["case_id"], ["case_record.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_task_ready_event_created", "task_ready_event", ["created_at"])
    op.create_table(
        "case_count",
        sa.Column("pathway", sa.String(length=120), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=200), nullable=False),
        sa.Column("open_cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("pathway", "unit_id", "stage"),
    )
    op.execute(
        "INSERT INTO case_count (pathway, unit_id, stage, open_cases) "
        "SELECT pathway, COALESCE(unit_id, 0), COALESCE(stage, ''), COUNT(*) FROM case_record "
        "WHERE status = 'open' GROUP BY pathway, COALESCE(unit_id, 0), COALESCE(stage, '')")


def downgrade():
    op.drop_table("case_count")
    op.drop_index("ix_task_ready_event_created", table_name="task_ready_event")
    op.drop_table("task_ready_event")
