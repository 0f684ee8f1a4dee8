"""The JSON API (flask-smorest); OpenAPI document at /api/openapi.json."""
from flask import Flask

from app.api.cases import blp as cases_blp
from app.api.tasks import blp as tasks_blp
from app.extensions import api


def register_api(app: Flask) -> None:
    api.register_blueprint(cases_blp)
    api.register_blueprint(tasks_blp)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
