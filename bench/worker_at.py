"""`python -m bench.worker_at WHEN`: `flask worker` with its clock running on from WHEN, so the
bench's timer backlog falls due at the same point of its working-day clocks on any day it runs."""
from __future__ import annotations

import sys
from datetime import datetime

import time_machine
from flask.cli import main


def run(when: str) -> None:
    with time_machine.travel(datetime.fromisoformat(when), tick=True):
        sys.argv = ["flask", "--app", "wsgi", "worker"]
        main()


if __name__ == "__main__":
    run(sys.argv[1])
