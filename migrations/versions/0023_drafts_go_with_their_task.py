"""drafts go with their task: when a task stops being open (completed, or cancelled by its workflow),
the database deletes every draft of it, whoever had typed it, in the statement that changes the
task's status (the completion used to send a DELETE of its own, for the completer's draft only)

Revision ID: 0023
Revises: 0022
"""
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_TRIGGER = "task_closed_drops_drafts"
_WHEN = "OLD.status = 'open' AND NEW.status <> 'open'"


def upgrade():
    # the drafts of tasks closed before this revision (anybody's but the completer's) go now
    op.execute("DELETE FROM task_draft WHERE task_id IN (SELECT id FROM human_task WHERE status <> 'open')")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION task_closed_drops_drafts() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                DELETE FROM task_draft WHERE task_id = NEW.id;
                RETURN NULL;
            END $$""")
        op.execute(f"CREATE TRIGGER {_TRIGGER} AFTER UPDATE OF status ON human_task FOR EACH ROW "
                   f"WHEN ({_WHEN}) EXECUTE FUNCTION task_closed_drops_drafts()")
    else:
        op.execute(f"CREATE TRIGGER {_TRIGGER} AFTER UPDATE OF status ON human_task FOR EACH ROW "
                   f"WHEN {_WHEN} BEGIN DELETE FROM task_draft WHERE task_id = NEW.id; END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER {_TRIGGER} ON human_task")
        op.execute("DROP FUNCTION task_closed_drops_drafts()")
    else:
        op.execute(f"DROP TRIGGER {_TRIGGER}")
