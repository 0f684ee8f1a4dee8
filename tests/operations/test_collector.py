"""The garbage collector of a long-running process (app/collector.py): a process that loads the WSGI
entry point (the web workers, `make run`, `flask --app wsgi worker`) has frozen what it holds by then
and collects its youngest generation after GC_GEN0_THRESHOLD allocations; 0 leaves Python's defaults.
Each case runs in a process of its own: freezing the test run's own objects would keep them for good."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_PROBE = "import gc, json, wsgi; print(json.dumps([gc.get_freeze_count(), gc.get_threshold()]))"


def _loaded_entry_point(tmp_path, **settings: str) -> tuple[int, list[int]]:
    env = ({name: value for name, value in os.environ.items() if name != "GC_GEN0_THRESHOLD"}
           | {"DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}"} | settings)
    out = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout
    frozen, threshold = json.loads(out.strip().splitlines()[-1])
    return frozen, threshold


def test_the_entry_point_freezes_what_the_process_holds_and_collects_less_often(tmp_path):
    frozen, threshold = _loaded_entry_point(tmp_path)
    assert frozen > 10_000  # the modules, the application and its mappers
    assert threshold[0] == 10_000 and threshold[1:] == [10, 10]


def test_a_threshold_of_nought_leaves_pythons_defaults(tmp_path):
    frozen, threshold = _loaded_entry_point(tmp_path, GC_GEN0_THRESHOLD="0")
    assert frozen == 0 and threshold == [700, 10, 10]


def test_the_threshold_is_read_from_the_environment(tmp_path):
    frozen, threshold = _loaded_entry_point(tmp_path, GC_GEN0_THRESHOLD="25000")
    assert frozen > 10_000 and threshold[0] == 25_000
