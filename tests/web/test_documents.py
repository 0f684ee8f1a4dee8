"""File uploads on forms: type and size limits with a clear message, nothing lost on the way."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Document
from tests.web.conftest import open_concern, open_task_id, staff

PDF = b"%PDF-1.4\n%%EOF\n"


def _triage(web):
    case = open_concern(staff())
    web.sign_in(staff("safeguarding_team").username)
    return case, web.get(f"/tasks/{open_task_id(case, 'Triage the concern')}")


def test_a_file_of_the_wrong_type_is_refused_with_a_clear_message(web, documents_dir):
    _, page = _triage(web)
    result = web.submit(page, {"decision": "meeting", "risk_level": "low"},
                        files={"report-upload": ("payload.exe", b"MZ\x90\x00 not a document")})
    assert result.error_summary() == [
        ("The selected file must be a PDF, Word (DOCX), OpenDocument text (ODT), Excel (XLSX), PNG, JPEG or plain text file.",
         "#report")]
    assert result.field("decision") == ["meeting"]  # the rest of the answers kept
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0


def test_a_file_whose_content_is_not_what_its_name_says_is_refused(web, documents_dir):
    _, page = _triage(web)
    result = web.submit(page, {"decision": "meeting", "risk_level": "low"},
                        files={"report-upload": ("report.pdf", b"<html><script>alert(1)</script></html>")})
    assert "The selected file must be a PDF" in result.error_summary()[0][0]


def test_a_file_over_the_size_limit_is_refused(web, documents_dir, app):
    _, page = _triage(web)
    limit = app.config["MAX_UPLOAD_BYTES"]
    result = web.submit(page, {"decision": "meeting", "risk_level": "low"},
                        files={"report-upload": ("big.pdf", PDF + b"0" * limit)})
    assert result.error_summary() == [(f"The selected file must be smaller than {limit // (1024 * 1024)} MB.", "#report")]


def test_a_request_far_over_the_limit_gets_a_page_saying_so(web, documents_dir, app):
    _, page = _triage(web)
    result = web.submit(page, files={"report-upload": ("huge.pdf", PDF + b"0" * app.config["MAX_CONTENT_LENGTH"])},
                        status=413)
    assert result.h1 == "The file is too big"


def test_an_upload_survives_errors_elsewhere_and_is_attached_on_submit(web, documents_dir):
    case, page = _triage(web)
    result = web.submit(page, {"decision": "meeting"}, files={"report-upload": ("notes.txt", b"Met the ward manager.")})
    assert result.error_summary() == [("Answer 'Risk level'.", "#risk_level")]
    assert "Uploaded: notes.txt" in result.words
    done = web.submit(result, {"risk_level": "medium"})
    assert "You completed" in done.words
    case_page = web.get(f"/cases/{case.reference}")
    assert "notes.txt" in case_page.tree.xpath("//h2[@id='documents']/following-sibling::ul[1]")[0].text_content()
    assert case_page.tree.xpath("//details//a[text()='notes.txt']")  # beside the answers in the timeline


def test_a_referral_can_carry_a_file(web, other_web, documents_dir):
    from tests.web.conftest import deploy

    deploy("web", "concern")
    web.sign_in(staff().username)
    page = web.get("/cases/new/concern")
    receipt = web.submit(page, {"subject_name": "Alex Example", "summary": "Pushed a patient",
                                "immediate_danger": "true", "police_reference": "CAD 123"},
                         files={"evidence-upload": ("statement.pdf", PDF)})
    reference = receipt.tree.xpath("//div[contains(@class, 'govuk-panel__body')]//strong/text()")[0]
    assert "statement.pdf" not in receipt.words  # the raiser keeps a receipt; the team sees the file
    other_web.sign_in(staff("safeguarding_team").username)
    case_page = other_web.get(f"/cases/{reference}")
    assert "statement.pdf" in case_page.words
    assert "CAD 123" in case_page.words
