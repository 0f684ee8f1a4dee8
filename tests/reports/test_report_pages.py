"""The report pages, through the checking browser: the dashboard and the cases behind each figure
(need to know), the governance report with its charts, CSV and printable version, and the process
audit view with its JSON."""
from __future__ import annotations

import csv
import io

from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditEvent, Case
from app.services.people import staff_number_key
from tests.reports.conftest import run_route
from tests.web.conftest import staff


def test_the_dashboard_counts_the_cases_behind_each_figure(web):
    open_case = run_route("pipot/meeting_deadline_missed_over_christmas").case
    run_route("pipot/threshold_not_met_no_further_action")
    head = staff("head_of_safeguarding")
    web.sign_in(head.username)
    page = web.get("/reports/pipot/dashboard")
    assert page.h1 == "PiPoT dashboard"
    assert "Open cases you may see: 1" in page.words
    stage_link = page.tree.xpath("//table//a[contains(@href, 'figure=stage')]/@href")[0]
    listing = web.get(stage_link)
    assert [a.text_content() for a in listing.tree.xpath("//main//table//a")] == [open_case.reference]
    assert "OFFICIAL-SENSITIVE" in listing.all_words


def test_the_dashboard_leaves_out_a_case_about_the_person_looking(web):
    case = run_route("pipot/meeting_deadline_missed_over_christmas").case
    db.session.execute(update(Case).where(Case.id == case.id).values(subject_staff_number="RD 7",
                                                                   subject_staff_number_key=staff_number_key("RD 7")))
    db.session.commit()
    head = staff("head_of_safeguarding", staff_number="rd7")
    web.sign_in(head.username)
    assert "Open cases you may see: 0" in web.get("/reports/pipot/dashboard").words
    assert case.reference not in web.get("/reports/pipot/dashboard/cases?figure=open_over&value=1").words


def test_the_dashboard_is_the_pathways_managers(web):
    web.sign_in(staff("lado_manager").username)
    web.get("/reports/pipot/dashboard", status=404)
    assert web.get("/reports/lado/dashboard").h1 == "LADO dashboard"
    web.get("/reports/lado/dashboard/cases?figure=nonsense", status=404)


def test_the_governance_report_page_csv_and_print(web):
    case = run_route("pipot/threshold_not_met_complaint").case
    quarter = f"{case.opened_at.year}-Q{(case.opened_at.month - 1) // 3 + 1}"
    web.sign_in(staff("head_of_safeguarding").username)
    page = web.get(f"/reports/pipot/governance?period={quarter}")
    assert page.tree.xpath("//svg[@role='img']"), "charts are drawn on the server"
    assert "Contacts 1" in page.words and "Referrals 1" in page.words  # exact on the page
    response = web.client.get(f"/reports/pipot/governance.csv?period={quarter}")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    contacts = [row for row in rows if row[:1] == ["Contacts and referrals"]]
    assert ["Contacts and referrals", "Contacts opened in the period", "Contacts", "[c]", ""] in contacts
    printable = web.get(f"/reports/pipot/governance/print?period={quarter}")
    assert "[c]" in printable.words and printable.tree.xpath("//svg[@role='img']")
    assert db.session.scalar(select(AuditEvent.event_type).where(AuditEvent.event_type == "report_exported"))


def test_the_auditor_reads_both_pathways_reports_but_not_the_dashboards(web):
    web.sign_in(staff("auditor").username)
    assert web.get("/reports/lado/governance?period=2026").h1 == "1 April 2026 to 31 March 2027"
    assert web.get("/reports/pipot/governance?period=2026-Q4").h1 == "1 October 2026 to 31 December 2026"
    web.get("/reports/pipot/dashboard", status=404)
    web.get("/reports/pipot/governance?period=2026-Q9", status=404)


def test_the_process_audit_view_and_its_json(web):
    run_route("pipot/meeting_deadline_missed_over_christmas")
    web.sign_in(staff("process_owner").username)
    page = web.get("/reports/pipot/process")
    assert "Arrange the PiPoT meeting" in page.words or "Task_arrange_meeting" in page.words
    assert "The list of cases is for the pathway's manager and the auditor." in page.words
    figures = web.client.get("/reports/pipot/process.json").get_json()
    assert figures["elements"]["Timer_meeting_deadline"]["timers_fired"] == 1
    assert figures["elements"]["Task_triage"]["cases"] == 1
    web.get("/reports/lado/process?version=99", status=404)


def test_a_breach_about_the_reader_is_counted_but_not_listed(web):
    case = run_route("pipot/meeting_deadline_missed_over_christmas").case
    other = run_route("pipot/meeting_deadline_missed_over_christmas").case
    db.session.execute(update(Case).where(Case.id == case.id).values(subject_staff_number="RD 9",
                                                                   subject_staff_number_key=staff_number_key("RD 9")))
    db.session.commit()
    quarter = f"{case.opened_at.year}-Q{(case.opened_at.month - 1) // 3 + 1}"
    web.sign_in(staff("head_of_safeguarding", staff_number="rd9").username)
    page = web.get(f"/reports/pipot/governance?period={quarter}")
    assert other.reference in page.words and case.reference not in page.words
    assert "Contacts 2" in page.words
