"""Errors per field (as `check_answers` reports them) turned into page names and an error summary."""
from __future__ import annotations

from dataclasses import dataclass

from app.formkit.spec import FieldSpec, all_specs


@dataclass(frozen=True)
class PageError:
    name: str  # the page field name, `attendees-0-name`
    text: str
    href: str


def page_errors(specs: list[FieldSpec], errors: dict[str, str]) -> list[PageError]:
    """One entry per error, in the order the fields appear on the page."""
    found = {}
    for key, message in errors.items():
        name = key.replace(".", "-")
        spec, item = _locate(specs, key.split(".") if key else [])
        if spec is not None and spec.widget == "group" and message.startswith("Answer '"):
            message = f"Add at least one entry to '{spec.label}'."
        found[name] = PageError(name, _with_item(message, item), _href(name, spec))
    order = {spec.key: position for position, spec in enumerate(all_specs(specs))}
    return sorted(found.values(), key=lambda e: (order.get(_base(e.name), len(order)), e.name))


def _locate(specs: list[FieldSpec], path: list[str]) -> tuple[FieldSpec | None, str]:
    spec, item = None, ""
    level = specs
    for part in path:
        if part.isdigit() and spec is not None and spec.widget == "group":
            item = f"{spec.item_label.lower()} {int(part) + 1}"
            level = spec.children
            continue
        spec = next((s for s in all_specs(level) if s.key == part), None)
        if spec is None:
            return None, item
    return spec, item


def _with_item(message: str, item: str) -> str:
    if not item:
        return message
    return f"{message.rstrip('.')} ({item})."


def _href(name: str, spec: FieldSpec | None) -> str:
    if not name:
        return "#main-content"
    if spec is not None and spec.widget in ("date", "datetime"):
        return f"#{name}-day"
    return f"#{name}"


def _base(name: str) -> str:
    return name.split("-")[0]

