"""Forms as data on pages: read a form's JSON Schema and UI schema into fields, keep what a person
typed, turn it into answers, and show answers back. No Flask and no database here."""
import json

from app.formkit.errors import PageError, page_errors
from app.formkit.spec import FieldSpec, Section, build_specs, option_value, read_only_fields, sections_of
from app.formkit.summary import AnswerRow, describe_answers
from app.formkit.values import answers_from, apply_action, file_fields, item_count, read_values, values_from


def form_specs(forms: dict[str, str], form_name: str | None, ui_name: str | None = None) -> list[FieldSpec]:
    """The fields of a deployed form (`forms` is a definition's form texts by file name)."""
    if not form_name or form_name not in forms:
        return []
    schema = json.loads(forms[form_name])
    ui = json.loads(forms[ui_name]) if ui_name and ui_name in forms else {}
    return build_specs(schema, ui)


def ui_name_for(form_name: str | None, forms: dict[str, str]) -> str | None:
    """`x.schema.json` -> `x.uischema.json`, when the definition carries it."""
    if not form_name:
        return None
    candidate = form_name.replace(".schema.json", ".uischema.json")
    return candidate if candidate in forms else None


__all__ = ["AnswerRow", "FieldSpec", "PageError", "Section", "answers_from", "apply_action", "build_specs",
           "describe_answers", "file_fields", "form_specs", "item_count", "option_value", "page_errors", "read_only_fields", "read_values",
           "sections_of", "ui_name_for", "values_from"]
