"""One case's full record as a structured bundle (a zip of JSON files and the documents), for a
subject access request or a regulator. Every export is logged twice: in the access log and as a
`case_exported` event in the case's own hash chain, with the bundle's sha256."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import AccessLog, Case, CaseFact, Document, HumanTask, RetentionRecord, Timer, User
from app.services import access
from app.services.audit import lock_case, record_event
from app.services.cases.records import case_events, linked_cases
from app.services.reporting.audit_trail import check_chain, find_trail_case

BUNDLE_FORMAT = "safeguarding-case-bundle/1"


def export_case(reference: str, user: User, purpose: str) -> tuple[str, bytes]:
    """(file name, zip bytes) of the case's full record, if the user may read its audit trail."""
    case = find_trail_case(reference, user)
    files = _files(case)
    manifest = {"format": BUNDLE_FORMAT, "reference": case.reference, "purpose": purpose,
                "exported_at": clock.now().isoformat(), "exported_by": user.display_name,
                "files": {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}}
    files["manifest.json"] = _json(manifest)
    bundle = _zip(files)
    _log_export(case, user, purpose, hashlib.sha256(bundle).hexdigest())
    return f"{case.reference}-record.zip", bundle


def _files(case: Case) -> dict[str, bytes]:
    documents = db.session.scalars(select(Document).where(Document.case_id == case.id).order_by(Document.id)).all()
    files = {
        "case.json": _json(_case_record(case)),
        "decision_trail.json": _json([_event(e) for e in case_events(case)]),
        "tasks.json": _json(_rows(HumanTask, HumanTask.case_id == case.id)),
        "timers.json": _json(_rows(Timer, Timer.case_id == case.id)),
        "facts.json": _json(_rows(CaseFact, CaseFact.case_id == case.id)),
        "retention.json": _json(_rows(RetentionRecord, RetentionRecord.case_id == case.id)),
        "access_log.json": _json(_access_log(case)),
        "chain_verification.json": _json(_chain(case)),
        "documents.json": _json([_document(d) for d in documents]),
    }
    folder = Path(current_app.config["DOCUMENTS_DIR"])
    for document in documents:
        path = folder / document.storage_key
        if path.is_file():
            files[f"documents/{document.id}-{Path(document.filename).name}"] = path.read_bytes()
    return files


def _case_record(case: Case) -> dict:
    record = {column.name: getattr(case, column.key) for column in Case.__table__.columns}
    record["process_version"] = case.instance.definition.version
    record["process_key"] = case.instance.definition.process_key
    record["linked_cases"] = [other.reference for other in linked_cases(case)]
    return record


def _event(event) -> dict:
    return {"seq": event.seq, "type": event.event_type, "actor": event.actor_label, "actor_id": event.actor_id,
            "at": event.at, "data": event.data, "prev_hash": event.prev_hash, "hash": event.hash}


def _rows(model, where) -> list[dict]:
    columns = model.__table__.columns
    return [dict(row._mapping) for row in db.session.execute(select(*columns).where(where))]


def _access_log(case: Case) -> list[dict]:
    rows = db.session.execute(select(AccessLog, User.display_name).join(User, User.id == AccessLog.user_id, isouter=True)
                              .where(AccessLog.case_id == case.id).order_by(AccessLog.at, AccessLog.id)).all()
    return [{"at": log.at, "who": name, "action": log.action, "detail": log.detail} for log, name in rows]


def _chain(case: Case) -> dict:
    check = check_chain(case)
    return {"intact": check.intact, "events": check.events, "checked_at": check.checked_at,
            "problems": [{"seq": seq, "problem": what} for _, seq, what in check.problems]}


def _document(document: Document) -> dict:
    return {"id": document.id, "filename": document.filename, "content_type": document.content_type,
            "size": document.size, "sha256": document.sha256, "uploaded_at": document.uploaded_at,
            "field": document.field, "task_id": document.task_id}


def _json(value) -> bytes:
    return json.dumps(value, indent=2, default=str, ensure_ascii=False).encode("utf-8")


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, content in files.items():
            bundle.writestr(name, content)
    return buffer.getvalue()


def _log_export(case: Case, user: User, purpose: str, digest: str) -> None:
    lock_case(case.id)
    record_event("case_exported", case_id=case.id, actor=user, data={"purpose": purpose, "sha256": digest})
    access.log_access(user, case, "export_case", {"purpose": purpose, "sha256": digest})
