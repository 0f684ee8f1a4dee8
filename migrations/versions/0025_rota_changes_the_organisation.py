"""the on-call rota changes the organisation's version token: a process keeps the shifts it read
and reads them again only when the rota changed (each step that routed work that must not wait used
to read who was on call afresh)

Revision ID: 0025
Revises: 0024
"""
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

_EVENTS = ("INSERT", "UPDATE", "DELETE")


def _trigger_name(event: str) -> str:
    return f"organisation_changed_on_call_shift_{event.lower()}"


def upgrade():
    for event in _EVENTS:
        if op.get_bind().dialect.name == "postgresql":  # the function of 0020
            op.execute(f"CREATE TRIGGER {_trigger_name(event)} AFTER {event} ON on_call_shift "
                       "FOR EACH STATEMENT EXECUTE FUNCTION organisation_changed()")
        else:
            op.execute(f"CREATE TRIGGER {_trigger_name(event)} AFTER {event} ON on_call_shift FOR EACH ROW "
                       "BEGIN UPDATE organisation_version SET token = lower(hex(randomblob(16))); END")


def downgrade():
    for event in _EVENTS:
        op.execute(f"DROP TRIGGER {_trigger_name(event)}"
                   + (" ON on_call_shift" if op.get_bind().dialect.name == "postgresql" else ""))
