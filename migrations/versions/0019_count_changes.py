"""count changes: the steps write their changes to the open-case and dashboard counts as rows of
their own (insert only), which the worker folds into the counts; before, every step updated the
same few count rows, and steps in different processes waited for each other's commit there

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "case_count_change",
        sa.Column("id", _ID, nullable=False),
        sa.Column("pathway", sa.String(length=120), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=200), nullable=False),
        sa.Column("open_cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "dashboard_count_change",
        sa.Column("id", _ID, nullable=False),
        sa.Column("pathway", sa.String(length=120), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("figure", sa.String(length=20), nullable=False),
        sa.Column("holder", sa.String(length=140), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade():
    # fold what is pending into the counts first, so that nothing counted is lost
    for base, column, keys in (("case_count", "open_cases", ("pathway", "unit_id", "stage")),
                               ("dashboard_count", "counted", ("pathway", "unit_id", "figure", "holder", "day"))):
        same = " AND ".join(f"c.{key} = {base}.{key}" for key in keys)
        op.execute(f"UPDATE {base} SET {column} = {column} + (SELECT COALESCE(SUM(c.{column}), 0) "
                   f"FROM {base}_change c WHERE {same})")
        listed = ", ".join(keys)
        found = " AND ".join(f"b.{key} = c.{key}" for key in keys)
        op.execute(f"INSERT INTO {base} ({listed}, {column}) SELECT {', '.join('c.' + k for k in keys)}, "
                   f"SUM(c.{column}) FROM {base}_change c WHERE NOT EXISTS (SELECT 1 FROM {base} b WHERE {found}) "
                   f"GROUP BY {', '.join('c.' + k for k in keys)}")
    op.drop_table("dashboard_count_change")
    op.drop_table("case_count_change")
