"""The on-call rota: CSV import (all or nothing, each wrong line named), gaps warned about on the admin
page and by the daily check, which tells the administrators once a day."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import time_machine
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import Notification, OnCallShift, OutboxNotification
from app.services.notifications.rota import find_gaps, on_call_people
from tests.escalations.cases import on_call, person
from tests.web.pages import PASSWORD, WebClient

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
GOOD = """role,username,starts,ends
On-call manager,{manager},2026-11-27 17:00,2026-11-30 09:00
director_on_call,{director},2026-11-27 17:00,2026-11-30 09:00
"""


def _shifts() -> int:
    return db.session.scalar(select(func.count()).select_from(OnCallShift))


def test_a_csv_rota_is_imported_from_the_admin_page(app, app_ctx):
    admin = person("system_administrator", password=PASSWORD)
    manager, director = person("on_call_manager"), person("director_on_call")
    web = WebClient(app, app.test_client())
    with time_machine.travel(MONDAY, tick=False):
        web.sign_in(admin.username)
        form = web.get("/admin/rota/import")
        done = web.submit(form, files={"rota_file": ("rota.csv", GOOD.format(
            manager=manager.username, director=director.username).encode())})
        assert "2 shifts added to the rota." in done.words
        assert done.h1 == "On-call rota"
    shifts = db.session.scalars(select(OnCallShift).order_by(OnCallShift.role_key)).all()
    assert [(s.role_key, s.user_id) for s in shifts] == [("director_on_call", director.id),
                                                         ("on_call_manager", manager.id)]
    assert shifts[0].starts_at == datetime(2026, 11, 27, 17, 0, tzinfo=timezone.utc)  # GMT in November


def test_a_rota_with_a_wrong_line_imports_nothing_and_names_each_wrong_line(app, app_ctx):
    admin = person("system_administrator", password=PASSWORD)
    manager, outsider = person("on_call_manager"), person("lado")
    text = "\n".join([
        "role,username,starts,ends",
        f"On-call manager,{manager.username},2026-11-27 17:00,2026-11-30 09:00",
        f"On-call manager,{outsider.username},2026-11-27 17:00,2026-11-30 09:00",
        "Director on call,nobody-here,2026-11-27 17:00,2026-11-30 09:00",
        f"On-call manager,{manager.username},2026-11-30 09:00,2026-11-27 17:00",
        f"Chief cook,{manager.username},2026-11-27 17:00,2026-11-30 09:00",
        f"On-call manager,{manager.username},Friday teatime,2026-11-30 09:00",
    ])
    web = WebClient(app, app.test_client())
    with time_machine.travel(MONDAY, tick=False):
        web.sign_in(admin.username)
        refused = web.submit(web.get("/admin/rota/import"), {"rota_text": text})
    messages = [message for message, _ in refused.error_summary()]
    assert messages == [
        f"Line 3: {outsider.display_name} does not hold the role On-call manager.",
        "Line 4: there is no active user called “nobody-here”.",
        "Line 5: the shift must end after it starts.",
        "Line 6: “Chief cook” is not a role.",
        "Line 7: write the start and end as YYYY-MM-DD HH:MM (for example 2026-11-27 17:00).",
    ]
    assert refused.field("rota_text") == text  # what was pasted is kept
    assert _shifts() == 0  # line 2 was fine, but nothing is half-imported


def test_gaps_are_a_warning_on_the_rota_page(app, app_ctx):
    admin = person("system_administrator", password=PASSWORD)
    manager, director, ooh = person("on_call_manager"), person("director_on_call"), person("out_of_hours")
    with time_machine.travel(MONDAY, tick=False):
        on_call("on_call_manager", manager, MONDAY - timedelta(hours=1), MONDAY + timedelta(days=3))
        on_call("on_call_manager", manager, MONDAY + timedelta(days=4), MONDAY + timedelta(days=8))
        on_call("director_on_call", director, MONDAY - timedelta(hours=1), MONDAY + timedelta(days=8))
        on_call("out_of_hours", ooh, MONDAY - timedelta(hours=1), MONDAY + timedelta(days=8))
        gaps = find_gaps(MONDAY, MONDAY + timedelta(days=7))
        assert [(g.role_key, g.starts_at, g.ends_at) for g in gaps] == [
            ("on_call_manager", MONDAY + timedelta(days=3), MONDAY + timedelta(days=4))]
        web = WebClient(app, app.test_client())
        web.sign_in(admin.username)
        page = web.get("/admin/rota")
    assert "The rota has gaps" in page.words
    assert "On-call manager: 26 Nov 2026, 10:00 to 27 Nov 2026, 10:00" in page.words


def test_the_daily_check_tells_the_administrators_once_a_day(app, app_ctx, runner):
    admins = [person("system_administrator"), person("system_administrator")]
    with time_machine.travel(MONDAY, tick=False) as clock:
        result = runner.invoke(args=["check-rota"])
        assert result.exit_code == 1 and "GAP On-call manager: nobody on call from" in result.output
        assert runner.invoke(args=["check-rota"]).exit_code == 1  # a second worker, or a restart: no second note
        for admin in admins:
            told = db.session.scalars(select(Notification).where(Notification.user_id == admin.id)).all()
            assert [(n.kind, n.link) for n in told] == [("rota_check", "/admin/rota")]
        assert db.session.scalar(select(func.count()).select_from(OutboxNotification)) == 2
        clock.shift(timedelta(days=1))
        runner.invoke(args=["check-rota"])
        assert db.session.scalar(select(func.count()).select_from(OutboxNotification)) == 4  # the next day, again


def test_with_no_gaps_the_check_is_quiet(app, app_ctx, runner):
    admin = person("system_administrator")
    with time_machine.travel(MONDAY, tick=False):
        for role in ("on_call_manager", "director_on_call", "out_of_hours"):
            on_call(role, person(role), MONDAY - timedelta(days=1), MONDAY + timedelta(days=30))
        result = runner.invoke(args=["check-rota"])
    assert result.exit_code == 0 and "no gaps" in result.output
    assert db.session.scalar(select(func.count()).where(Notification.user_id == admin.id)) == 0


def test_the_outbox_and_the_rota_import_are_for_the_administrator_only(app, app_ctx):
    someone = person("on_call_manager", password=PASSWORD)
    web = WebClient(app, app.test_client())
    web.sign_in(someone.username)
    for url in ("/admin/outbox", "/admin/rota/import"):
        assert web.get(url, status=404).h1 == "Page not found"



def test_finding_who_is_on_call_reads_only_the_shifts_not_yet_ended(app_ctx):
    """Routing asks who is on call now at every step that makes an on-call task. After two years of
    daily shifts, the database must go straight to the shifts that have not ended (the index that
    starts from `ends_at`), not through every past shift of the role."""
    manager = person("on_call_manager")
    db.session.add_all(OnCallShift(role_key="on_call_manager", user_id=manager.id, starts_at=MONDAY - timedelta(days=d),
                                   ends_at=MONDAY - timedelta(days=d - 1)) for d in range(730, 0, -1))
    db.session.commit()
    engine = db.session.get_bind()
    sent = []
    listener = lambda _conn, _cursor, statement, parameters, _context, _many: sent.append((statement, parameters))  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert on_call_people("on_call_manager", at=MONDAY - timedelta(hours=12)) == [manager]
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    [(statement, parameters)] = [(s, p) for s, p in sent if "FROM user_account JOIN on_call_shift" in s]
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN (FORMAT JSON) "
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        plan = " ".join(str(list(row)) for row in conn.exec_driver_sql(explain + statement, parameters))
    assert "ix_on_call_shift_role_ends" in plan, plan
