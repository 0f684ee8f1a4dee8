"""The production shape, for real: gunicorn (gunicorn.conf.py, two web workers) and two `flask worker`
processes on PostgreSQL; a case opened through the API runs to a fired escalation, /healthz says
so, and the access log is JSON lines carrying each request's id. Skipped when PostgreSQL does not
answer."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import AuditEvent
from app.services import definitions, people
from tests.conftest import ROOT, fresh_database
from tests.workers import fresh_count, start_worker, wait_for

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
DATA = ROOT / "tests" / "data" / "engine"
CONCERN = {"subject_name": "Alex Example", "summary": "Shouted at a patient.", "immediate_danger": False}


def _postgres_base() -> str:
    base = os.environ.get("TEST_DATABASE_URL", "")
    base = base if base.startswith("postgres") else PG_DEFAULT
    try:
        psycopg.connect(base, connect_timeout=3).close()
    except psycopg.Error as err:
        pytest.skip(f"PostgreSQL is not reachable ({err})")
    return base


@pytest.fixture
def postgres_app(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_DATABASE_URL", _postgres_base())
    with fresh_database(tmp_path, "served") as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "test"})
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"), revision="heads")
            people.seed_roles()
            yield app, url
            db.session.remove()
            db.engine.dispose()


def _quick_model():
    """The simple test pathway with its review reminder and deadline a few seconds after opening."""
    document = (DATA / "simple.bpmn").read_bytes()
    document = document.replace(b"hours_after(case_opened_at, 2)", b"hours_after(case_opened_at, 0.0005)")
    document = document.replace(b"hours_after(case_opened_at, 4)", b"hours_after(case_opened_at, 0.001)")
    loader = definitions.forms_dir_loader(str(DATA / "forms"))
    definitions.deploy_definition(document, "simple.bpmn", load_form=loader)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gunicorn(url: str, port: int, log_dir: Path) -> subprocess.Popen:
    env = os.environ | {"DATABASE_URL": url, "SECRET_KEY": "served-test", "GUNICORN_BIND": f"127.0.0.1:{port}",
                        "WEB_CONCURRENCY": "2", "LOG_FORMAT": "json", "SCHEDULER_IN_PROCESS": "0"}
    access, errors = open(log_dir / "access.log", "w"), open(log_dir / "gunicorn.log", "w")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    return subprocess.Popen([str(gunicorn), "--config", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
                            stdout=access, stderr=errors)


def _call(base: str, path: str, token: str | None = None, body: dict | None = None, request_id: str = ""):
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    headers |= {"X-Request-ID": request_id} if request_id else {}
    request = urllib.request.Request(base + path, data=json.dumps(body).encode() if body is not None else None,
                                     headers=headers, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read()), dict(answer.headers)
    except urllib.error.HTTPError as failed:
        return failed.code, json.loads(failed.read() or b"null"), dict(failed.headers)
    except OSError:
        return None, None, {}


@pytest.mark.slow
def test_gunicorn_and_two_workers_on_postgresql_run_a_case_to_a_fired_escalation(postgres_app, tmp_path):
    app, url = postgres_app
    _quick_model()
    people.create_user("reporter", "Rae Porter", ["staff"])
    token = people.issue_api_token("reporter")
    db.session.remove()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    processes = [_gunicorn(url, port, tmp_path)]
    try:
        processes += [start_worker(url, tmp_path, n, {"TIMER_SWEEP_SECONDS": "1", "LOG_FORMAT": "json"})
                      for n in (1, 2)]
        assert wait_for(lambda: _call(base, "/healthz")[0] == 200, 120), _call(base, "/healthz")
        status, case, headers = _call(base, "/api/cases", token, {"pathway": "simple", "data": CONCERN},
                                      request_id="ci-open-1")
        assert status == 201, case
        assert headers["X-Request-ID"] == "ci-open-1"
        escalated = select(func.count()).where(AuditEvent.event_type == "escalation_raised")
        assert wait_for(lambda: fresh_count(escalated) >= 1, 120), "no escalation fired"
        status, seen, _ = _call(base, f"/api/cases/{case['reference']}", token)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)

    assert fresh_count(escalated) == 1  # two workers, one escalation
    assert fresh_count(select(func.count()).where(AuditEvent.event_type == "timer_fired")) == 2
    access = [json.loads(line) for line in (tmp_path / "access.log").read_text().splitlines() if line.strip()]
    opened = [line for line in access if line.get("request_id") == "ci-open-1"]
    assert opened and opened[0]["status"] == 201 and opened[0]["path"] == "/api/cases"
