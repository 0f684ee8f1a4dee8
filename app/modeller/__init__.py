"""The process library, the modeller and the migration of running cases (process owners only).

`bp` carries the pages (`library.py`, `drafts.py`) and the `flask scenario-check` command (`cli.py`).
"""
from flask import Blueprint

from app.web.errors import register_blueprint_errors

bp = Blueprint("modeller", __name__, url_prefix="/processes", cli_group=None)
register_blueprint_errors(bp)

from app.modeller import cli, drafts, library  # noqa: E402,F401  (routes and commands register on bp)
