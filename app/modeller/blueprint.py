"""The /processes blueprint, shared by the library and the modeller pages."""
from flask import Blueprint

from app.web.errors import register_blueprint_errors

bp = Blueprint("modeller", __name__, url_prefix="/processes", cli_group=None)
register_blueprint_errors(bp)
