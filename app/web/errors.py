"""Error pages for people (the API keeps its JSON answers)."""
from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError

from app.extensions import api
from app.services.errors import Forbidden, NotFound

PAGES = {
    400: ("Sorry, there is a problem with that request", "errors/400.html"),
    403: ("You cannot do that", "errors/403.html"),
    404: ("Page not found", "errors/404.html"),
    405: ("Page not found", "errors/404.html"),
    413: ("The file is too big", "errors/413.html"),
    500: ("Sorry, there is a problem with the service", "errors/500.html"),
}


def init_error_pages(app: Flask) -> None:
    """HTML pages for HTTP errors outside /api/, and for a rejected CSRF token."""
    for code in PAGES:
        app.register_error_handler(code, _page)
    app.register_error_handler(CSRFError, _csrf_page)


def _page(error):
    code = getattr(error, "code", 500) or 500
    if request.path.startswith("/api/"):
        return _api_answer(error, code)
    title, template = PAGES.get(code, PAGES[500])
    return render_template(template, title=title, message=_own_description(error)), code


def _api_answer(error, code: int):
    """The API answers every error in JSON, a server error included (its details go to the log only)."""
    if code != 500:
        return api.handle_http_exception(error)
    return jsonify(code=500, status="Internal Server Error",
                   message="Sorry, there is a problem with the service. Nothing was saved."), 500


def _own_description(error) -> str:
    """The description raised with an error (e.g. why a request was refused), not the stock one."""
    description = getattr(error, "description", None)
    return description if description and description != type(error).description else ""


def _csrf_page(error):
    current_app.logger.info("CSRF refused: %s", error.description)
    return render_template("errors/csrf.html", title="Your form could not be sent"), 400


def page_not_found(error):
    """For blueprints: a service's NotFound becomes the ordinary 404 page."""
    return render_template("errors/404.html", title=PAGES[404][0]), 404


def forbidden(error):
    """For blueprints: a service's Forbidden becomes a 403 page with its message."""
    return render_template("errors/403.html", title=PAGES[403][0], message=error.message), 403


def register_blueprint_errors(blueprint) -> None:
    """Service errors raised by a blueprint's views become pages, not JSON."""
    blueprint.register_error_handler(NotFound, page_not_found)
    blueprint.register_error_handler(Forbidden, forbidden)
