"""The demo organisation shows the difference units make: a Northshire referral reaches Northshire's
LADO and not Southby's; a concern in one care group reaches that care group's managers only."""
from __future__ import annotations

import json

from app.config import PROJECT_ROOT
from app.services import people
from app.services.cases import lifecycle
from app.services.tasks import human_tasks
from tests.need_to_know.conftest import CONCERN

SCENARIO = PROJECT_ROOT / "tests" / "scenarios" / "lado" / "pot_meeting_substantiated.json"


def _referral() -> dict:
    steps = json.loads(SCENARIO.read_text(encoding="utf-8"))["steps"]
    return next(step["start"]["answers"] for step in steps if "start" in step)


def test_demo_setup_places_people_where_they_work(app_ctx, runner):
    done = runner.invoke(args=["demo-setup"])
    assert done.exit_code == 0, done.output
    assert "28 demo users" in done.output
    assert runner.invoke(args=["demo-setup"]).exit_code == 0  # again: nothing changes
    staff = people.get_user("staff")
    lado_case = lifecycle.start_case("lado", _referral() | {"case_unit": "northshire-lado"}, staff)
    concern = lifecycle.start_case("pipot", CONCERN | {"case_unit": "ld-care-group"}, staff)
    titles = {username: [t.title for t in human_tasks.list_tasks(people.get_user(username))]
              for username in ("lado", "lado-southby", "reporting-manager", "reporting-manager-ld")}
    assert titles["lado"] == ["Make the initial response"] and titles["lado-southby"] == []
    assert titles["reporting-manager-ld"] and titles["reporting-manager"] == []
    assert lado_case.reference.startswith("LADO-") and concern.reference.startswith("PIPOT-")
