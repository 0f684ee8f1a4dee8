"""reports: case facts (a reporting projection), retention records, disposal requests, and the
schedule of timer-start processes

Revision ID: 0005
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'case_fact',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=60), nullable=False),
        sa.Column('value', sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case_record.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('case_fact') as batch:
        batch.create_index('ix_case_fact_key', ['key', 'value'], unique=False)
        batch.create_index(batch.f('ix_case_fact_case_id'), ['case_id'], unique=False)

    op.create_table(
        'retention_record',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('review_on', sa.Date(), nullable=False),
        sa.Column('rule', sa.String(length=255), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('flagged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('legal_hold', sa.Boolean(), nullable=False),
        sa.Column('legal_hold_reason', sa.Text(), nullable=False),
        sa.Column('legal_hold_by_id', sa.Integer(), nullable=True),
        sa.Column('legal_hold_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('disposed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case_record.id']),
        sa.ForeignKeyConstraint(['legal_hold_by_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('case_id'),
    )
    with op.batch_alter_table('retention_record') as batch:
        batch.create_index('ix_retention_due', ['status', 'review_on'], unique=False)

    op.create_table(
        'disposal_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['case_record.id']),
        sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id']),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('disposal_request') as batch:
        batch.create_index(batch.f('ix_disposal_request_case_id'), ['case_id'], unique=False)

    op.create_table(
        'process_schedule',
        sa.Column('process_key', sa.String(length=120), nullable=False),
        sa.Column('waiting_case_id', sa.Integer(), nullable=True),
        sa.Column('claimed_by', sa.String(length=120), nullable=True),
        sa.Column('claim_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['waiting_case_id'], ['case_record.id']),
        sa.PrimaryKeyConstraint('process_key'),
    )


def downgrade():
    op.drop_table('process_schedule')
    op.drop_table('disposal_request')
    op.drop_table('retention_record')
    op.drop_table('case_fact')
