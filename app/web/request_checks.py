"""Input refused before any view runs: ids past 64 bits, NUL characters, JSON bodies that are
broken, nested too deeply, carry numbers of thousands of digits or text that cannot be stored.

Each refusal is a clear 404 or 400 (JSON under /api/, a page elsewhere), never a server error.
"""
from __future__ import annotations

import json
import re

from flask import Flask, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

MAX_ID = 2 ** 63 - 1  # the largest value of a 64-bit signed column (SQLite INTEGER, PostgreSQL BIGINT)
MAX_JSON_DEPTH = 32
MAX_NUMBER_CHARACTERS = 40
NUL_MESSAGE = ("The form contained a NUL character (an invisible control character, often pasted from "
               "another program). Remove it and try again.")
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: a non-negative integer that fits a 64-bit column, else no match (404)."""

    regex = r"\d{1,19}"

    def __init__(self, url_map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max,
                         signed=signed)


def bounded_int(text: str) -> int:
    """An integer query parameter (`request.args.get(name, type=bounded_int)`): one past 64 bits
    is not a number, so the parameter's default applies."""
    value = int(text)
    if not -MAX_ID <= value <= MAX_ID:
        raise ValueError(f"{text[:30]} is out of range")
    return value


def init_request_checks(app: Flask) -> None:
    """Bounded ids in URLs (before any route is registered) and the request checks."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_unstorable_text)
    app.before_request(_check_json_body)


def _refuse_unstorable_text():
    """A NUL in a query or form value cannot be stored (PostgreSQL refuses it in text)."""
    values = [*request.args.values()]
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        values += [*request.form.values()]
    if any("\x00" in value for value in values):
        _refuse(NUL_MESSAGE)


def _refuse(message: str):
    """A 400 whose message both the error page and the API's JSON answer show."""
    refused = BadRequest(description=message)
    refused.data = {"message": message}  # where the API's error handler reads a message
    raise refused


def _check_json_body():
    """Refuse a JSON body the API could not safely read, before the API parses it."""
    if not request.is_json:
        return
    body = request.get_data(cache=True)
    problem = json_problem(body.decode("utf-8", errors="replace")) if body else None
    if problem:
        _refuse(problem)


def json_problem(text: str) -> str | None:
    """Why this JSON text is refused, or None: broken, nested deeper than MAX_JSON_DEPTH, a number of
    more than MAX_NUMBER_CHARACTERS characters, NaN or Infinity, or text with a NUL or a lone surrogate."""
    if _depth(text) > MAX_JSON_DEPTH:
        return f"The JSON is nested too deeply (more than {MAX_JSON_DEPTH} levels)."
    try:
        value = json.loads(text, parse_int=_number(int), parse_float=_number(float), parse_constant=_constant)
    except _Refused as refused:
        return str(refused)
    except ValueError as err:
        return f"The body is not valid JSON: {str(err)[:200]}"
    return _text_problem(value)


class _Refused(ValueError):
    pass


def _depth(text: str) -> int:
    depth = deepest = 0
    for token in _JSON_TOKENS.finditer(text):
        mark = token.group()
        if mark in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif mark in "]}":
            depth -= 1
    return deepest


def _number(kind):
    def parse(digits: str):
        if len(digits) > MAX_NUMBER_CHARACTERS:
            raise _Refused(f"A number in the JSON is too long (more than {MAX_NUMBER_CHARACTERS} characters).")
        return kind(digits)

    return parse


def _constant(name: str):
    raise _Refused(f"{name} is not a JSON number.")


def _text_problem(value) -> str | None:
    """A NUL or a lone surrogate anywhere in the keys or strings of `value`."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return problem
    return None


def text_problem(text: str) -> str | None:
    """Why a piece of text cannot be stored, or None."""
    if "\x00" in text:
        return "Text must not contain NUL characters (\\u0000)."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Text must not contain a lone surrogate (\\ud800 to \\udfff without its pair): it is not valid Unicode."
    return None
