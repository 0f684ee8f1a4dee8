"""`make bench` at a tiny size, so the benchmarks never rot: every section runs and reports."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_benchmarks_run_at_a_tiny_size(tmp_path):
    databases = "postgresql" if os.environ.get("TEST_DATABASE_URL", "").startswith("postgres") else "sqlite"
    env = os.environ | {"BENCH_CASES": "60", "BENCH_BACKLOG": "20", "BENCH_ITERATIONS": "5",
                        "BENCH_PER_CLIENT": "2", "BENCH_DATABASES": databases,
                        "BENCH_RESULTS": str(tmp_path)}
    if databases == "postgresql":
        env["BENCH_POSTGRES_URL"] = os.environ["TEST_DATABASE_URL"]
    done = subprocess.run([sys.executable, "-m", "bench"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "complete one user task, service, p50 (ms)" in done.stdout
    assert "inbox query plan reads through indexes only" in done.stdout
    assert f"Query plan, inbox, {databases}:" in done.stdout and f"Query plan, sweep, {databases}:" in done.stdout
    results = json.loads((tmp_path / "latest.json").read_text())
    result = results["databases"][databases]
    assert result["population"]["cases"] == 60
    assert result["engine"]["service"]["complete"]["n"] == 5
    # Each start and completion makes at least one new task to tell people about (a step that makes
    # several, such as the stage's watchers or the meeting's decisions, makes more).
    assert result["engine"]["service"]["fan_out_per_task"]["n"] >= 10
    assert result["engine"]["durable_floor"]["start"]["n"] == 5 and result["engine"]["ratio_start_vs_durable_floor"] > 0
    assert result["reference"]["service"]["complete"]["n"] == 5 and result["reference"]["durable_floor"]["complete"]["n"] == 5
    assert result["reference"]["ratio_complete_vs_durable_floor"] > 0
    assert "reference model (10 steps, 1 lane): complete, p50 (ms)" in done.stdout
    assert f"{databases}: reference model:" in done.stderr and "x its floor" in done.stderr  # progress as it goes
    assert result["durability"]["durable"]["n"] == 5 and result["durability"]["relaxed"]["n"] == 5
    assert result["backlog"]["fired_more_than_once"] == 0 and result["backlog"]["not_fired"] == 0
    assert result["throughput"]["errors"] == 0 and result["throughput"]["completions"] == 16
    assert result["reads"]["inbox_page"]["statuses"] == [200]
    assert result["reads"]["case_page"]["statuses"] == [200]
    assert result["reads"]["dashboard"]["statuses"] == [200]
    assert result["size"]["closed"]["total"] > 0
