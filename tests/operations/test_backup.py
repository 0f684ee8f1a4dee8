"""`flask backup` and `flask restore`: the database and the documents in one archive with a manifest
of sha256 digests; a restore checks the archive whole, puts everything back and verifies the audit
trail and the chain heads the backup recorded. Runs on SQLite and, with TEST_DATABASE_URL, PostgreSQL."""
from __future__ import annotations

import io
import json
import tarfile
import threading

import pytest
from flask_migrate import upgrade
from sqlalchemy import delete, func, select

from app import create_app
from app.extensions import db
from app.models import AuditEvent, Case, Document, HumanTask
from app.services.cases import lifecycle
from app.services.cases.documents import Upload, store_upload
from app.services.operations.anchors import check_anchors, write_anchor
from app.services.operations.backup import BackupFailed, create_backup
from app.services.operations.restore import restore_backup
from app.services.people import seed_roles
from app.services.tasks import human_tasks
from tests.conftest import ROOT, fresh_database
from tests.factories import deploy_test_model, make_user

CONCERN = {"subject_name": "Alex Example", "summary": "Shouted at a patient.", "immediate_danger": False}


@pytest.fixture
def own_app(tmp_path):
    """An application on a database of this test's own (a restore replaces the whole database)."""
    with fresh_database(tmp_path, "backup") as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "test",
                          "DOCUMENTS_DIR": str(tmp_path / "documents")})
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"), revision="heads")
            seed_roles()
            deploy_test_model("simple")
            yield app
            db.session.remove()
            db.engine.dispose()


def _open_cases(n: int):
    reporter, _ = make_user()
    return reporter, [lifecycle.start_case("simple", CONCERN | {"subject_name": f"Person {i}"}, reporter)
                      for i in range(n)]


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_backup_round_trips_the_database_and_the_documents(own_app, tmp_path):
    reporter, opened = _open_cases(3)
    document = store_upload(Upload("notes.txt", b"What the ward manager said."), reporter, "evidence",
                            case_id=opened[0].id, task_id=None)
    archive = tmp_path / "backups" / "one.tar.gz"
    report = create_backup(archive, tmp_path / "documents")
    assert report.counts["case_record"] == 3 and report.documents == 1
    assert archive.stat().st_mode & 0o777 == 0o600

    db.session.execute(delete(AuditEvent).where(AuditEvent.case_id == opened[2].id))  # a disaster
    db.session.commit()
    (tmp_path / "documents" / document.storage_key).unlink()

    restored = restore_backup(archive, tmp_path / "documents")
    assert restored.intact, (restored.broken, restored.missing)
    assert restored.counts == {k: v for k, v in report.counts.items() if k != "alembic_version"}
    assert (tmp_path / "documents" / document.storage_key).read_bytes() == b"What the ward manager said."
    assert _count(Case) == 3 and _count(Document) == 1


def test_the_manifest_lists_a_sha256_for_every_file(own_app, tmp_path):
    reporter, opened = _open_cases(1)
    store_upload(Upload("notes.txt", b"words"), reporter, "evidence", case_id=opened[0].id, task_id=None)
    archive = tmp_path / "one.tar.gz"
    create_backup(archive, tmp_path / "documents")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))
    assert names == {"manifest.json", *manifest["files"]}
    assert {name.split("/")[0] for name in manifest["files"]} == {manifest["database"], "anchor.jsonl", "documents"}
    assert all(len(entry["sha256"]) == 64 for entry in manifest["files"].values())


def test_a_changed_archive_is_refused_and_nothing_is_restored(own_app, tmp_path):
    _open_cases(2)
    archive = tmp_path / "one.tar.gz"
    create_backup(archive, tmp_path / "documents")
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(tampered, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "anchor.jsonl":
                data = data.replace(b'"system"', b'"systen"')
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    _open_cases(1)
    with pytest.raises(BackupFailed, match="does not match its sha256"):
        restore_backup(tampered, tmp_path / "documents")
    assert _count(Case) == 3  # the database was not touched


def test_a_restored_older_backup_is_caught_by_the_anchor_written_since(own_app, tmp_path):
    _open_cases(2)
    archive = tmp_path / "older.tar.gz"
    create_backup(archive, tmp_path / "documents")
    later = _open_cases(1)[1][0].id
    anchor = tmp_path / "anchors.jsonl"
    write_anchor(anchor)
    restored = restore_backup(archive, tmp_path / "documents")
    assert restored.intact  # the backup is consistent in itself
    missing = check_anchors(anchor.read_text().splitlines())
    assert {problem.stream for problem in missing} == {f"case:{later}"}


def _complete_tasks_until(stop: threading.Event, app, done: list, errors: list) -> None:
    """Open cases and complete their first task, over and over, noting each one committed."""
    with app.app_context():
        try:
            lead, _ = make_user("safeguarding_team")
            reporter, _ = make_user()
            while not stop.is_set():
                case = lifecycle.start_case("simple", CONCERN, reporter)
                task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id,
                                                                 HumanTask.status == "open"))
                human_tasks.complete_task(task.id, lead, {"decision": "close"})
                done.append(case.reference)
        except Exception as err:  # noqa: BLE001 - reported by the test
            errors.append(err)
        finally:
            db.session.remove()


def test_a_backup_taken_while_completions_run_holds_everything_committed_before_it_began(own_app, tmp_path):
    stop, done, errors = threading.Event(), [], []
    writer = threading.Thread(target=_complete_tasks_until, args=(stop, own_app, done, errors))
    writer.start()
    try:
        while len(done) < 5 and writer.is_alive():
            stop.wait(0.05)
        before = list(done)  # every case whose completion had committed when the backup began
        archive = tmp_path / "during.tar.gz"
        report = create_backup(archive, tmp_path / "documents")
        during = len(done) - len(before)
    finally:
        stop.set()
        writer.join()
    assert not errors, errors
    restored = restore_backup(archive, tmp_path / "documents")
    assert restored.intact, (restored.broken, restored.missing)
    held = set(db.session.scalars(select(Case.reference).where(Case.status == "closed")))
    assert set(before) <= held
    assert restored.counts["case_record"] == report.counts["case_record"]
    print(f"{len(before)} committed before the backup, {during} more while it ran")


def test_the_commands_back_up_and_restore_and_print_counts(own_app, tmp_path):
    _open_cases(2)
    runner = own_app.test_cli_runner()
    archive = tmp_path / "cli.tar.gz"
    made = runner.invoke(args=["backup", "--out", str(archive)])
    assert made.exit_code == 0, made.output
    assert "Backup written" in made.output and "case_record: 2" in made.output
    _open_cases(1)
    restored = runner.invoke(args=["restore", str(archive), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert "case_record: 2" in restored.output
    assert "Audit trail intact; every chain head recorded by the backup is present." in restored.output
