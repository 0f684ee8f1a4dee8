"""Hostile or careless input to the pages: a clear answer, never a server error, nothing stored."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from app.extensions import db
from app.models import Document, Role
from tests.web.conftest import open_concern, open_task_id, staff

TOO_BIG = "99999999999999999999"  # past 64 bits
PDF = b"%PDF-1.4\n%%EOF\n"


def _every_role_but_the_auditor():
    return [key for key in db.session.scalars(select(Role.key)) if key != "auditor"]


def _paths_with_ids(app):
    for rule in app.url_map.iter_rules():
        ints = [name for name, converter in rule._converters.items() if isinstance(converter, IntegerConverter)]
        if not ints:
            continue
        path = rule.rule
        for name in rule.arguments:
            path = _fill(path, name, TOO_BIG if name in ints else "pipot")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, path


def _fill(path: str, name: str, value: str) -> str:
    start = path.index("<")
    while not path[start:].split(">", 1)[0].endswith(name):
        start = path.index("<", start + 1)
    end = path.index(">", start)
    return path[:start] + value + path[end + 1:]


def test_an_id_past_64_bits_in_any_address_is_not_found(web, app):
    web.sign_in(staff(*_every_role_but_the_auditor()).username)
    tried = []
    for method, path in _paths_with_ids(app):
        with app.app_context():
            response = web.client.open(path, method=method, data={})
        tried.append(path)
        assert response.status_code == 404, f"{method} {path}: {response.status_code}"
    assert "/tasks/" + TOO_BIG in tried and f"/admin/users/{TOO_BIG}" in tried
    assert f"/cases/pipot/documents/{TOO_BIG}" in tried and f"/processes/drafts/{TOO_BIG}" in tried


@pytest.mark.parametrize("query", [f"/inbox?page={TOO_BIG}", f"/inbox?page=-{TOO_BIG}",
                                   f"/processes/pipot/compare?old={TOO_BIG}&new=1"])
def test_a_number_past_64_bits_in_a_query_is_not_a_server_error(web, query):
    web.sign_in(staff(*_every_role_but_the_auditor()).username)
    with web.app.app_context():
        response = web.client.get(query)
    assert response.status_code in (200, 400, 404)


def _triage(web):
    case = open_concern(staff())
    web.sign_in(staff("safeguarding_team").username)
    task_id = open_task_id(case, "Triage the concern")
    return case, task_id, web.get(f"/tasks/{task_id}")


def test_an_answer_past_the_default_length_is_refused_on_the_page(web):
    _, _, page = _triage(web)
    result = web.submit(page, {"decision": "meeting", "risk_level": "low", "notes": "x" * 10_001})
    assert result.error_summary() == [("'Notes' must be 10,000 characters or fewer.", "#notes")]


def test_a_form_may_declare_its_own_length_limit(app_ctx):
    from app.services.errors import ValidationFailed
    from app.services.forms import check_answers

    schema = json.dumps({"type": "object", "properties": {"code": {"type": "string", "title": "Code",
                                                                   "maxLength": 4}}})
    check_answers(schema, {"code": "abcd"})
    with pytest.raises(ValidationFailed) as refused:
        check_answers(schema, {"code": "abcde"})
    assert refused.value.errors == {"code": "'Code' must be 4 characters or fewer."}


def test_a_nul_character_in_a_form_is_refused_with_a_message(web):
    _, _, page = _triage(web)
    result = web.submit(page, {"decision": "meeting", "risk_level": "low", "notes": "before\x00after"}, status=400)
    assert "NUL" in result.words


def test_a_nul_character_in_a_search_is_refused_with_a_message(web):
    web.sign_in(staff().username)
    assert "NUL" in web.get("/cases?q=a%00b", status=400).words


def _upload(web, name: str, content: bytes, field: str = "report-upload", button=None):
    case, task_id, page = _triage(web)
    result = web.submit(page, {"decision": "meeting", "risk_level": "low"}, files={field: (name, content)},
                        button=button)
    return case, task_id, result


@pytest.mark.parametrize("sent, kept", [
    ("re\x00port.pdf", "report.pdf"),
    ("invoice\u202efdp.txt", "invoicefdp.txt"),
    ("\x1b[31mred\x07.pdf", "[31mred.pdf"),
    ("a\u2066b\u2069c\u200f.pdf", "abc.pdf"),
    ("../../etc/notes.txt", "notes.txt"),
])
def test_file_names_are_cleaned_for_storage_and_download(web, documents_dir, sent, kept):
    case, _, result = _upload(web, sent, PDF if kept.endswith(".pdf") else b"plain words")
    assert "You completed" in result.words
    document = db.session.scalar(select(Document))
    assert document.filename == kept
    with web.app.app_context():
        download = web.client.get(f"/cases/{case.reference}/documents/{document.id}")
    assert download.status_code == 200
    assert kept in download.headers["Content-Disposition"]


def test_a_name_that_cleans_to_nothing_gets_a_plain_name(web, documents_dir):
    _, _, result = _upload(web, "\u202e\u200f.pdf", PDF)
    assert db.session.scalar(select(Document.filename)) == "document.pdf"


def test_a_file_sent_for_a_field_that_is_not_a_file_field_is_not_stored(web, documents_dir):
    _, _, result = _upload(web, "notes.txt", b"plain words", field="notes-upload")
    assert "You completed" in result.words
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0


@pytest.mark.parametrize("name, content", [("drawing.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
                                           ("page.html", b"<html><script>alert(1)</script></html>"),
                                           ("big.pdf", PDF + b"0" * (10 * 1024 * 1024))])
def test_a_refused_file_on_save_as_draft_is_reported_on_the_page(web, documents_dir, name, content):
    _, task_id, result = _upload(web, name, content, button=("_action", "draft"))
    assert result.url == f"/tasks/{task_id}"
    assert len(result.error_summary()) == 1 and result.error_summary()[0][1] == "#report"
    assert "You saved a draft of this task" in result.words  # the rest of the answers were kept
    assert result.field("decision") == ["meeting"]
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0


@pytest.mark.parametrize("text", ["before\x00after", "broken \ud800 symbol"])
def test_answers_with_text_that_cannot_be_stored_are_refused_by_the_form_check(app_ctx, text):
    from app.services.errors import ValidationFailed
    from app.services.forms import check_answers

    schema = json.dumps({"type": "object", "properties": {"items": {"type": "array", "items": {
        "type": "object", "properties": {"note": {"type": "string", "title": "Note"}}}}}})
    with pytest.raises(ValidationFailed) as refused:
        check_answers(schema, {"items": [{"note": "fine"}, {"note": text}]})
    assert refused.value.errors == {
        "items.1.note": "Remove the invisible control character or broken symbol from 'Note' and try again."}
