"""`pg_dump` and `pg_restore` for backups of a PostgreSQL database.

The client tools must be of the server's major version or newer (`pg_dump` refuses an older one):
on Debian, `apt-get install postgresql-client-<major>` (README "Backups"). PG_BIN_DIR names their
folder when they are not on the PATH.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from flask import current_app
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session


class ToolFailed(Exception):
    """A PostgreSQL client tool is missing, too old, or failed; the message says what to do."""


def dump(engine: Engine, target: Path, read_facts) -> tuple:
    """Dump the application's schema to `target` (custom format) from one exported snapshot, and
    return `read_facts(session)` read from that same snapshot."""
    tool = _tool("pg_dump", engine)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        with connection.begin():
            snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
            schema = connection.scalar(text("SELECT current_schema()"))
            only = [f"--schema={schema}"] if schema != "public" else []
            _run([tool, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}", *only,
                  f"--file={target}", f"--dbname={_libpq_url(engine)}"], engine)
            return read_facts(Session(bind=connection))


def restore(engine: Engine, source: Path) -> None:
    """Restore a dump over the application's database: its tables are dropped and created again."""
    tool = _tool("pg_restore", engine)
    _run([tool, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--exit-on-error",
          "--single-transaction", f"--dbname={_libpq_url(engine)}", str(source)], engine)


def _tool(name: str, engine: Engine) -> str:
    folder = current_app.config.get("PG_BIN_DIR") or ""
    path = str(Path(folder) / name) if folder else shutil.which(name)
    if not path or not os.access(path, os.X_OK):
        raise ToolFailed(f"{name} was not found. Install the PostgreSQL client tools of the server's version "
                         "(Debian: apt-get install postgresql-client-<major>) or set PG_BIN_DIR.")
    tool_major, server_major = _major(path), _server_major(engine)
    if tool_major < server_major:
        raise ToolFailed(f"{name} is version {tool_major}, the server {server_major}: install "
                         f"postgresql-client-{server_major} or set PG_BIN_DIR to its folder.")
    return path


def _major(path: str) -> int:
    answer = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout
    found = re.search(r"(\d+)(?:\.\d+)?", answer)
    return int(found.group(1)) if found else 0


def _server_major(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text("SHOW server_version_num"))) // 10000


def _libpq_url(engine: Engine) -> str:
    """The database's URL as libpq reads it (the password goes in the environment, not on the command line)."""
    return engine.url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _run(arguments: list[str], engine: Engine) -> None:
    environment = dict(os.environ)
    if engine.url.password:
        environment["PGPASSWORD"] = str(engine.url.password)
    done = subprocess.run(arguments, capture_output=True, text=True, env=environment)
    if done.returncode != 0:
        raise ToolFailed(f"{Path(arguments[0]).name} failed: {done.stderr.strip()[-2000:]}")
