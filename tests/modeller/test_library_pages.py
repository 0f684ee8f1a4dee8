"""The process library: processes and versions, downloads, the difference between two versions, and who
may see any of it."""
from __future__ import annotations

import io
import zipfile

from app.services import definitions
from tests.modeller.models import pipot_bytes, pipot_with_manager_check
from tests.web.conftest import staff


def test_only_process_owners_see_the_library(web, pipot):
    web.sign_in(staff("safeguarding_team").username)
    for url in ("/processes", "/processes/pipot", "/processes/pipot/versions/1.bpmn", "/processes/pipot/versions/1/migrate"):
        assert web.get(url, status=404).h1 == "Page not found"
    assert "Processes" not in web.get("/inbox").all_words


def test_the_library_lists_each_process_with_its_versions(web, owner, pipot):
    definitions.deploy_definition(pipot_with_manager_check(), "pipot.bpmn", actor=owner, change_note="A manager's check")
    web.sign_in(owner.username)
    library = web.get("/processes")
    assert "Processes" in library.all_words
    assert "Version 2" in library.words
    page = web.get("/processes/pipot")
    assert page.h1 == pipot.name
    rows = page.tree.xpath("//table[contains(@class,'app-versions')]/tbody/tr")
    assert len(rows) == 2
    assert "by Pat Owner" in rows[0].text_content() and "A manager's check" in rows[0].text_content()
    assert pipot.sha256 in rows[1].text_content()


def test_any_version_and_its_forms_can_be_downloaded(web, owner, pipot):
    web.sign_in(owner.username)
    with web.app.app_context():
        response = web.client.get("/processes/pipot/versions/1.bpmn")
        forms = web.client.get("/processes/pipot/versions/1/forms.zip")
    assert response.data == pipot_bytes()
    assert "attachment" in response.headers["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(forms.data)).namelist()
    assert "forms/pipot_concern.schema.json" in names and len(names) == len(pipot.forms)


def test_two_versions_are_compared_element_by_element(web, owner, pipot):
    definitions.deploy_definition(pipot_with_manager_check(), "pipot.bpmn", actor=owner, change_note="A check")
    web.sign_in(owner.username)
    page = web.get("/processes/pipot/compare?old=1&new=2")
    assert page.h1 == "What changed from version 1 to version 2"
    rows = [" ".join(" ".join(r.itertext()).split()) for r in page.tree.xpath("//main//table//tbody/tr")]
    assert "Check the first steps Task_manager_check userTask Added" in rows
    assert "Flow_first_steps_to_merge sequenceFlow Changed where it goes" in rows
    marked = page.tree.xpath("//*[@id='diagram-new']//*[@data-element-id='Task_manager_check']/@class")
    assert marked and "app-mark--added" in marked[0]


def test_any_member_of_staff_may_read_a_diagram_but_not_change_it(web, pipot):
    web.sign_in(staff("triage_panel").username)
    with web.app.app_context():
        assert web.client.get("/processes/pipot/versions/1/diagram.bpmn").data == pipot_bytes()
        assert web.client.post("/processes/pipot/versions/1/draft").status_code in (400, 404)
