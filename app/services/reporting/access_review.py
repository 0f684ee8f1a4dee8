"""The access review, for the head of safeguarding (PiPoT) and the LADO manager (LADO): who can see
each open case and the rule that lets them, and a review of the access log over a period: views per
person, views by people who are no longer on the case's team, and what people searched for. Snooping
by colleagues is the main insider risk in this field; this is where it shows."""
from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import AccessLog, Case, User
from app.services.access import (
    EVERYONE,
    Viewer,
    can_view_case,
    log_access,
    oversight_units,
    visible_cases_clause,
    who_can_see,
)
from app.services.people import holdings_of
from app.services.report_access import check_pathway, managed_pathways
from app.services.units import unit_tree

CASES_SHOWN = 50
SEARCHES = ("search_cases", "search_people")
VIEWS = ("view_case", "view_task", "view_document", "view_case_events")


@dataclass
class PersonViews:
    name: str
    views: int
    cases: int


@dataclass
class OffTeamView:
    name: str
    reference: str
    views: int
    last: object


@dataclass
class AccessReview:
    pathway: str
    days: int
    cases: list[tuple[Case, list[Viewer]]] = field(default_factory=list)
    per_person: list[PersonViews] = field(default_factory=list)
    off_team: list[OffTeamView] = field(default_factory=list)
    searches: list[tuple[str, int, list[str]]] = field(default_factory=list)  # who, how many, the latest


def access_review(pathway: str, user: User, days: int = 30) -> AccessReview:
    """The review of the pathway's open cases this person oversees, over the last `days` days;
    NotFound unless they manage the pathway. Reading it is itself logged."""
    check_pathway(pathway, managed_pathways(user))
    days = min(max(int(days or 30), 1), 366)
    cases = db.session.scalars(select(Case).where(Case.pathway == pathway, Case.status == "open",
                                                  visible_cases_clause(user, pathway))
                               .order_by(Case.opened_at.desc()).limit(CASES_SHOWN)).all()
    review = AccessReview(pathway, days, [(case, who_can_see(case)) for case in cases])
    _review_log(review, user, clock.now() - timedelta(days=days))
    log_access(user, None, "access_review", {"pathway": pathway, "days": days})
    return review


def _review_log(review: AccessReview, user: User, since) -> None:
    rows = db.session.execute(
        select(AccessLog, User.display_name, Case).join(User, User.id == AccessLog.user_id)
        .join(Case, Case.id == AccessLog.case_id, isouter=True).where(AccessLog.at >= since)
        .order_by(AccessLog.at)).all()
    views = [(log, name, case) for log, name, case in rows
             if case is not None and case.pathway == review.pathway and log.action in VIEWS
             and can_view_case(user, case)]
    counts, distinct = Counter(name for _log, name, _case in views), {}
    for _log, name, case in views:
        distinct.setdefault(name, set()).add(case.id)
    review.per_person = [PersonViews(name, n, len(distinct[name])) for name, n in counts.most_common()]
    review.off_team = _off_team(views)
    in_scope = _people_in_scope(user, review.pathway)
    review.searches = _searches([(log, name) for log, name, case in rows
                                 if log.action in SEARCHES and in_scope(log.user_id)])


def _off_team(views) -> list[OffTeamView]:
    """Views by people who cannot see the case now (they left its team, or never should have seen it)."""
    found: dict[tuple[int, int], OffTeamView] = {}
    people: dict[int, User] = {}
    for log, name, case in views:
        viewer = people.setdefault(log.user_id, db.session.get(User, log.user_id))
        if can_view_case(viewer, case):
            continue
        row = found.setdefault((log.user_id, case.id), OffTeamView(name, case.reference, 0, log.at))
        row.views, row.last = row.views + 1, log.at
    return sorted(found.values(), key=lambda row: (-row.views, row.name))


def _people_in_scope(user: User, pathway: str):
    """Whose searches this reviewer reads: people with no role beyond being a member of staff, and
    people holding a role in a unit the reviewer oversees (not another organisation's staff)."""
    tree = unit_tree()
    units = tree.below(oversight_units(user, pathway))
    cache: dict[int, bool] = {}

    def check(user_id: int) -> bool:
        if user_id not in cache:
            held = {(role, unit) for role, unit in holdings_of(db.session.get(User, user_id)) if role != EVERYONE}
            cache[user_id] = not held or any(unit in units for _role, unit in held)
        return cache[user_id]
    return check


def _searches(rows) -> list[tuple[str, int, list[str]]]:
    by_person: dict[str, list[str]] = {}
    for log, name in rows:
        by_person.setdefault(name, []).append(str((log.detail or {}).get("query", "")))
    return sorted(((name, len(queries), queries[-10:][::-1]) for name, queries in by_person.items()),
                  key=lambda row: -row[1])


def access_review_csv(review: AccessReview) -> str:
    """The review as CSV: one section per table, people named (it is for the manager, not for export)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "case", "person", "detail", "count"])
    for case, viewers in review.cases:
        writer.writerows(["can see", case.reference, v.name, v.rule, ""] for v in viewers)
    writer.writerows(["views", "", p.name, f"{p.cases} cases", p.views] for p in review.per_person)
    writer.writerows(["off the team", r.reference, r.name, f"last {r.last:%Y-%m-%d %H:%M}", r.views]
                     for r in review.off_team)
    writer.writerows(["searches", "", name, " | ".join(latest), n] for name, n, latest in review.searches)
    return out.getvalue()
