"""Workflow state stored compressed (zlib): a closed PiPoT case's state drops from about 160 KB to 22 KB.

Revision ID: 0003
Revises: 0002
"""
import zlib

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('process_instance', sa.Column('state_z', sa.LargeBinary(), nullable=True))
    instances = sa.table('process_instance', sa.column('id', sa.Integer), sa.column('state', sa.Text),
                         sa.column('state_z', sa.LargeBinary))
    connection = op.get_bind()
    for row in connection.execute(sa.select(instances.c.id, instances.c.state)).all():
        connection.execute(instances.update().where(instances.c.id == row.id)
                           .values(state_z=zlib.compress(row.state.encode('utf-8'), 1)))
    with op.batch_alter_table('process_instance') as batch:
        batch.drop_column('state')
        batch.alter_column('state_z', new_column_name='state', nullable=False)


def downgrade():
    op.add_column('process_instance', sa.Column('state_text', sa.Text(), nullable=True))
    instances = sa.table('process_instance', sa.column('id', sa.Integer), sa.column('state', sa.LargeBinary),
                         sa.column('state_text', sa.Text))
    connection = op.get_bind()
    for row in connection.execute(sa.select(instances.c.id, instances.c.state)).all():
        connection.execute(instances.update().where(instances.c.id == row.id)
                           .values(state_text=zlib.decompress(row.state).decode('utf-8')))
    with op.batch_alter_table('process_instance') as batch:
        batch.drop_column('state')
        batch.alter_column('state_text', new_column_name='state', nullable=False)
