"""reminders told after the step: a reminder timer that fires writes one task_ready_event row naming
the timer (reminder_timer_id), and the task's holders are told after the firing commits, as they are
about a new task

Revision ID: 0024
Revises: 0023
"""
import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("task_ready_event", sa.Column("reminder_timer_id", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("task_ready_event") as batch:
        batch.drop_column("reminder_timer_id")
