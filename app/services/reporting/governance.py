"""The governance reports: the quarterly PiPoT report to the Safeguarding and Mental Capacity Act
meeting (seed 003, section 6 and 12.2) and the annual LADO report (DOMAIN.md, governance and audit).

Both are made of one-way tables of case counts (app/services/suppression.Table), each saying which
cases it counts. They read the case record, case facts, timers and audit events, never a workflow.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from app import clock
from app.calendar import parse_when
from app.services.report_access import PATHWAY_NAMES
from app.services.reporting.adherence import Adherence, measure_adherence, timer_ids
from app.services.reporting.data import (
    CaseRow,
    active_cases,
    completed_tasks,
    group_facts,
    in_period,
    load_cases,
    subject_key,
    subjects_before,
)
from app.services.reporting.labels import labeller
from app.services.reporting.periods import Period
from app.services.reporting.suppression import Row, Table, rate, suppress_table

MEETING_TASKS = {
    "pipot": {"Task_record_attendance": "PiPoT meetings held (each attempt, quorate or not)",
              "Task_outcome_meeting": "Outcome meetings"},
    "lado": {"Task_strategy_discussion_outcome": "Strategy discussions", "Task_pot_meeting": "POT meetings",
             "Task_interim_pot_meeting": "Interim POT meetings", "Task_final_pot_meeting": "Final POT meetings"},
}
OPEN_AT_END = "open_at_end"


@dataclass
class GovernanceReport:
    pathway: str
    pathway_name: str
    period: Period
    generated_at: datetime
    tables: list[Table]
    adherence: Adherence
    threshold: int

    def table(self, key: str) -> Table:
        return next(table for table in self.tables if table.key == key)

    def clock_tables(self) -> list[Table]:
        return [table for table in self.tables if table.key.startswith("clock:")]

    def timeliness(self) -> list[tuple[str, float | None]]:
        """(clock, percentage met of those decided) for each clock; None when hidden or none decided."""
        return [(table.title, self.met_share(table)) for table in self.clock_tables()]

    @staticmethod
    def met_share(table: Table) -> float | None:
        return rate(table.count("met"), _decided(table))

    def suppressed(self) -> "GovernanceReport":
        """The report as it may leave the service: every table suppressed (and no breach list)."""
        tables = [suppress_table(table, self.threshold) for table in self.tables]
        return GovernanceReport(self.pathway, self.pathway_name, self.period, self.generated_at, tables,
                                Adherence(), self.threshold)


def _decided(table: Table) -> int | None:
    met, missed = table.count("met"), table.count("breached")
    return None if met is None or missed is None else met + missed


def governance_report(pathway: str, period: Period) -> GovernanceReport:
    """Every figure of the pathway's governance report for the period."""
    cases = load_cases(active_cases(pathway, period.start, period.end), timer_ids=timer_ids(pathway))
    opened = [case for case in cases if in_period(case.opened_at, period.start, period.end)]
    closed = [case for case in cases if in_period(case.closed_at, period.start, period.end)]
    label, now = labeller(pathway), clock.now()
    adherence = measure_adherence(pathway, opened, now)
    tables = [
        _contacts(pathway, opened),
        _threshold(opened),
        _distribution("source", "Where contacts came from", "Contacts opened in the period", opened, label),
        _distribution("sector", "Sector or employer type" if pathway == "lado" else "How the colleague is engaged",
                      "Contacts opened in the period", opened, label),
        _distribution("category", "Categories of allegation", "Contacts opened in the period (a contact may be in "
                      "more than one category)", opened, label, exclusive=False),
        *([_distribution("met_route", "How allegations meeting the harm threshold were managed",
                         "Referrals opened in the period that met the harm threshold",
                         [case for case in opened if case.fact("threshold_met") == "yes"], label)]
          if pathway == "lado" else []),
        _themes(pathway, cases, opened, period, label),
        _outcomes(opened, period, label),
        _meetings(pathway, period),
        _yes_no("suspensions", "Suspensions", "Cases open at any time in the period", cases, "suspended",
                "Suspended", "Not suspended"),
        _yes_no("dbs_referrals", "Referrals to the Disclosure and Barring Service", "Cases closed in the period",
                closed, "dbs_referral", "DBS referral made", "No DBS referral"),
        _distribution("regulator_referral", "Referrals to a professional regulator", "Cases closed in the period",
                      closed, label),
        _repeat_subjects(pathway, opened, period),
        _lessons(cases, period),
        *[_clock_table(figure) for figure in adherence.figures],
    ]
    return GovernanceReport(pathway, PATHWAY_NAMES.get(pathway, pathway), period, now, tables, adherence,
                            int(current_app.config["REPORT_SUPPRESSION_THRESHOLD"]))


def _contacts(pathway: str, opened: list[CaseRow]) -> Table:
    referrals = sum(1 for case in opened if case.is_yes("referral"))
    other = "Consultations (advice only)" if pathway == "lado" else "Not yet referred for triage"
    return Table("contacts", "Contacts and referrals", "Contacts opened in the period",
                 [Row("referral", "Referrals", referrals), Row("other", other, len(opened) - referrals)],
                 len(opened), "Contacts", chart=False)


