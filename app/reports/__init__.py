"""Reports, audit trails and retention: the governance pages (issue 8).

`register_reports(app)` adds the three blueprints (/reports, /audit, /retention), their commands,
the "Reports" item of the navigation, and the rule that an auditor changes nothing anywhere
(read_only.py).
"""
from __future__ import annotations

from flask import Flask

from app.reports import read_only
from app.reports.audit import bp as audit_bp
from app.reports.cli import register_report_cli
from app.reports.filters import init_filters
from app.reports.retention import bp as retention_bp
from app.reports.routes import bp as reports_bp


def register_reports(app: Flask) -> None:
    """Blueprints, commands, template helpers and the auditor's read-only rule."""
    for blueprint in (reports_bp, audit_bp, retention_bp):
        app.register_blueprint(blueprint)
    app.before_request(read_only.refuse_auditor_changes)
    app.context_processor(read_only.navigation)
    init_filters(app)
    register_report_cli(app)
