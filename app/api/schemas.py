"""marshmallow schemas of the API's payloads. Unknown fields are refused."""
from marshmallow import RAISE, Schema, fields, validate


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class CaseStartSchema(StrictSchema):
    pathway = fields.String(required=True, validate=validate.Length(min=1, max=120),
                            metadata={"description": "Process key, e.g. 'pipot' or 'lado'."})
    data = fields.Dict(keys=fields.String(), required=True, allow_none=True,
                       metadata={"description": "Answers to the pathway's first form (referral or concern); "
                                                "each missing or wrong answer gets its own message (422)."})


class ReceiptSchema(Schema):
    """What the person who raised a concern sees of it: that it arrived, never what is decided."""

    reference = fields.String()
    pathway = fields.String()
    raised_at = fields.DateTime()
    received_by = fields.String()


class CaseLinkSchema(Schema):
    reference = fields.String()


class CaseSchema(Schema):
    reference = fields.String()
    pathway = fields.String()
    status = fields.String()
    stage = fields.String()
    subject_name = fields.String(allow_none=True)
    subject_known_as = fields.String(allow_none=True)
    subject_date_of_birth = fields.Date(allow_none=True)
    outcome = fields.String(allow_none=True)
    out_of_hours = fields.Boolean()
    opened_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    key_dates = fields.Dict()
    process_version = fields.Integer(attribute="instance.definition.version")
    instance_version = fields.Integer(attribute="instance.version")
    open_tasks = fields.List(fields.Nested(lambda: TaskSchema()), dump_default=list)
    linked_cases = fields.List(fields.String(), dump_default=list)


class EventSchema(Schema):
    seq = fields.Integer()
    event_type = fields.String()
    actor = fields.String(attribute="actor_label")
    at = fields.DateTime()
    data = fields.Dict()
    hash = fields.String()


class TaskSchema(Schema):
    id = fields.Integer()
    case_reference = fields.String()
    title = fields.String()
    bpmn_id = fields.String()
    role = fields.String(attribute="role_key", allow_none=True)
    assignee = fields.String(allow_none=True)
    form = fields.String(attribute="form_name", allow_none=True)
    instructions = fields.String()
    escalation = fields.Boolean()
    status = fields.String()
    created_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)


class TaskCompleteSchema(StrictSchema):
    data = fields.Dict(keys=fields.String(), required=True,
                       metadata={"description": "Answers to the task's form."})
    instance_version = fields.Integer(load_default=None, validate=validate.Range(min=0, max=2 ** 63 - 1), metadata={
        "description": "The case's instance_version when the task was read; a later version gives 409."})


class TaskListQuerySchema(StrictSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))


class NoteSchema(StrictSchema):
    happened_at = fields.String(required=True, metadata={
        "description": "When it happened: a date (2026-03-27) or a date and time (2026-03-27T14:30)."})
    kind = fields.String(required=True, metadata={
        "description": "phone_call, email, meeting, police, letter or other."})
    with_whom = fields.String(load_default="")
    summary = fields.String(required=True, metadata={"description": "What was said or done (or the correction)."})
    corrects = fields.Integer(allow_none=True, load_default=None, metadata={
        "description": "The id of the note this one corrects (an addendum); notes are never edited."})


class CaseNoteSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    happened_at = fields.DateTime()
    recorded_at = fields.DateTime()
    with_whom = fields.String()
    summary = fields.String()
    corrects = fields.Integer(attribute="corrects_id", allow_none=True)


class ChronologyEntrySchema(Schema):
    at = fields.DateTime()
    date_only = fields.Boolean()
    kind = fields.String()
    what = fields.String()
    who = fields.String()
    details = fields.List(fields.String())
    note_id = fields.Method("_note_id")

    def _note_id(self, entry) -> int | None:
        return entry.note.note.id if entry.note is not None else None


class ChronologyQuerySchema(StrictSchema):
    kind = fields.String(load_default="", metadata={
        "description": "Only this kind: note, decision, meeting, clock or outcome (all when empty)."})
