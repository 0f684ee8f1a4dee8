"""notifications: the outbox (one row per notification per person, with its email's delivery state),
email preferences, and how tasks for on-call roles were routed by the rota

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'outbox_notification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('notification_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('reference', sa.String(length=40), nullable=False),
        sa.Column('link', sa.String(length=255), nullable=False),
        sa.Column('delivery', sa.String(length=10), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('email_kind', sa.String(length=20), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('claimed_by', sa.String(length=120), nullable=True),
        sa.Column('claim_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], ),
        sa.ForeignKeyConstraint(['notification_id'], ['notification.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key', name='uq_outbox_notification_key'),
    )
    with op.batch_alter_table('outbox_notification', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_case', ['case_id', 'created_at'], unique=False)
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_user', ['user_id', 'status'], unique=False)

    op.create_table(
        'notification_preference',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('email_delivery', sa.String(length=10), nullable=False),
        sa.Column('digest_time', sa.String(length=5), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.create_table(
        'task_routing',
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('role_key', sa.String(length=64), nullable=True),
        sa.Column('on_call_user_id', sa.Integer(), nullable=True),
        sa.Column('rota_gap', sa.Boolean(), nullable=False),
        sa.Column('routed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['on_call_user_id'], ['user_account.id'], ),
        sa.ForeignKeyConstraint(['task_id'], ['human_task.id'], ),
        sa.PrimaryKeyConstraint('task_id'),
    )


def downgrade():
    op.drop_table('task_routing')
    op.drop_table('notification_preference')
    with op.batch_alter_table('outbox_notification', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_user')
        batch_op.drop_index('ix_outbox_due')
        batch_op.drop_index('ix_outbox_case')
    op.drop_table('outbox_notification')
