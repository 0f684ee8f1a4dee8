"""What a person typed (`values`: page field name -> text, or list for checkboxes) and the answers
it makes (`answers`: the JSON the form's schema checks).

Values are kept exactly as typed so a page can show them again after an error, in a draft, or
after someone else completed the task first. Answers are derived from them only on submit.
"""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from app.formkit.spec import FieldSpec, all_specs, option_value

MAX_ITEMS = 50
DATE_PARTS = ("day", "month", "year")
_MISSING = object()


def read_values(specs: list[FieldSpec], posted: dict[str, list[str]], prefix: str = "") -> dict:
    """The values of a posted form (`posted` maps each name to every value sent under it)."""
    values: dict = {}
    for spec in all_specs(specs):
        name = prefix + spec.key
        if spec.widget == "checkboxes":
            values[name] = [v for v in posted.get(name, []) if v]
        elif spec.widget in ("date", "datetime"):
            for part in _parts(spec):
                values[f"{name}-{part}"] = _first(posted, f"{name}-{part}")
        elif spec.widget == "group":
            count = _count(posted, name, spec)
            values[f"{name}-count"] = str(count)
            for index in range(count):
                values.update(read_values(spec.children, posted, f"{name}-{index}-"))
        else:
            values[name] = _first(posted, name)
    return values


def file_fields(specs: list[FieldSpec], values: dict, prefix: str = "") -> set[str]:
    """The page names of the file fields the form shows (those inside each item of a group too):
    the only names an upload is taken for."""
    names: set[str] = set()
    for spec in all_specs(specs):
        name = prefix + spec.key
        if spec.widget == "file":
            names.add(name)
        elif spec.widget == "group":
            for index in range(item_count(values, name, spec)):
                names |= file_fields(spec.children, values, f"{name}-{index}-")
    return names


def _parts(spec: FieldSpec) -> tuple[str, ...]:
    return DATE_PARTS + (("time",) if spec.widget == "datetime" else ())


def _first(posted: dict[str, list[str]], name: str) -> str:
    sent = posted.get(name) or [""]
    return sent[0] if isinstance(sent, list) else str(sent)


def _count(posted: dict[str, list[str]], name: str, spec: FieldSpec) -> int:
    try:
        count = int(_first(posted, f"{name}-count"))
    except ValueError:
        count = spec.initial_items
    return min(max(count, 0), MAX_ITEMS)


def item_count(values: dict, name: str, spec: FieldSpec) -> int:
    """How many items of a repeating group the page shows."""
    try:
        return min(max(int(values.get(f"{name}-count", spec.initial_items)), 0), MAX_ITEMS)
    except (TypeError, ValueError):
        return spec.initial_items


def apply_action(values: dict, action: str) -> dict:
    """Add or remove an item of a repeating group, or clear an uploaded file; returns new values."""
    verb, _, target = action.partition(":")
    values = dict(values)
    if verb == "add":
        values[f"{target}-count"] = str(min(_int(values.get(f"{target}-count")) + 1, MAX_ITEMS))
    elif verb == "remove":
        name, _, index = target.rpartition(":")
        values = _remove_item(values, name, _int(index))
    elif verb == "remove-file":
        values[target] = ""
    return values


def _remove_item(values: dict, name: str, index: int) -> dict:
    count = _int(values.get(f"{name}-count"))
    if not 0 <= index < count:
        return values
    kept = {}
    for key, value in values.items():
        position = _item_position(key, name)
        if position is None:
            kept[key] = value
        elif position > index:
            kept[f"{name}-{position - 1}-" + key[len(f"{name}-{position}-"):]] = value
        elif position < index:
            kept[key] = value
    kept[f"{name}-count"] = str(count - 1)
    return kept


def _item_position(key: str, name: str) -> int | None:
    if not key.startswith(f"{name}-"):
        return None
    head = key[len(name) + 1:].split("-", 1)
    return int(head[0]) if len(head) == 2 and head[0].isdigit() else None


def _int(text) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return 0


def answers_from(specs: list[FieldSpec], values: dict, *, zone: str = "Europe/London",
                 prefix: str = "") -> dict:
    """The answers the values make. Blank answers are left out (so `required` catches them);
    text that does not make a date or a number is passed on as typed, for the schema to refuse."""
    answers = {}
    for spec in all_specs(specs):
        answer = _answer(spec, values, prefix + spec.key, zone)
        if answer is not _MISSING:
            answers[spec.key] = answer
    for spec in all_specs(specs):
        if spec.reveal and spec.key in answers and not _revealed(spec.reveal, answers):
            del answers[spec.key]  # typed under an option that is no longer chosen
    return answers


