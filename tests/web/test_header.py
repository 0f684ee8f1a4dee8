"""The header says who is signed in and in which roles; the auditor, who changes nothing, is not offered
"Start a case" (and is refused before filling a form in, not after)."""
from __future__ import annotations

from tests.web.conftest import staff


def test_the_header_names_the_person_and_their_roles(web):
    lead = staff("safeguarding_team", "triage_panel", name="Sara Safeguarding")
    inbox = web.sign_in(lead.username)
    header = " ".join(inbox.tree.xpath("string(//li[contains(@class,'app-signed-in-as')])").split())
    assert header == "Signed in as Sara Safeguarding (Safeguarding team, Triage panel)"
    assert "Start a case" in inbox.links()


def test_the_auditor_is_not_offered_start_a_case(web):
    auditor = staff("auditor", name="Audrey Auditor")
    inbox = web.sign_in(auditor.username)
    assert "Start a case" not in inbox.links()
    web.get("/cases/new", status=403)
