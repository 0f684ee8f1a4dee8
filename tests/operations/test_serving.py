"""Serving: every response carries a request id (the proxy's, or a new one), log lines carry it as
JSON, and the address of a person behind a trusted reverse proxy is read from X-Forwarded-For."""
from __future__ import annotations

import json
import logging

from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.logs import JsonFormatter, RequestIdFilter
from app.models import SignInAttempt


def test_every_response_carries_a_request_id(client):
    first, second = client.get("/sign-in"), client.get("/no-such-page")
    assert len(first.headers["X-Request-ID"]) == 32 and second.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert client.get("/api/tasks").headers["X-Request-ID"]


def test_the_proxys_request_id_is_kept_and_a_strange_one_replaced(client):
    assert client.get("/sign-in", headers={"X-Request-ID": "edge-4f2a.77"}).headers["X-Request-ID"] == "edge-4f2a.77"
    replaced = client.get("/sign-in", headers={"X-Request-ID": "<script>" + "x" * 200}).headers["X-Request-ID"]
    assert replaced != "<script>" and len(replaced) == 32


def test_a_log_line_is_json_with_the_request_id(app):
    with app.test_request_context("/inbox", headers={"X-Request-ID": "abc-123"}):
        app.preprocess_request()
        record = logging.LogRecord("app.services.timers", logging.WARNING, __file__, 1, "stopped at %s", ("X",), None)
        RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "stopped at X" and line["request_id"] == "abc-123"
    assert line["level"] == "WARNING" and line["logger"] == "app.services.timers" and line["time"].endswith("+00:00")


def _failed_sign_in(application, headers: dict) -> str:
    with application.app_context():
        application.test_client().post("/sign-in", data={"username": "nobody", "password": "wrong"},
                                       headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.5"})
        address = db.session.scalar(select(SignInAttempt.address).order_by(SignInAttempt.id.desc()).limit(1))
        db.session.remove()
        return address


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_persons(app, database_url):
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    app.config["WTF_CSRF_ENABLED"], previous = False, app.config.get("WTF_CSRF_ENABLED", True)
    try:
        assert _failed_sign_in(app, forwarded) == "10.0.0.5"  # no proxy trusted: a client cannot claim an address
    finally:
        app.config["WTF_CSRF_ENABLED"] = previous
    proxied = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "SECRET_KEY": "test",
                          "TRUSTED_PROXIES": 1, "WTF_CSRF_ENABLED": False})
    assert _failed_sign_in(proxied, forwarded) == "203.0.113.9"
