"""Python's cyclic garbage collector, set for the long-running processes (the web workers and `flask
worker`).

A step restores a workflow (thousands of small objects in cycles: a task tree points both ways),
runs it and lets it go; with Python's defaults the collector runs every 700 allocations and, each
time it reaches the oldest generation, walks everything the process holds for its life as well: the
modules, the deployed models' specs, the mappers. Measured on the timer sweep, collections took a
sixth of a worker's CPU. So, once the process has loaded the application, what it holds by then is
frozen out of the collector's generations (`gc.freeze`: never walked, never freed), and the youngest
generation is collected after GC_GEN0_THRESHOLD allocations.
"""
from __future__ import annotations

import gc

from flask import Flask


def settle_collector(app: Flask) -> None:
    """Freeze what the process holds now and set the youngest generation's threshold (0: Python's
    defaults, nothing frozen). Call once per process, after the application is created."""
    threshold = app.config["GC_GEN0_THRESHOLD"]
    if not threshold:
        return
    gc.collect()  # the garbage of loading goes, not frozen with what stays
    gc.freeze()
    gc.set_threshold(threshold, *gc.get_threshold()[1:])
