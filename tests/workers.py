"""Real `flask worker` processes for the tests that need several of them, and waiting on what they do."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from app.extensions import db

ROOT = Path(__file__).resolve().parents[1]


def start_worker(database_url: str, log_dir: Path, n: int, settings: dict[str, str]) -> subprocess.Popen:
    """Worker `n` against `database_url` with these settings, its output in `log_dir`/worker<n>.log."""
    env = os.environ | {"DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"} | settings
    flask = Path(sys.executable).with_name("flask")
    log = open(log_dir / f"worker{n}.log", "w")
    return subprocess.Popen([str(flask), "--app", "wsgi", "worker"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def fresh_count(statement) -> int:
    """A count read in a new transaction, so that the workers' commits are seen."""
    db.session.rollback()
    return db.session.scalar(statement)


def wait_for(condition, seconds: float, every: float = 0.1) -> bool:
    """Whether `condition()` came true within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False
