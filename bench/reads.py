"""Read latency at scale (issue 9, item 4): the inbox page, the case page and the dashboard, measured
in-process through the application (no network), with the query plans of the inbox and the sweep."""
from __future__ import annotations

from lxml import html as lxml_html
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import Case, Role
from app.services import people
from app.services.cases.timers import due_timers_statement
from bench.harness import stopwatch, summary_ms
from bench.plans import explain, uses_index

READER_ROLES = ("safeguarding_team", "reporting_manager", "on_call_manager", "head_of_safeguarding", "lado",
                "lado_manager", "employer_case_manager", "triage_panel", "meeting_chair")


READER_PASSWORD = "bench reader's password"


def _signed_in_client(app, user):
    """A browser signed in through the sign-in page, as a person is (the server keeps the session)."""
    client = app.test_client()
    page = lxml_html.fromstring(client.get("/sign-in").get_data(as_text=True))
    client.post("/sign-in", data={"csrf_token": page.xpath("//input[@name='csrf_token']/@value")[0],
                                  "username": user.username, "password": READER_PASSWORD})
    return client


def _time_get(client, urls: list[str]) -> dict:
    times, statuses = [], set()
    for url in urls:
        with stopwatch(times):
            response = client.get(url)
        statuses.add(response.status_code)
    return summary_ms(times) | {"statuses": sorted(statuses)}


def _inbox_plan(user) -> list[str]:
    from app.services.tasks.queue import QueueFilter, queue_statement

    return explain(queue_statement(user, QueueFilter(), limit=25))


def run(app, samples: int = 100) -> dict:
    with app.app_context():
        roles = [r for r in READER_ROLES if db.session.get(Role, r)]
        reader = people.create_user("bench-reader", "Bench reader", ["staff", *roles], password=READER_PASSWORD)
        references = db.session.scalars(select(Case.reference).order_by(func.random()).limit(samples)).all()
        client = _signed_in_client(app, reader)
        result = {
            "inbox_page": _time_get(client, ["/inbox"] * samples),
            "inbox_page_5": _time_get(client, ["/inbox?page=5"] * (samples // 2)),
            "case_page": _time_get(client, [f"/cases/{ref}" for ref in references]),
            "dashboard": _time_get(client, ["/reports/pipot/dashboard", "/reports/lado/dashboard"] * (samples // 2)),
            "plans": {"inbox": _inbox_plan(reader), "sweep": explain(due_timers_statement(clock.now(), 200))},
        }
        result["plans"]["inbox_uses_index"] = uses_index(result["plans"]["inbox"])
        result["plans"]["sweep_uses_index"] = uses_index(result["plans"]["sweep"])
        db.session.remove()
    return result