def _revealed(reveal: tuple, answers: dict) -> bool:
    field, equals = reveal
    chosen = answers.get(field)
    return equals in chosen if isinstance(chosen, list) else chosen == equals


def _answer(spec: FieldSpec, values: dict, name: str, zone: str):
    if spec.widget == "group":
        return _group_answer(spec, values, name, zone)
    if spec.widget == "date":
        return _date_answer(values, name)
    if spec.widget == "datetime":
        return _datetime_answer(values, name, zone)
    if spec.widget == "checkboxes":
        chosen = [_option(spec, v) for v in values.get(name) or []]
        if spec.single:
            return True if True in chosen else _MISSING
        return chosen or _MISSING
    text = str(values.get(name) or "").strip()
    if not text:
        return _MISSING
    if spec.widget == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()]
    if spec.options:
        return _option(spec, text)
    return _number(text, spec.kind)


def _option(spec: FieldSpec, text: str):
    return next((value for value, _ in spec.options if option_value(value) == text), text)


def _number(text: str, kind: str):
    try:
        if kind == "integer":
            return int(text.replace(",", ""))
        if kind == "number":
            return float(text.replace(",", ""))
    except ValueError:
        pass
    return text


def _group_answer(spec: FieldSpec, values: dict, name: str, zone: str):
    items = [answers_from(spec.children, values, zone=zone, prefix=f"{name}-{i}-")
             for i in range(item_count(values, name, spec))]
    while items and not items[-1]:
        items.pop()  # an untouched last item is not an answer
    return items or _MISSING


def _date_parts(values: dict, name: str) -> tuple[str, str, str]:
    return tuple(str(values.get(f"{name}-{part}") or "").strip() for part in DATE_PARTS)


def _date_answer(values: dict, name: str):
    day, month, year = _date_parts(values, name)
    if not (day or month or year):
        return _MISSING
    parsed = _date(day, month, year)
    return parsed.isoformat() if parsed else f"{year}-{month}-{day}"


def _date(day: str, month: str, year: str) -> date | None:
    try:
        return date(int(year), int(month), int(day)) if len(year) == 4 else None
    except ValueError:
        return None


def _datetime_answer(values: dict, name: str, zone: str):
    day, month, year = _date_parts(values, name)
    clock_text = str(values.get(f"{name}-time") or "").strip()
    if not (day or month or year or clock_text):
        return _MISSING
    parsed, at = _date(day, month, year), _time(clock_text)
    if parsed is None or at is None:
        return f"{year}-{month}-{day} {clock_text}".strip()
    return datetime.combine(parsed, at, tzinfo=ZoneInfo(zone)).isoformat()


def _time(text: str) -> time | None:
    try:
        return time.fromisoformat(text.replace(".", ":").zfill(5))
    except ValueError:
        return None


def values_from(specs: list[FieldSpec], answers: dict, *, zone: str = "Europe/London", prefix: str = "") -> dict:
    """The page values that show `answers` (the inverse of `answers_from`): a form opened with what
    the case already knows. Answers the form does not ask are left out."""
    values: dict = {}
    for spec in all_specs(specs):
        if spec.key not in answers or answers[spec.key] is None:
            continue
        value, name = answers[spec.key], prefix + spec.key
        if spec.widget == "group" and isinstance(value, list):
            items = [item for item in value if isinstance(item, dict)][:MAX_ITEMS]
            values[f"{name}-count"] = str(max(len(items), spec.initial_items))
            for index, item in enumerate(items):
                values.update(values_from(spec.children, item, zone=zone, prefix=f"{name}-{index}-"))
        elif spec.widget in ("date", "datetime"):
            values.update(_date_values(spec, name, value, zone))
        elif spec.widget == "checkboxes":
            chosen = value if isinstance(value, list) else [value]
            values[name] = [option_value(v) for v in chosen if not (spec.single and v is not True)]
        elif spec.widget == "lines" and isinstance(value, list):
            values[name] = "\n".join(str(v) for v in value)
        elif spec.options or isinstance(value, bool):
            values[name] = option_value(value)
        else:
            values[name] = str(value)
    return values


def _date_values(spec: FieldSpec, name: str, value, zone: str) -> dict:
    try:
        if spec.widget == "datetime":
            moment = datetime.fromisoformat(str(value)).astimezone(ZoneInfo(zone))
            day, at = moment.date(), moment.strftime("%H:%M")
        else:
            day, at = date.fromisoformat(str(value)[:10]), ""
    except ValueError:
        return {}
    found = {f"{name}-day": str(day.day), f"{name}-month": str(day.month), f"{name}-year": str(day.year)}
    if spec.widget == "datetime":
        found[f"{name}-time"] = at
    return found
