"""A realistic population for the report tests: a few thousand cases across both pathways, opened over
two years, with a mix of outcomes, open cases and missed clocks.

Templates are the scenario routes of tests/scenarios run through the services (bench/population.py),
at eight base dates a quarter apart, each route cut once half-way (an open case) and once at its end;
they are then cloned in bulk, each route weighted by how often such a case happens. A share of the
clones is then made to be about someone with an earlier case, so that repeat subjects occur.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select, update

from app.extensions import db
from app.models import Case
from bench.harness import analyze
from bench.population import SCENARIOS, Template, build_templates, clone_population

BASES = [datetime(2025, month, day, 10, tzinfo=timezone.utc) for month, day in ((1, 13), (4, 14), (7, 14), (10, 13))]
BASES += [datetime(2026, month, day, 10, tzinfo=timezone.utc) for month, day in ((1, 12), (4, 13), (7, 13), (10, 12))]
ROUTES = {  # route: how many cases like it, relative to the others
    "pipot/outcome_substantiated": 4, "pipot/outcome_unsubstantiated": 4, "pipot/outcome_unfounded": 3,
    "pipot/outcome_false": 2, "pipot/outcome_malicious": 1, "pipot/threshold_not_met_complaint": 3,
    "pipot/threshold_not_met_no_further_action": 3, "pipot/threshold_not_met_practice_concern": 2,
    "pipot/meeting_deadline_missed_over_christmas": 2, "pipot/dbs_referral_required": 2,
    "pipot/out_of_hours_friday_evening": 2, "pipot/resignation_disciplinary_not_completed": 1,
    "lado/pot_meeting_substantiated": 4, "lado/pot_meeting_unsubstantiated": 3, "lado/pot_meeting_unfounded": 4,
    "lado/pot_meeting_false": 1, "lado/pot_meeting_malicious": 1, "lado/consultation_advice_given": 9,
    "lado/below_threshold_advice": 5, "lado/below_threshold_employer_procedures": 3,
    "lado/below_threshold_low_level_concern": 3, "lado/missed_initial_response_escalation": 2,
    "lado/strategy_discussion": 2, "lado/closely_associated_person": 1,
}
CUTS = (0.5, 1.0)
VARIANTS = {  # answers varied from one template to the next (none of them changes the route a case takes)
    "concern_source": ["colleague", "patient", "relative_or_carer", "partner_agency", "whistleblowing",
                       "member_of_public", "police", "colleague", "patient", "cqc"],
    "referrer_agency_type": ["education", "health", "education", "foster_care", "residential_care", "police",
                             "sport_and_leisure", "education", "faith", "voluntary_sector"],
    "organisation_status": ["local_authority", "private", "local_authority", "voluntary"],
    "allegation_categories": [["physical"], ["sexual"], ["emotional"], ["physical", "emotional"], ["neglect"],
                              ["conduct_suitability"], ["physical"], ["transferable_risk"]],
    "subject_suspended": [False, False, True, False, False],
}


def build_population(workdir: Path, total: int = 3000, repeat_every: int = 12) -> list[tuple[str, Template]]:
    """Build the templates and clone them to about `total` cases; returns (route, template) pairs.
    `workdir` holds the scenario files with varied answers."""
    templates = []
    routes = sorted(ROUTES)
    for number, base in enumerate(BASES):
        for index, route in enumerate(routes[number % 2::2]):
            path = _varied(route, number * 7 + index, workdir)
            templates += [(route, t) for t in build_templates(base, [path], cuts=CUTS)]
    scale = total / sum(ROUTES[route] for route, _ in templates)
    first = 100_000
    for route, template in templates:
        count = max(1, round(ROUTES[route] * scale))
        clone_population([template], count, first_number=first, batch=500)
        first += count
    _make_repeat_subjects(repeat_every)
    # the planner's statistics as autovacuum would leave them after the load: without them, a query
    # planned when the tables were empty (an earlier test) walks 100,000 rows per row on PostgreSQL
    analyze()
    return templates


def _varied(route: str, seed: int, workdir: Path) -> Path:
    """The route's scenario with some answers varied by `seed` (written to `workdir`)."""
    scenario = json.loads((SCENARIOS / f"{route}.json").read_text(encoding="utf-8"))
    scenario.pop("known_defect", None)
    for step in scenario["steps"]:
        answers = step.get("answers") or step.get("start", {}).get("answers") or {}
        for field, choices in VARIANTS.items():
            if field in answers:
                answers[field] = choices[seed % len(choices)]
    path = workdir / f"{route.replace('/', '-')}-{seed}.json"
    path.write_text(json.dumps(scenario), encoding="utf-8")
    return path


def _make_repeat_subjects(every: int) -> None:
    """Give every case a staff number of its own, except every `every`th, which is about the subject of
    the latest case opened before it."""
    for pathway in ("pipot", "lado"):
        rows = db.session.execute(select(Case.id, Case.opened_at).where(Case.pathway == pathway)
                                  .order_by(Case.opened_at, Case.id)).all()
        staff_of: dict[int, str] = {}
        earlier = previous = None  # the latest case opened strictly before the current one; the last case
        for number, (case_id, opened_at) in enumerate(rows):
            if previous is not None and previous[1] < opened_at:
                earlier = previous
            staff_of[case_id] = f"{pathway.upper()}-{case_id}"
            if number % every == every - 1 and earlier is not None:
                staff_of[case_id] = staff_of[earlier[0]]
            db.session.execute(update(Case).where(Case.id == case_id).values(subject_staff_number=staff_of[case_id]))
            previous = (case_id, opened_at)
    db.session.commit()
