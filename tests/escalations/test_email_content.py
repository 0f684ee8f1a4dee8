"""No email ever carries the subject's name, date of birth or the allegation: every kind of notification
is raised on a real PiPoT case full of them, and every email the SMTP server receives is searched."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import time_machine

from app.services.cases import lifecycle, lists
from app.services.notifications import outbox, rota
from app.services.notifications.mailer import SUBJECTS
from app.services.tasks import inbox
from tests.escalations.cases import (
    ALLEGATION,
    PIPOT,
    PIPOT_START,
    SUBJECT_DOB,
    SUBJECT_NAME,
    complete,
    lado_referral,
    on_call,
    open_tasks,
    person,
    pipot_meeting_due,
    send_mail,
    sweep,
)

TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
FRIDAY_5PM = datetime(2026, 11, 27, 17, 0, tzinfo=timezone.utc)


def _forbidden() -> list[str]:
    born = date.fromisoformat(SUBJECT_DOB)
    words = [SUBJECT_NAME, *SUBJECT_NAME.split(), SUBJECT_DOB, born.strftime("%d/%m/%Y"), born.strftime("%-d %B %Y"),
             born.strftime("%d %B %Y"), ALLEGATION, ALLEGATION[:30], PIPOT_START["raised_by_name"],
             PIPOT_START["subject_work_area"]]
    return [w for w in words if w]


def _texts(messages) -> list[str]:
    out = []
    for message in messages:
        parts = [message] if not message.is_multipart() else list(message.walk())
        body = "\n".join(p.get_payload(decode=True).decode() for p in parts if not p.is_multipart())
        out.append("\n".join([message["Subject"], message["From"], message["To"], body]))
    return out


def test_no_email_of_any_kind_names_the_subject_their_date_of_birth_or_the_allegation(app_ctx, smtp):
    app_ctx.config["MAIL_SUMMARY_THRESHOLD"] = 2  # restored by the mail_settings fixture
    admin = person("system_administrator", name="Ada Admin")
    head = person("head_of_safeguarding", name="Hed Safe")
    crew = {role: person(role) for role in ("reporting_manager", "safeguarding_team", "triage_panel")}
    colleague = person("safeguarding_team", name="Col League")
    digest_reader = person("safeguarding_team", name="Di Gest")
    manager = person("on_call_manager", name="Nia Night")
    with time_machine.travel(TUESDAY, tick=False) as clock:
        def then(minutes: int, action=None):
            clock.shift(timedelta(minutes=minutes))
            if action:
                action()

        outbox.save_preferences(digest_reader, "digest", "08:00")
        on_call("on_call_manager", manager, FRIDAY_5PM - timedelta(days=4), FRIDAY_5PM + timedelta(days=3))
        case = pipot_meeting_due(person(), crew)                       # "task": each new task for the team
        then(5, send_mail)                                             # two at once for some: a summary
        [arrange] = open_tasks(case, "Task_arrange_meeting")
        inbox.reassign_task(arrange.id, crew["safeguarding_team"], colleague.id,
                            f"{SUBJECT_NAME} is known to me")          # "reassigned" (a reason naming the subject)
        then(5, send_mail)
        lists.add_team_member(case.reference, head, admin.username, "Oversight")  # "team"
        then(5, send_mail)
        clock.move_to(datetime(2026, 11, 25, 8, 1, tzinfo=timezone.utc))
        send_mail()                                                    # Di's daily digest
        clock.move_to(FRIDAY_5PM - timedelta(hours=3, minutes=59))     # "reminder": the meeting is due at 17:00
        sweep()
        then(5, send_mail)
        clock.move_to(FRIDAY_5PM + timedelta(minutes=1))               # "escalation"
        sweep()
        then(5, send_mail)
        clock.move_to(FRIDAY_5PM + timedelta(hours=2, minutes=2))      # nobody is director on call: "rota_gap"
        sweep()
        then(5, send_mail)
        rota.check_rota()                                              # "rota_check"
        then(5, send_mail)
        clock.move_to(FRIDAY_5PM + timedelta(hours=3))                 # a concern raised out of hours goes to
        out_of_hours = lifecycle.start_case("pipot", PIPOT_START, person())  # the on-call manager: "on_call"
        then(5, send_mail)
        unheld = lado_referral(person())                               # nobody holds the LADO role: "no_holder"
        then(5, send_mail)
        complete(case, "Task_escalate_meeting_on_call", manager)
        then(5, send_mail)
        complete(out_of_hours, "Task_first_steps_on_call", manager, PIPOT["Task_first_steps"])  # "stage": the head of
        then(5, send_mail)                                                                   # safeguarding is told

    subjects = [m["Subject"] for m in smtp.messages]
    for kind in SUBJECTS:
        assert any(SUBJECTS[kind] in s for s in subjects), f"no {kind} email among {subjects}"
    assert any("need your attention" in s for s in subjects), "no summary"
    assert any("daily digest" in s for s in subjects), "no digest"
    for text in _texts(smtp.messages):
        for word in _forbidden():
            assert word.lower() not in text.lower(), f"{word!r} in an email:\n{text}"
        assert any(c.reference in text for c in (case, out_of_hours, unheld)) or "rota" in text.lower()
