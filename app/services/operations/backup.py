"""Backups: the database and the uploaded documents in one archive, with a manifest of sha256 digests.

The database is copied as one consistent snapshot while the service runs: SQLite's online backup
API (a read transaction, so every commit made before it began is in the copy), or `pg_dump` for
PostgreSQL (its snapshot is exported first, so the row counts and chain heads recorded in the
manifest are read from the same snapshot). The documents are copied after it, so every document a
row of the snapshot names is already on disk. The chain heads of the snapshot go in as an anchor
(`anchor.jsonl`): after a restore, every one of them must be present.

Archive (`.tar.gz`): `manifest.json`, `database.sqlite3` or `database.pgdump`, `anchor.jsonl`,
`documents/<storage key>`.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from app import clock
from app.extensions import db
from app.services.operations import postgres
from app.services.operations.anchors import anchor_line

FORMAT = 1
MANIFEST = "manifest.json"
ANCHOR = "anchor.jsonl"
DOCUMENTS = "documents"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}


class BackupFailed(Exception):
    """A backup or restore could not be made; the message says why and what to do."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    started_at: datetime
    dialect: str
    counts: dict[str, int]
    documents: int
    size: int


def create_backup(destination: Path, documents_dir: Path) -> BackupReport:
    """Write a backup archive at `destination` (readable by its owner only)."""
    started = clock.now()
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination.parent) as work:
        folder = Path(work)
        dialect, counts, anchor = _snapshot_database(folder)
        (folder / ANCHOR).write_text(json.dumps(anchor, separators=(",", ":")) + "\n")
        manifest = {"format": FORMAT, "started_at": started.isoformat(), "dialect": dialect,
                    "database": DATABASE_FILES[dialect], "counts": counts, "files": {}}
        documents = _write_archive(destination, folder, manifest, documents_dir)
    return BackupReport(destination, started, dialect, counts, documents, destination.stat().st_size)


def _snapshot_database(folder: Path) -> tuple[str, dict[str, int], dict]:
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        copy = folder / DATABASE_FILES["sqlite"]
        sqlite_copy(sqlite_path(), copy)
        return dialect, *_sqlite_facts(copy)
    if dialect == "postgresql":
        return dialect, *postgres.dump(db.engine, folder / DATABASE_FILES["postgresql"], _read_facts)
    raise BackupFailed(f"Backups of a {dialect} database are not supported.")


def sqlite_path() -> Path:
    """The file of the SQLite database the application uses."""
    return Path(db.engine.url.database)


def sqlite_copy(source: Path, target: Path) -> None:
    """Copy a live SQLite database with its online backup API, in one step: one read transaction,
    so the copy holds every commit made before it began and nothing half-made."""
    live, copy = sqlite3.connect(source, timeout=30), sqlite3.connect(target, timeout=30)
    try:
        live.backup(copy)
    finally:
        copy.close()
        live.close()


def _sqlite_facts(copy: Path) -> tuple[dict[str, int], dict]:
    """Row counts and chain heads, read from the copy itself (through a throwaway engine)."""
    engine = create_engine(f"sqlite:///{copy}")
    try:
        with Session(engine) as session:
            return _read_facts(session)
    finally:
        engine.dispose()


def table_counts(session) -> dict[str, int]:
    """Every table's row count, as `session` sees them."""
    return {table.name: session.scalar(select(func.count()).select_from(table)) for table in db.metadata.sorted_tables}


def _read_facts(session) -> tuple[dict[str, int], dict]:
    """The row counts and an anchor line of every chain head, as `session` sees them."""
    counts = table_counts(session)
    counts["alembic_version"] = session.scalar(text("SELECT count(*) FROM alembic_version"))
    return counts, anchor_line(0, session)


def _write_archive(destination: Path, folder: Path, manifest: dict, documents_dir: Path) -> int:
    partial = destination.with_name(destination.name + ".partial")
    documents = 0
    with tarfile.open(partial, "w:gz") as archive:
        for name in (manifest["database"], ANCHOR):
            _add(archive, folder / name, name, manifest)
        for path in sorted(documents_dir.rglob("*")) if documents_dir.is_dir() else []:
            if path.is_file() and not path.is_symlink():
                _add(archive, path, f"{DOCUMENTS}/{path.relative_to(documents_dir).as_posix()}", manifest)
                documents += 1
        manifest["finished_at"] = clock.now().isoformat()
        body = json.dumps(manifest, indent=1, sort_keys=True).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(body), int(clock.now().timestamp()), 0o600
        archive.addfile(info, io.BytesIO(body))
    os.chmod(partial, 0o600)
    os.replace(partial, destination)
    return documents


def _add(archive: tarfile.TarFile, path: Path, name: str, manifest: dict) -> None:
    manifest["files"][name] = {"sha256": file_sha256(path), "size": path.stat().st_size}
    info = archive.gettarinfo(str(path), arcname=name)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o600
    with open(path, "rb") as source:
        archive.addfile(info, source)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
