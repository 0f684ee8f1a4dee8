"""Reading a form (JSON Schema + UI schema, bpmn/README.md "Forms") into the fields a page shows.

A `FieldSpec` says what to ask and with which GOV.UK component; names on the page are the field's
path joined with `-` (`attendees-0-name`), which is also how answers' errors are keyed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

WIDGETS = {"text", "textarea", "radios", "checkboxes", "select", "date", "datetime", "file", "hidden",
           "number", "group", "lines"}
RADIOS_UP_TO = 7
# A string answer naming a person (by username, chosen from the people holding `x-roles`) or an
# organisation unit (by key, of the kinds `x-unit-kinds`): a picker, never typed.
LOOKUPS = {"person": "person", "org-unit": "unit"}


@dataclass
class FieldSpec:
    key: str
    label: str
    hint: str = ""
    widget: str = "text"
    kind: str = "string"
    options: list[tuple[Any, str]] = field(default_factory=list)
    reveal: tuple[str, Any] | None = None
    children: list[FieldSpec] = field(default_factory=list)
    conditionals: dict[str, list[FieldSpec]] = field(default_factory=dict)
    item_label: str = ""
    add_label: str = ""
    min_items: int = 0
    rows: int = 5
    width: str = ""
    single: bool = False  # one checkbox that answers yes (a boolean shown as a checkbox)
    lookup: str = ""  # "person" or "unit": the options are people or units, filled in by the service
    lookup_filter: tuple[str, ...] = ()  # the roles the people hold, or the kinds of unit

    @property
    def initial_items(self) -> int:
        return max(self.min_items, 1)

    def revealed(self) -> list[FieldSpec]:
        """The fields shown inside this field's options (conditional reveal)."""
        return [spec for specs in self.conditionals.values() for spec in specs]


def option_value(value: Any) -> str:
    """How an option's value is written in HTML (`true`, `3`, or the text itself)."""
    return value if isinstance(value, str) else json.dumps(value)


def build_specs(schema: dict, ui: dict | None = None) -> list[FieldSpec]:
    """The fields of a form, in order, with conditionally revealed fields attached to their radios."""
    ui = ui or {}
    properties = {key: prop for key, prop in schema.get("properties", {}).items()
                  if not (isinstance(prop, dict) and prop.get("readOnly"))}  # shown, never asked
    specs = [_spec(key, properties[key], ui.get(key) or {}) for key in _order(list(properties), ui)]
    return _attach_reveals(specs)


def read_only_fields(schema: dict) -> dict[str, dict]:
    """The properties a form shows from the case without asking them (`"readOnly": true`)."""
    return {key: prop for key, prop in schema.get("properties", {}).items()
            if isinstance(prop, dict) and prop.get("readOnly")}


def _order(keys: list[str], ui: dict) -> list[str]:
    wanted = ui.get("ui:order")
    if not wanted:
        return keys
    rest = [key for key in keys if key not in wanted]
    ordered: list[str] = []
    for key in wanted:
        if key == "*":
            ordered.extend(rest)
        elif key in keys:
            ordered.append(key)
    return ordered + ([] if "*" in wanted else rest)


def _spec(key: str, prop: dict, ui: dict) -> FieldSpec:
    kind = _kind(prop)
    options = _options(prop)
    spec = FieldSpec(key=key, label=prop.get("title") or _humanise(key),
                     hint=ui.get("ui:hint") or ui.get("ui:help") or prop.get("description", ""),
                     kind=kind, options=options)
    spec.widget = _widget(prop, ui, kind, options)
    if prop.get("format") in LOOKUPS:
        spec.widget, spec.lookup = "select", LOOKUPS[prop["format"]]
        spec.lookup_filter = tuple(prop.get("x-roles") or prop.get("x-unit-kinds") or ())
    reveal = ui.get("ui:reveal")
    if isinstance(reveal, dict) and reveal.get("field"):
        spec.reveal = (reveal["field"], reveal.get("equals", True))
    opts = ui.get("ui:options") or {}
    spec.rows = int(opts.get("rows", 5))
    spec.width = opts.get("width", "")
    if spec.widget == "group":
        _group(spec, prop, ui, opts)
    elif spec.widget == "checkboxes" and kind == "boolean":
        spec.options, spec.single = [(True, spec.label)], True
    elif spec.widget == "checkboxes" and not options:
        spec.options = _options(prop.get("items", {}))
    return spec


