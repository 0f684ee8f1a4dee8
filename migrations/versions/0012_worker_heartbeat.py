"""When each worker last swept for due timers, for the health check (`/healthz`).

Revision ID: 0012
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "worker_heartbeat",
        sa.Column("worker_id", sa.String(120), primary_key=True),
        sa.Column("swept_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_worker_heartbeat_swept_at", "worker_heartbeat", ["swept_at"])


def downgrade():
    op.drop_index("ix_worker_heartbeat_swept_at", table_name="worker_heartbeat")
    op.drop_table("worker_heartbeat")
