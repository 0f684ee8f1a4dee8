"""The access review: who can see a case and the rule that lets them (the same rules that decide
access), and the access log read for snooping: views per person, views by people no longer on the
team, searches."""
from __future__ import annotations

from app.services import access
from app.services.cases import lifecycle
from app.services.tasks import human_tasks
from tests.need_to_know.conftest import CONCERN
from tests.need_to_know.test_units_and_named_people import _open, _web


def test_who_can_see_a_case_is_exactly_who_may_open_it(app, org):
    case = lifecycle.start_case("pipot", CONCERN | {"case_unit": "care-group-a"}, org.person("raiser"))
    first_steps = _open(case, "Task_first_steps")

    def listed() -> set[int]:
        return {viewer.user_id for viewer in access.who_can_see(case)}

    everyone = [org.person(key) for key in org.people]
    assert listed() == {p.id for p in everyone if access.can_view_case(p, case)}
    assert {org.person("manager-a").id, org.person("head-of-safeguarding").id} <= listed()
    assert org.person("raiser").id not in listed() and org.person("manager-b").id not in listed()
    human_tasks.claim_task(first_steps.id, org.person("manager-a2"))
    assert listed() == {p.id for p in everyone if access.can_view_case(p, case)}
    assert org.person("manager-a").id not in listed()
    rules = {v.name: v.rule for v in access.who_can_see(case)}
    assert "was given “Manager's first steps" in rules[org.person("manager-a2").display_name]


def test_the_review_shows_views_by_someone_no_longer_on_the_team_and_their_searches(app, org):
    case = lifecycle.start_case("pipot", CONCERN | {"case_unit": "care-group-a"}, org.person("raiser"))
    nosy = _web(app, org.person("manager-a"))
    nosy.get(f"/cases/{case.reference}")
    nosy.get("/cases?q=Morgan")
    human_tasks.claim_task(_open(case, "Task_first_steps").id, org.person("manager-a2"))
    head = _web(app, org.person("head-of-safeguarding"))
    page = head.get("/reports/pipot/access-review")
    off_team = page.tree.xpath("//h2[text()='Views by people no longer on the team']/following-sibling::table[1]")[0]
    assert org.person("manager-a").display_name in off_team.text_content()
    assert case.reference in off_team.text_content()
    assert "Morgan" in page.words  # the search
    with app.app_context():
        csv_text = head.client.get("/reports/pipot/access-review.csv").get_data(as_text=True)
    assert f"off the team,{case.reference},{org.person('manager-a').display_name}" in csv_text
    for outsider in ("manager-a", "lado-north"):
        _web(app, org.person(outsider)).get("/reports/pipot/access-review", status=404)
