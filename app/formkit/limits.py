"""Length limits on free text: every string answer of a form has one, its own `maxLength` or the default.

A form file declares `maxLength` on a field that needs a different limit; every other string field
(a free-text answer, or the items of a list of lines) gets DEFAULT_MAX_LENGTH, so no answer can make
a case page megabytes long.
"""
from __future__ import annotations

DEFAULT_MAX_LENGTH = 10_000
_CHOICES = ("enum", "const", "oneOf", "anyOf")


def with_length_limits(schema: dict, default: int = DEFAULT_MAX_LENGTH) -> dict:
    """A copy of a form's JSON Schema in which every string field without `maxLength` has `default`."""
    if not isinstance(schema, dict):
        return schema
    limited = dict(schema)
    if _is_free_text(limited) and "maxLength" not in limited:
        limited["maxLength"] = default
    if isinstance(limited.get("properties"), dict):
        limited["properties"] = {key: with_length_limits(prop, default) for key, prop in limited["properties"].items()}
    if isinstance(limited.get("items"), dict):
        limited["items"] = with_length_limits(limited["items"], default)
    return limited


def _is_free_text(prop: dict) -> bool:
    kind = prop.get("type")
    is_string = kind == "string" or (isinstance(kind, list) and "string" in kind)
    return is_string and not any(choice in prop for choice in _CHOICES)
