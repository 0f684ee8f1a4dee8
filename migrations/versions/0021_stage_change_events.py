"""stage change events: the step that moves a case to a new stage records it in its own transaction,
and the roles that watch the case's stages are told after it commits, as new tasks already are

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stage_change_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=200), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_record.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_stage_change_event_created", "stage_change_event", ["created_at"])


def downgrade():
    op.drop_index("ix_stage_change_event_created", table_name="stage_change_event")
    op.drop_table("stage_change_event")
