"""Exports of the governance reports: CSV, with small numbers suppressed (app/services/suppression)."""
from __future__ import annotations

import csv
import io

from app.extensions import db
from app.models import User
from app.services.audit import record_event
from app.services.reporting.governance import GovernanceReport
from app.services.reporting.suppression import HIDDEN, HIDDEN_NOTE, Table


def export_report_csv(report: GovernanceReport, user: User) -> tuple[str, str]:
    """(file name, CSV text) of the report, suppressed; the export is written to the audit trail."""
    record_event("report_exported", actor=user, data={"pathway": report.pathway, "period": report.period.key,
                                                      "format": "csv"})
    db.session.commit()
    return f"{report.pathway}-report-{report.period.key}.csv", governance_csv(report)


def governance_csv(report: GovernanceReport) -> str:
    """The report's tables as CSV, suppressed: one line per row, with the table's total and basis."""
    report = report if all(t.suppressed for t in report.tables) else report.suppressed()
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\n")
    out.writerow(["report", f"{report.pathway_name} governance report"])
    out.writerow(["period", report.period.label])
    out.writerow(["generated", report.generated_at.isoformat(timespec="seconds")])
    out.writerow(["note", HIDDEN_NOTE.format(threshold=report.threshold)])
    out.writerow([])
    out.writerow(["table", "basis", "row", "count", "percent"])
    for table in report.tables:
        for row in table.rows:
            out.writerow([table.title, table.basis, row.label, _cell(row.count), _percent(table.share(row))])
        if table.total is not None or table.exclusive:
            out.writerow([table.title, table.basis, table.total_label, _cell(table.total), ""])
    return buffer.getvalue()


def _cell(count: int | None) -> str:
    return HIDDEN if count is None else str(count)


def _percent(share: float | None) -> str:
    return "" if share is None else f"{share:.1f}"


def table_rows(table: Table) -> list[tuple[str, str, str]]:
    """(label, count, percent) of a table as shown in an export."""
    return [(row.label, _cell(row.count), _percent(table.share(row))) for row in table.rows]
