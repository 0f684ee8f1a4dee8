"""Restoring a backup archive (`backup.py`): check it whole, then put the database and the documents
back, then check the audit trail and the chain heads the backup recorded.

Nothing is touched until every file of the archive matches its sha256 in the manifest. Stop the web
and worker processes first: the database is replaced under them.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from app.extensions import db
from app.services.audit import verify_audit
from app.services.operations import postgres
from app.services.operations.anchors import AnchorProblem, check_anchors
from app.services.operations.backup import (
    ANCHOR,
    DOCUMENTS,
    FORMAT,
    MANIFEST,
    BackupFailed,
    sqlite_copy,
    sqlite_path,
    table_counts,
)


@dataclass
class RestoreReport:
    manifest: dict
    counts: dict[str, int]
    documents: int
    broken: list[tuple[str, int, str]] = field(default_factory=list)
    missing: list[AnchorProblem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.broken and not self.missing


def restore_backup(archive: Path, documents_dir: Path) -> RestoreReport:
    """Check `archive`, restore it over the application's database and documents, verify the result."""
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        manifest = unpack_checked(archive, folder)
        _restore_database(manifest, folder / manifest["database"])
        documents = _restore_documents(folder / DOCUMENTS, documents_dir)
        anchor = (folder / ANCHOR).read_text().splitlines()
    report = RestoreReport(manifest, table_counts(db.session), documents)
    report.broken = verify_audit()
    report.missing = check_anchors(anchor)
    db.session.rollback()
    return report


def unpack_checked(archive: Path, folder: Path) -> dict:
    """Extract every file the manifest lists into `folder`, checking its digest; refuse anything else."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = {member.name: member for member in tar.getmembers()}
            manifest = _manifest(tar, members)
            for name, expected in manifest["files"].items():
                _extract(tar, members.get(name), name, expected, folder)
    except (tarfile.TarError, OSError, EOFError, ValueError, KeyError) as err:
        raise BackupFailed(f"{archive} is not a readable backup archive: {err}") from err
    return manifest


def _manifest(tar: tarfile.TarFile, members: dict) -> dict:
    if MANIFEST not in members:
        raise BackupFailed("The archive has no manifest.json: it is not a backup of this service.")
    manifest = json.load(tar.extractfile(members[MANIFEST]))
    if manifest.get("format") != FORMAT:
        raise BackupFailed(f"The archive's format {manifest.get('format')} is not {FORMAT}.")
    unexpected = sorted(set(members) - set(manifest["files"]) - {MANIFEST})
    if unexpected:
        raise BackupFailed(f"The archive holds files its manifest does not list: {', '.join(unexpected[:5])}.")
    if manifest["dialect"] != db.engine.dialect.name:
        raise BackupFailed(f"This is a backup of a {manifest['dialect']} database; the service uses "
                           f"{db.engine.dialect.name}.")
    return manifest


def _extract(tar: tarfile.TarFile, member, name: str, expected: dict, folder: Path) -> None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupFailed(f"The archive names a file outside it: {name}.")
    if member is None or not member.isfile():
        raise BackupFailed(f"{name} is listed in the manifest but missing from the archive.")
    target = folder / Path(*path.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with tar.extractfile(member) as source, open(target, "wb") as out:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
            out.write(block)
    if digest.hexdigest() != expected["sha256"] or target.stat().st_size != expected["size"]:
        raise BackupFailed(f"{name} does not match its sha256 in the manifest: the archive is damaged "
                           "or was changed. Nothing was restored.")


def _restore_database(manifest: dict, dump: Path) -> None:
    db.session.remove()
    db.engine.dispose()
    if manifest["dialect"] == "sqlite":
        target = sqlite_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        sqlite_copy(dump, target)
    else:
        postgres.restore(db.engine, dump)
    db.engine.dispose()


def _restore_documents(source: Path, documents_dir: Path) -> int:
    """Copy the documents back (each written beside its place, then moved into it)."""
    restored = 0
    for path in sorted(source.rglob("*")) if source.is_dir() else []:
        if path.is_file():
            target = documents_dir / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".restoring")
            shutil.copyfile(path, partial)
            os.replace(partial, target)
            restored += 1
    return restored