def _threshold(opened: list[CaseRow]) -> Table:
    referrals = [case for case in opened if case.is_yes("referral")]
    counts = Counter(case.fact("threshold_met") or "undecided" for case in referrals)
    return Table("threshold", "Threshold decisions", "Referrals opened in the period",
                 [Row("yes", "Threshold met", counts["yes"]), Row("no", "Threshold not met", counts["no"]),
                  Row("undecided", "Not yet decided", counts["undecided"])], len(referrals), "Referrals", chart=False)


def _distribution(key: str, title: str, basis: str, cases: list[CaseRow], label, *, exclusive: bool = True) -> Table:
    counts = group_facts(cases, key)
    missing = sum(1 for case in cases if not case.facts.get(key))
    rows = [Row(value, label(key, value), count) for value, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    if missing:
        rows.append(Row("not_recorded", "Not recorded", missing))
    return Table(key, title, basis, rows, len(cases), exclusive=exclusive)


def _themes(pathway: str, cases: list[CaseRow], opened: list[CaseRow], period: Period, label) -> Table:
    if pathway == "pipot":
        learned = [case for case in cases if _lessons_in(case, period)]
        table = _distribution("theme", "Themes of the learning", "Cases whose lessons learned were recorded in the "
                              "period (a case may have several themes)", learned, label, exclusive=False)
    else:
        table = _distribution("theme", "Themes", "Contacts opened in the period (a case may have several themes)",
                              opened, label, exclusive=False)
    return Table(table.key, table.title, table.basis, [row for row in table.rows if row.key != "not_recorded"],
                 table.total, exclusive=False)


def _outcomes(opened: list[CaseRow], period: Period, label) -> Table:
    counts = Counter((case.outcome or "closed_without_outcome") if case.closed_at and case.closed_at < period.end
                     else OPEN_AT_END for case in opened)
    rows = [Row(value, label("outcome", value), count) for value, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            if value != OPEN_AT_END]
    rows.append(Row(OPEN_AT_END, "Open at the end of the period", counts[OPEN_AT_END]))
    return Table("outcome", "Outcomes", "Contacts opened in the period, by their outcome at the end of the period",
                 rows, len(opened), "Contacts")


def _meetings(pathway: str, period: Period) -> Table:
    names = MEETING_TASKS.get(pathway, {})
    counts = Counter(bpmn_id for _, bpmn_id, _ in completed_tasks(pathway, set(names), period.start, period.end))
    return Table("meetings", "Meetings held", "Meetings recorded in the period",
                 [Row(bpmn_id, name, counts[bpmn_id]) for bpmn_id, name in names.items()],
                 sum(counts.values()), "Meetings")


def _yes_no(key: str, title: str, basis: str, cases: list[CaseRow], fact: str, yes: str, no: str) -> Table:
    count = sum(1 for case in cases if case.is_yes(fact))
    return Table(key, title, basis, [Row("yes", yes, count), Row("no", no, len(cases) - count)], len(cases),
                 chart=False)


def _repeat_subjects(pathway: str, opened: list[CaseRow], period: Period) -> Table:
    first_seen: dict[str, datetime] = {}
    for _, opened_at, key in subjects_before(pathway, period.end):
        if key and (key not in first_seen or opened_at < first_seen[key]):
            first_seen[key] = opened_at
    keys = [(case, subject_key(case.subject_name, case.subject_date_of_birth, case.subject_staff_number))
            for case in opened]
    known = [(case, key) for case, key in keys if key]
    repeats = sum(1 for case, key in known if first_seen[key] < case.opened_at)
    return Table("repeat_subjects", "Repeat subjects", "Contacts opened in the period whose subject is identified "
                 "(by staff number, or name and date of birth)",
                 [Row("repeat", "About someone with an earlier case", repeats),
                  Row("first", "About someone with no earlier case", len(known) - repeats)], len(known), chart=False)


def _lessons(cases: list[CaseRow], period: Period) -> Table:
    count = sum(1 for case in cases if _lessons_in(case, period))
    return Table("lessons", "Lessons learned", "Cases whose lessons learned were recorded in the period",
                 [Row("recorded", "Lessons learned recorded", count)], None, chart=False)


def _lessons_in(case: CaseRow, period: Period) -> bool:
    moment = case.fact("lessons_recorded_at")
    return bool(moment) and in_period(parse_when(moment), period.start, period.end)


def _clock_table(figure) -> Table:
    return Table(f"clock:{figure.rule.key}", figure.rule.title, "Contacts opened in the period that the clock applies to",
                 [Row("met", "Met", figure.met), Row("breached", "Missed", figure.breached),
                  Row("pending", "Still running or not yet due", figure.pending)],
                 figure.met + figure.breached + figure.pending, "Cases", chart=False)
