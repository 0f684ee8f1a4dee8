"""Safeguarding case management: PiPoT and LADO pathways run as BPMN processes."""
from __future__ import annotations

from flask import Flask

from app import models  # noqa: F401  (models must be known before migrations run)
from app.admin.routes import bp as admin_bp
from app.api import register_api
from app.api.errors import register_error_handlers
from app.auth.routes import bp as auth_bp
from app.cases.routes import bp as cases_bp
from app.cli import register_cli
from app.config import load_config
from app.db import configure_engine, configure_sessions
from app.extensions import api, csrf, db, migrate
from app.health.routes import bp as health_bp
from app.inbox.routes import bp as inbox_bp
from app.jobs.scheduler import start_background_scheduler
from app.logs import configure_logging
from app.modeller.routes import bp as modeller_bp
from app.notification_settings.routes import bp as notification_settings_bp
from app.reports import register_reports
from app.services.notifications.fanout import configure_fanout
from app.services.units import configure_organisation_reads
from app.web import init_web


def create_app(overrides: dict | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, error handlers, CLI."""
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(load_config(overrides))

    _init_logging(app)
    _init_extensions(app)
    init_web(app)
    _register_blueprints(app)
    register_error_handlers(app)
    register_cli(app)
    if app.config["SCHEDULER_IN_PROCESS"]:
        start_background_scheduler(app)
    return app


def _init_logging(app: Flask) -> None:
    if not app.testing:  # tests keep pytest's own log capture
        configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=app.config["MIGRATIONS_DIR"])
    api.init_app(app)
    configure_sessions()
    configure_fanout()
    configure_organisation_reads()
    with app.app_context():
        configure_engine(db.engine)


def _register_blueprints(app: Flask) -> None:
    register_api(app)
    for blueprint in app.blueprints.values():
        csrf.exempt(blueprint)  # the API: bearer tokens, no cookies
    for blueprint in (auth_bp, inbox_bp, cases_bp, admin_bp, modeller_bp, notification_settings_bp, health_bp):
        app.register_blueprint(blueprint)
    register_reports(app)
