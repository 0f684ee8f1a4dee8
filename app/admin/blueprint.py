"""The /admin blueprint (system administrators), shared by its route modules."""
from flask import Blueprint

from app.web.errors import register_blueprint_errors

ADMIN = "system_administrator"
bp = Blueprint("admin", __name__, url_prefix="/admin")
register_blueprint_errors(bp)
