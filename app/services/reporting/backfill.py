"""Rebuilding the reporting projection (case facts and retention dates) from each case's workflow,
for cases saved before the projection existed (`flask backfill-reporting`)."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from app.extensions import db
from app.models import Case
from app.services.cases.dashboard_counts import recount_case
from app.services.cases.facts import update_reporting_projection
from app.services.cases.lifecycle import load_workflow
from app.workflow import snapshot


def backfill_reporting(case_ids: Iterable[int] | None = None, batch: int = 100) -> int:
    """Rebuild the facts (and retention dates) of every case (or of `case_ids`) from its workflow;
    commits every `batch` cases. Returns how many cases were done. Offline use only: it loads
    each workflow once."""
    ids = list(case_ids) if case_ids is not None else db.session.scalars(select(Case.id).order_by(Case.id)).all()
    for number, case_id in enumerate(ids, 1):
        case = db.session.get(Case, case_id)
        workflow, model = load_workflow(case.instance)
        update_reporting_projection(case, snapshot(workflow, model).data)
        recount_case(case)  # a suspension it now records
        if number % batch == 0:
            db.session.commit()
    db.session.commit()
    return len(ids)
