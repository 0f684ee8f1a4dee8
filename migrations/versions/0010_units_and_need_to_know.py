"""Need to know by design: organisation units, roles held in a unit, the case's and each task's unit,
and staff numbers compared on a key normalised when written (Unicode NFKC, no whitespace of any kind,
case-folded), which Python and SQL compare alike.

Every role held before is held in the root unit ("All units"), so nobody sees less than before until
an administrator places people in their units.

Revision ID: 0010
Revises: 0009
"""
import unicodedata
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

QUEUE_ROLE_BEFORE = ["status", "role_key", "assignee_id", "escalation", "due_at", "id", "pathway"]
QUEUE_ROLE_AFTER = ["status", "role_key", "unit_id", "assignee_id", "escalation", "due_at", "id", "pathway"]


def _key(value):
    text = "".join(unicodedata.normalize("NFKC", value or "").split()).casefold()
    return text or None


def upgrade():
    op.create_table(
        "org_unit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("org_unit.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "role_holding",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False),
        sa.Column("role_key", sa.String(64), sa.ForeignKey("role.key", ondelete="CASCADE"), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("org_unit.id", ondelete="CASCADE"), nullable=False),
        sa.UniqueConstraint("user_id", "role_key", "unit_id"),
    )
    op.create_index("ix_role_holding_user_id", "role_holding", ["user_id"])
    op.create_index("ix_role_holding_role_unit", "role_holding", ["role_key", "unit_id"])
    _root_holds_every_role()
    # Plain ADD COLUMN and index changes: on SQLite a batch would rebuild tables other tables refer to.
    op.add_column("user_account", sa.Column("staff_number_key", sa.String(64), nullable=True))
    op.drop_index("ix_user_account_staff_number", table_name="user_account")
    op.create_index("ix_user_account_staff_number_key", "user_account", ["staff_number_key"])
    op.add_column("case_record", sa.Column("subject_staff_number_key", sa.String(200), nullable=True))
    _add_unit_column("case_record")
    op.drop_index("ix_case_record_subject_staff_number", table_name="case_record")
    op.create_index("ix_case_record_subject_staff_number_key", "case_record", ["subject_staff_number_key"])
    op.create_index("ix_case_record_unit_id", "case_record", ["unit_id"])
    _add_unit_column("human_task")
    op.drop_index("ix_human_task_queue_role", table_name="human_task")
    op.create_index("ix_human_task_queue_role", "human_task", QUEUE_ROLE_AFTER)
    _fill_keys("user_account", "staff_number", "staff_number_key")
    _fill_keys("case_record", "subject_staff_number", "subject_staff_number_key")


def _add_unit_column(table):
    if op.get_bind().dialect.name == "sqlite":  # SQLite adds a column with its reference, but no constraint later
        op.execute(f"ALTER TABLE {table} ADD COLUMN unit_id INTEGER REFERENCES org_unit (id)")
    else:
        op.add_column(table, sa.Column("unit_id", sa.Integer(), sa.ForeignKey("org_unit.id"), nullable=True))


def _root_holds_every_role():
    conn = op.get_bind()
    now = datetime.now(timezone.utc)
    now = now.replace(tzinfo=None) if conn.dialect.name == "sqlite" else now  # as the models store it
    conn.execute(sa.text("INSERT INTO org_unit (key, name, kind, parent_id, created_at) "
                         "VALUES ('all', 'All units', 'root', NULL, :now)"), {"now": now})
    conn.execute(sa.text("INSERT INTO role_holding (user_id, role_key, unit_id) "
                         "SELECT user_role.user_id, user_role.role_key, org_unit.id FROM user_role, org_unit "
                         "WHERE org_unit.key = 'all'"))


def _fill_keys(table, source, target):
    conn = op.get_bind()
    rows = conn.execute(sa.text(f"SELECT id, {source} FROM {table} WHERE {source} IS NOT NULL")).all()
    for row_id, value in rows:
        conn.execute(sa.text(f"UPDATE {table} SET {target} = :key WHERE id = :id"), {"key": _key(value), "id": row_id})


def downgrade():
    op.drop_index("ix_human_task_queue_role", table_name="human_task")
    op.create_index("ix_human_task_queue_role", "human_task", QUEUE_ROLE_BEFORE)
    with op.batch_alter_table("human_task") as batch:
        batch.drop_column("unit_id")
    with op.batch_alter_table("case_record") as batch:
        batch.drop_index("ix_case_record_unit_id")
        batch.drop_index("ix_case_record_subject_staff_number_key")
        batch.create_index("ix_case_record_subject_staff_number", ["subject_staff_number"])
        batch.drop_column("unit_id")
        batch.drop_column("subject_staff_number_key")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_index("ix_user_account_staff_number_key")
        batch.create_index("ix_user_account_staff_number", ["staff_number"])
        batch.drop_column("staff_number_key")
    op.drop_table("role_holding")
    op.drop_table("org_unit")
