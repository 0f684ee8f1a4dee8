"""organisation version: a token that database triggers change with every change to the units, the
role holdings or an account's active flag, so that a process reads the organisation again only when
it changed (each workflow step used to read the whole unit tree and each role's holders afresh)

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# (table, the events that change the organisation)
_WATCHED = (("org_unit", ("INSERT", "UPDATE", "DELETE")), ("role_holding", ("INSERT", "UPDATE", "DELETE")),
            ("user_account", ("UPDATE OF is_active", "DELETE")))


def _trigger_name(table: str, event: str) -> str:
    return f"organisation_changed_{table}_{event.split()[0].lower()}"


def upgrade():
    op.create_table(
        "organisation_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("INSERT INTO organisation_version (id, token) VALUES (1, md5(random()::text || clock_timestamp()::text))")
        op.execute("""
            CREATE FUNCTION organisation_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE organisation_version SET token = md5(random()::text || clock_timestamp()::text);
                RETURN NULL;
            END $$""")
        for table, events in _WATCHED:
            for event in events:
                op.execute(f"CREATE TRIGGER {_trigger_name(table, event)} AFTER {event} ON {table} "
                           "FOR EACH STATEMENT EXECUTE FUNCTION organisation_changed()")
    else:
        op.execute("INSERT INTO organisation_version (id, token) VALUES (1, lower(hex(randomblob(16))))")
        for table, events in _WATCHED:
            for event in events:
                op.execute(f"CREATE TRIGGER {_trigger_name(table, event)} AFTER {event} ON {table} FOR EACH ROW "
                           "BEGIN UPDATE organisation_version SET token = lower(hex(randomblob(16))); END")


def downgrade():
    for table, events in _WATCHED:
        for event in events:
            op.execute(f"DROP TRIGGER {_trigger_name(table, event)}"
                       + (f" ON {table}" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION organisation_changed()")
    op.drop_table("organisation_version")
