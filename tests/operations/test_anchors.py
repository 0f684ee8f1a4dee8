"""Audit chain anchors: the heads of the chains written outside the database, so a database that
lost events from the end of a chain (truncated, or rolled back to an older copy) is detected."""
from __future__ import annotations

import json

from sqlalchemy import delete, func, select

from app.extensions import db
from app.jobs.operations import anchor_job
from app.models import AuditEvent
from app.services.cases import lifecycle
from app.services.operations.anchors import write_anchor
from tests.factories import deploy_test_model, make_user

CONCERN = {"subject_name": "Alex Example", "summary": "Shouted at a patient.", "immediate_danger": False}


def _open_two_cases():
    deploy_test_model("simple")
    reporter, _ = make_user()
    return lifecycle.start_case("simple", CONCERN, reporter), lifecycle.start_case("simple", CONCERN, reporter)


def _last_seq(case) -> int:
    return db.session.scalar(select(func.max(AuditEvent.seq)).where(AuditEvent.case_id == case.id))


def test_an_anchor_holds_the_head_of_every_chain(app_ctx, tmp_path):
    first, second = _open_two_cases()
    anchor = tmp_path / "anchors.jsonl"
    assert write_anchor(anchor) == 3  # two cases and the system chain
    [line] = [json.loads(text) for text in anchor.read_text().splitlines()]
    head = db.session.scalar(select(AuditEvent).where(AuditEvent.case_id == first.id)
                             .order_by(AuditEvent.seq.desc()).limit(1))
    assert line["heads"][f"case:{first.id}"] == [head.seq, head.hash]
    assert set(line["heads"]) == {f"case:{first.id}", f"case:{second.id}", "system"}


def test_events_lost_from_the_end_of_a_chain_pass_the_hash_check_but_not_the_anchor(app_ctx, runner, tmp_path):
    first, second = _open_two_cases()
    anchor = tmp_path / "anchors.jsonl"
    write_anchor(anchor)
    intact = runner.invoke(args=["verify-audit", "--anchor", str(anchor)])
    assert intact.exit_code == 0 and "Every anchored event is present" in intact.output

    last = _last_seq(first)
    db.session.execute(delete(AuditEvent).where(AuditEvent.case_id == first.id, AuditEvent.seq >= last - 1))
    db.session.commit()  # the chain is now two events shorter, and still links up
    assert runner.invoke(args=["verify-audit"]).exit_code == 0

    result = runner.invoke(args=["verify-audit", "--anchor", str(anchor)])
    assert result.exit_code == 1
    assert f"BROKEN {first.reference} event {last}: anchored on" in result.output
    assert "is missing: the database has lost events or was rolled back" in result.output
    assert second.reference not in result.output


def test_the_newest_anchor_of_each_chain_counts(app_ctx, runner, tmp_path):
    first, _ = _open_two_cases()
    anchor = tmp_path / "anchors.jsonl"
    write_anchor(anchor)
    reporter, _ = make_user()
    third = lifecycle.start_case("simple", CONCERN, reporter)
    write_anchor(anchor)
    assert len(anchor.read_text().splitlines()) == 2
    db.session.execute(delete(AuditEvent).where(AuditEvent.case_id == third.id, AuditEvent.seq == _last_seq(third)))
    db.session.commit()
    result = runner.invoke(args=["verify-audit", "--anchor", str(anchor)])
    assert result.exit_code == 1 and third.reference in result.output and first.reference not in result.output


def test_the_worker_job_appends_an_anchor_to_the_configured_file(app, app_ctx, tmp_path):
    _open_two_cases()
    previous = app.config["AUDIT_ANCHOR_FILE"]
    app.config["AUDIT_ANCHOR_FILE"] = str(tmp_path / "shipped" / "anchors.jsonl")
    try:
        anchor_job(app)
        anchor_job(app)
    finally:
        app.config["AUDIT_ANCHOR_FILE"] = previous
    lines = (tmp_path / "shipped" / "anchors.jsonl").read_text().splitlines()
    assert len(lines) == 2 and all(len(json.loads(line)["heads"]) == 3 for line in lines)
