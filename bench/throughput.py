"""Task completions per second through the HTTP API (issue 9, item 3): a production-style server
(gunicorn, 2 workers) and 8 concurrent clients, each completing its own tasks.

The server is warmed first (each client completes a few tasks untimed), as a server that has been up
for a while is: each worker parses the process models and fills its statement caches once."""
from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask
from app.services import people
from app.services.cases import lifecycle
from bench.answers import CONCERN, FIRST_STEPS, FIRST_STEPS_TASKS, MANAGER_ROLES

ROOT = Path(__file__).resolve().parents[1]
WARM_UP = 5  # untimed completions per client before the timed ones


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(clients: int, per_client: int) -> list[tuple[str, list[int]]]:
    """`clients` users with tokens, each with `per_client` first-steps tasks claimed for them."""
    reporter = people.create_user("tp-reporter", "Throughput reporter", ["staff"])
    work = []
    for n in range(clients):
        user = people.create_user(f"tp-manager-{n}", f"Manager {n}", ["staff", *MANAGER_ROLES])
        token = people.issue_api_token(user.username)
        task_ids = []
        for _ in range(per_client):
            case = lifecycle.start_case("pipot", CONCERN, reporter)
            task_ids.append(db.session.scalar(select(HumanTask.id).where(
                HumanTask.case_id == case.id, HumanTask.status == "open", HumanTask.bpmn_id.in_(FIRST_STEPS_TASKS))))
        work.append((token, task_ids))
    db.session.remove()
    return work


def _serve(database_url: str, port: int) -> subprocess.Popen:
    env = os.environ | {"DATABASE_URL": database_url, "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": "0"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = open(ROOT / "bench" / "results" / "gunicorn.log", "w")
    process = subprocess.Popen([str(gunicorn), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                                "wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start; see bench/results/gunicorn.log")


def _client(port: int, token: str, task_ids: list[int], results: list):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = json.dumps({"data": FIRST_STEPS})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for task_id in task_ids:
        connection.request("POST", f"/api/tasks/{task_id}/complete", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        results.append(response.status)
    connection.close()


def _concurrently(port: int, work: list[tuple[str, list[int]]], results: list) -> float:
    """Every client's tasks at once, one thread per client; returns the seconds taken."""
    threads = [threading.Thread(target=_client, args=(port, token, ids, results)) for token, ids in work]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def run(database_url: str, clients: int = 8, per_client: int = 50) -> dict:
    work = _prepare(clients, WARM_UP + per_client)
    port = _free_port()
    server = _serve(database_url, port)
    results: list[int] = []
    try:
        warm_up: list[int] = []
        _concurrently(port, [(token, ids[:WARM_UP]) for token, ids in work], warm_up)
        if warm_up.count(200) != len(warm_up):
            raise RuntimeError(f"warm-up completions failed: {sorted(set(warm_up))}")
        elapsed = _concurrently(port, [(token, ids[WARM_UP:]) for token, ids in work], results)
    finally:
        server.terminate()
        server.wait(timeout=30)
    ok = results.count(200)
    return {"clients": clients, "completions": ok, "errors": len(results) - ok, "seconds": round(elapsed, 2),
            "per_second": round(ok / elapsed, 1) if elapsed else 0.0}
