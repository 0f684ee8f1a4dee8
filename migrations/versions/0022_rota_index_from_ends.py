"""rota index from ends: the on-call shifts are indexed by role and end, so that finding who is on
call now, at every step that routes an on-call task, reads only the shifts not yet ended and not
every past shift of the role

Revision ID: 0022
Revises: 0021
"""
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_on_call_shift_role_ends", "on_call_shift", ["role_key", "ends_at"])
    op.drop_index("ix_on_call_shift_role", table_name="on_call_shift")


def downgrade():
    op.create_index("ix_on_call_shift_role", "on_call_shift", ["role_key", "starts_at"])
    op.drop_index("ix_on_call_shift_role_ends", table_name="on_call_shift")