def _group(spec: FieldSpec, prop: dict, ui: dict, opts: dict) -> None:
    items = prop.get("items", {})
    spec.children = build_specs(items, ui.get("items") or {})
    spec.item_label = opts.get("itemLabel") or items.get("title") or _singular(spec.label)
    spec.add_label = opts.get("addLabel") or f"Add another {spec.item_label.lower()}"
    spec.min_items = int(prop.get("minItems", 0))


def _kind(prop: dict) -> str:
    kind = prop.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return kind


def _widget(prop: dict, ui: dict, kind: str, options: list) -> str:
    chosen = ui.get("ui:widget")
    if chosen in WIDGETS:
        return chosen
    if kind == "array":
        items = prop.get("items", {})
        if _kind(items) == "object":
            return "group"
        return "checkboxes" if _options(items) else "lines"
    if kind == "boolean" or (options and len(options) <= RADIOS_UP_TO):
        return "radios"
    if options:
        return "select"
    if kind in ("integer", "number"):
        return "number"
    return {"date": "date", "date-time": "datetime"}.get(prop.get("format", ""), "text")


def _options(prop: dict) -> list[tuple[Any, str]]:
    if _kind(prop) == "boolean" and "oneOf" not in prop and "enum" not in prop:
        return [(True, "Yes"), (False, "No")]
    if isinstance(prop.get("oneOf"), list) and all("const" in o for o in prop["oneOf"]):
        return [(o["const"], o.get("title") or _humanise(str(o["const"]))) for o in prop["oneOf"]]
    if isinstance(prop.get("enum"), list):
        names = prop.get("enumNames") or []
        return [(v, names[i] if i < len(names) else _humanise(str(v))) for i, v in enumerate(prop["enum"])]
    return []


def _attach_reveals(specs: list[FieldSpec]) -> list[FieldSpec]:
    by_key = {spec.key: spec for spec in specs}
    shown = []
    for spec in specs:
        controller = by_key.get(spec.reveal[0]) if spec.reveal else None
        if controller is not None and controller.widget in ("radios", "checkboxes"):
            controller.conditionals.setdefault(option_value(spec.reveal[1]), []).append(spec)
        else:
            shown.append(spec)
    return shown


def all_specs(specs: list[FieldSpec]):
    """Every field at this level, including those revealed by an option (and those revealed inside them)."""
    for spec in specs:
        yield spec
        yield from all_specs(spec.revealed())


def _humanise(key: str) -> str:
    text = key.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


def _singular(label: str) -> str:
    word = label.strip()
    if word.lower().endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.lower().endswith("s") else word


@dataclass(frozen=True)
class Section:
    """A part of a long form asked on a page of its own (`"ui:sections"` in the UI schema)."""

    title: str
    keys: tuple[str, ...]


def sections_of(ui: dict | None, specs: list[FieldSpec]) -> list[Section]:
    """The form's sections, each with the top-level fields it asks (a field revealed by another goes
    with it); fields no section names make a last section "Anything else"."""
    wanted = (ui or {}).get("ui:sections")
    if not isinstance(wanted, list) or not wanted:
        return []
    top = [spec.key for spec in specs]
    sections, placed = [], set()
    for item in wanted:
        if not isinstance(item, dict):
            continue
        keys = tuple(key for key in item.get("fields", []) if key in top and key not in placed)
        placed.update(keys)
        if keys:
            sections.append(Section(str(item.get("title") or f"Part {len(sections) + 1}"), keys))
    rest = tuple(key for key in top if key not in placed)
    if rest:
        sections.append(Section("Anything else", rest))
    return sections
