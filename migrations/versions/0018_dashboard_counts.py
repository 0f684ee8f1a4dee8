"""dashboard counts: the open tasks and cases of a pathway per unit, figure, holder and day (tasks due
on a day by role and by person, the day a case's next clock runs out, open escalations, suspensions,
the day a case opened), kept up by the steps; what each case adds to them; indexes for the few rows
the dashboard still reads at the edge of a day

After upgrading, `flask recount-dashboard` counts the cases already there (the steps keep the counts
from then on).

Revision ID: 0018
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "dashboard_count",
        sa.Column("pathway", sa.String(length=120), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("figure", sa.String(length=20), nullable=False),
        sa.Column("holder", sa.String(length=140), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("pathway", "unit_id", "figure", "holder", "day"),
    )
    with op.batch_alter_table("case_record") as batch:
        batch.add_column(sa.Column("dashboard_marks", sa.JSON(), nullable=True))
    op.create_index("ix_case_open_opened", "case_record", ["status", "pathway", "opened_at"])
    op.create_index("ix_human_task_due", "human_task", ["status", "pathway", "due_at"])


def downgrade():
    op.drop_index("ix_human_task_due", table_name="human_task")
    op.drop_index("ix_case_open_opened", table_name="case_record")
    with op.batch_alter_table("case_record") as batch:
        batch.drop_column("dashboard_marks")
    op.drop_table("dashboard_count")
