"""A case's audit trail for the auditor and the pathway's manager: every task, decision, answer and
process version, the access log, the chain check, and the export of the full record (logged)."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile

from sqlalchemy import select, update

from app.extensions import db
from app.models import AccessLog, AuditEvent
from app.services.audit import verify_audit
from tests.reports.conftest import run_route
from tests.web.conftest import staff


def test_the_auditor_reads_every_decision_and_the_view_is_logged(web):
    case = run_route("lado/pot_meeting_substantiated").case
    auditor = staff("auditor")
    web.sign_in(auditor.username)
    found = web.get(f"/audit?reference={case.reference.lower()}")
    assert found.url == f"/audit/cases/{case.reference}"
    assert "Intact" in found.words and "process version 1" in found.words
    assert "Answers given" in found.words and "Scenario lado" in found.words
    actions = db.session.scalars(select(AccessLog.action).where(AccessLog.user_id == auditor.id)).all()
    assert actions == ["view_audit_trail"]
    assert "View audit trail" in web.get(f"/audit/cases/{case.reference}").words  # the access log shows it


def test_a_broken_chain_is_shown(web):
    case = run_route("lado/consultation_advice_given").case
    db.session.execute(update(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.seq == 2)
                       .values(actor_label="Someone else"))
    db.session.commit()
    web.sign_in(staff("auditor").username)
    assert "Broken" in web.get(f"/audit/cases/{case.reference}").words
    assert case.reference in web.get("/audit/chains").words


def test_exporting_the_full_record_is_a_logged_bundle(web, documents_dir):
    case = run_route("lado/pot_meeting_substantiated").case
    manager = staff("lado_manager")
    web.sign_in(manager.username)
    assert web.get(f"/audit/cases/{case.reference}/export").url == f"/audit/cases/{case.reference}"  # no purpose
    response = web.client.get(f"/audit/cases/{case.reference}/export?purpose=subject_access_request")
    assert response.mimetype == "application/zip"
    bundle = zipfile.ZipFile(io.BytesIO(response.data))
    manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["reference"] == case.reference and manifest["purpose"] == "subject_access_request"
    for name, digest in manifest["files"].items():
        assert hashlib.sha256(bundle.read(name)).hexdigest() == digest, name
    trail = json.loads(bundle.read("decision_trail.json"))
    assert any(event["type"] == "task_completed" and event["data"].get("answers") for event in trail)
    assert json.loads(bundle.read("chain_verification.json"))["intact"] is True
    assert json.loads(bundle.read("case.json"))["process_version"] == 1
    exported = db.session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                          AuditEvent.event_type == "case_exported"))
    assert exported.data["sha256"] == hashlib.sha256(response.data).hexdigest()
    assert "export_case" in db.session.scalars(select(AccessLog.action).where(AccessLog.user_id == manager.id)).all()
    assert verify_audit() == []


def test_nobody_else_reads_a_trail(web):
    case = run_route("lado/consultation_advice_given").case
    web.sign_in(staff("head_of_safeguarding").username)  # manages PiPoT, not LADO
    web.get(f"/audit/cases/{case.reference}", status=404)
    assert web.get(f"/audit?reference={case.reference}", status=404).h1 == "Audit trail of a case"
