"""/healthz: 200 when the service can do its work, 503 when not; no case data, no sign-in."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from app.services.operations.health import check_health
from app.web.access import public

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz():
    config = current_app.config
    health = check_health(config["MIGRATIONS_DIR"], config["HEALTH_SWEEP_STALE_SECONDS"])
    return jsonify(health.as_json()), 200 if health.ok else 503
