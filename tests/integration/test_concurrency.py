"""Two people completing the same task at the same moment: exactly one wins."""
from __future__ import annotations

import threading

from app.services.audit import count_events
from app.services.cases import lifecycle
from tests.factories import auth, deploy_test_model, make_user

CONCERN = {"subject_name": "Alex Example", "summary": "Shouted at a patient.", "immediate_danger": False}


def test_two_simultaneous_completions_one_wins_and_one_event_is_written(app, app_ctx):
    deploy_test_model("simple")
    reporter, _ = make_user()
    _, first = make_user("safeguarding_team")
    _, second = make_user("safeguarding_team")
    case = lifecycle.start_case("simple", CONCERN, reporter)
    task_id = case.reference and app.test_client().get("/api/tasks", headers=auth(first)).json[0]["id"]
    before = count_events("task_completed")

    barrier = threading.Barrier(2)
    answers: list[int] = []

    def complete(token, decision):
        client = app.test_client()
        barrier.wait()
        response = client.post(f"/api/tasks/{task_id}/complete", json={"data": {"decision": decision}},
                               headers=auth(token))
        answers.append(response.status_code)

    threads = [threading.Thread(target=complete, args=(first, "close")),
               threading.Thread(target=complete, args=(second, "refer"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # The loser is told 409 while the winner's step is still running, and 404 once it has committed: the
    # task is then closed and was never theirs, so it is no key to the case (need to know).
    assert sorted(answers) in ([200, 404], [200, 409])
    assert count_events("task_completed") == before + 1
    assert count_events("case_closed") == 1
