"""The benchmark table: each figure beside its target (issue 9)."""
from __future__ import annotations


def _get(data: dict, *path, default=None):
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return default
        data = data[key]
    return data


TARGETS = [
    ("complete one user task, service, p50 (ms)", ("engine", "service", "complete", "p50_ms"), "<= 3", 3, "max"),
    ("durable floor, complete, p50 (ms)", ("engine", "durable_floor", "complete", "p50_ms"), "", None, None),
    ("commit, waiting for the disk, p50 (ms)", ("durability", "durable", "p50_ms"), "", None, None),
    ("commit, not waiting (NORMAL / off), p50 (ms)", ("durability", "relaxed", "p50_ms"), "", None, None),
    ("SpiffWorkflow in memory, complete, p50 (ms)", ("engine", "in_memory", "complete", "p50_ms"), "", None, None),
    ("complete: service / durable floor", ("engine", "ratio_complete_vs_durable_floor"), "<= 2", 2, "max"),
    ("complete: service / in memory", ("engine", "ratio_complete_vs_in_memory"), "", None, None),
    ("complete one user task, service, p90 (ms)", ("engine", "service", "complete", "p90_ms"), "", None, None),
    ("telling people after the step, per new task, p50 (ms)", ("engine", "service", "fan_out_per_task", "p50_ms"),
     "", None, None),
    ("reference model (10 steps, 1 lane): complete, p50 (ms)", ("reference", "service", "complete", "p50_ms"), "", None,
     None),
    ("reference model: durable floor, complete, p50 (ms)", ("reference", "durable_floor", "complete", "p50_ms"), "", None,
     None),
    ("reference model: service / durable floor", ("reference", "ratio_complete_vs_durable_floor"), "<= 2", 2, "max"),
    ("start a case, service, p50 (ms)", ("engine", "service", "start", "p50_ms"), "<= 5", 5, "max"),
    ("durable floor, start, p50 (ms)", ("engine", "durable_floor", "start", "p50_ms"), "", None, None),
    ("start: service / durable floor", ("engine", "ratio_start_vs_durable_floor"), "<= 2", 2, "max"),
    ("start a case, service, p90 (ms)", ("engine", "service", "start", "p90_ms"), "", None, None),
    ("API completions per second, 8 clients", ("throughput", "per_second"), ">= 150 (PostgreSQL)", 150, "min"),
    ("inbox page p50 (ms)", ("reads", "inbox_page", "p50_ms"), "", None, None),
    ("inbox page p95 (ms)", ("reads", "inbox_page", "p95_ms"), "<= 50", 50, "max"),
    ("case page p50 / p95 (ms)", ("reads", "case_page"), "", None, "pair"),
    ("dashboard p50 / p95 (ms)", ("reads", "dashboard"), "", None, "pair"),
    ("inbox query plan reads through indexes only", ("reads", "plans", "inbox_uses_index"), "yes", True, "yes"),
    ("sweep query plan reads through indexes only", ("reads", "plans", "sweep_uses_index"), "yes", True, "yes"),
    ("sweep, nothing due, p50 (ms)", ("sweep_empty", "p50_ms"), "<= 5", 5, "max"),
    ("waiting timers during that sweep", ("sweep_empty", "waiting_timers"), "", None, None),
    ("timers due at once (cases) / fired exactly once", ("backlog",), "all, once", None, "backlog"),
    ("seconds for two workers to fire them", ("backlog", "seconds"), "<= 60", 60, "max"),
    ("bytes per open case, all tables", ("size", "open", "total"), "", None, None),
    ("bytes per closed case, all tables", ("size", "closed", "total"), "<= 60 KB", 60 * 1024, "max"),
    ("population: cases / seconds to build", ("population",), "", None, "population"),
]


def _cell(result: dict, path, kind) -> str:
    value = _get(result, *path)
    if value is None:
        return "-"
    if kind == "pair":
        return "not built" if value.get("not_built") else f"{value['p50_ms']} / {value['p95_ms']}"
    if kind == "backlog":
        cases = f" ({value['cases']})" if "cases" in value else ""
        return f"{value['timers_due']}{cases} / {value['fired']} (dup {value['fired_more_than_once']})"
    if kind == "population":
        return f"{value['cases']} / {value['seconds']}"
    if kind == "yes":
        return "yes" if value else "no"
    return str(value)


def _verdict(result: dict, path, limit, kind) -> str:
    value = _get(result, *path)
    if kind == "yes" and isinstance(value, bool):
        return "met" if value is limit else "NOT met"
    if limit is None or not isinstance(value, (int, float)):
        return ""
    met = value <= limit if kind == "max" else value >= limit
    return "met" if met else "NOT met"


def render_table(results: dict) -> str:
    names = list(results["databases"])
    header = ["figure", "target", *[f"{n}" for n in names], *[f"{n}?" for n in names]]
    rows = [header]
    for label, path, target, limit, kind in TARGETS:
        cells = [_cell(results["databases"][n], path, kind) for n in names]
        verdicts = [_verdict(results["databases"][n], path, limit, kind) for n in names]
        rows.append([label, target, *cells, *verdicts])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    settings = results["settings"]
    return (f"Benchmarks: {settings['cases']} cases, backlog {settings['backlog']}, "
            f"{settings['iterations']} samples, {results['machine']['cpus']} CPUs\n" + "\n".join(lines))


def render_plans(results: dict) -> str:
    """The query plans of the inbox page and the timer sweep, as each database reported them."""
    sections = []
    for name, result in results["databases"].items():
        plans = _get(result, "reads", "plans", default={})
        for query in ("inbox", "sweep"):
            lines = plans.get(query) or ["(not measured)"]
            sections.append(f"Query plan, {query}, {name}:\n" + "\n".join(f"    {line}" for line in lines))
    return "\n\n".join(sections)
