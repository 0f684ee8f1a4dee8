"""`flask scenario-check`: a pathway's scenarios run against a candidate model, in this process alone."""
from __future__ import annotations

import json
import os
from pathlib import Path

import click

from app.modeller import bp


@bp.cli.command("scenario-check")
@click.option("--model", "model_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The candidate BPMN file.")
@click.option("--process", "process_key", required=True, help="The process key whose scenarios to run.")
@click.option("--forms", "forms_dir", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--scenarios", "scenarios_dir", required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="Where to write the results (JSON).")
def scenario_check(model_path, process_key, forms_dir, scenarios_dir, out_path):
    """Run the scenario suite of PROCESS against MODEL on a throwaway database; write the results.

    Run by the deploy page in a process of its own: the scenarios move this process's clock.
    """
    from app.services.scenario_checks import run_suite

    model = Path(model_path)
    document = run_suite(model.read_bytes(), model.name, process_key, forms_dir, scenarios_dir)
    out = Path(out_path)
    partial = out.with_suffix(".partial")
    partial.write_text(json.dumps(document, indent=1), encoding="utf-8")
    os.replace(partial, out)  # the page sees either no results or all of them
    failed = [r["scenario"] for r in document["results"] if not r["passed"]]
    click.echo(f"{len(document['results']) - len(failed)} passed, {len(failed)} failed")
    if document["error"]:
        click.echo(f"error: {document['error']}", err=True)
