"""Words for the values reports count, read from the deployed forms (each option's title), so a
process owner who adds an option to a form sees it named in the reports without a code change."""
from __future__ import annotations

import json
from collections.abc import Callable

from app.services.definitions import latest_definition

FORM_FIELDS = {
    "source": ("concern_source", "referrer_agency_type"),
    "sector": ("employment_basis", "organisation_status"),
    "category": ("threshold_limbs", "allegation_categories", "consultation_category"),
    "theme": ("learning_themes",),
    "outcome": ("overall_outcome", "final_outcome", "not_met_route", "below_threshold_route"),
    "regulator_referral": ("regulator", "regulator_referral"),
    "met_route": ("met_route",),
}
OWN_WORDS = {
    "pipot_case": "A linked PiPoT case",
    "advice_given": "Advice given (consultation)",
    "advice": "Below the threshold: advice to the employer",
    "employer_procedures": "Below the threshold: the employer's own procedures",
    "low_level_concern": "Below the threshold: low-level concern",
    "historical_allegation": "Historical allegation",
    "closely_associated_person": "Someone closely associated with a member of staff",
    "transferable_risk": "Transferable risk from their private life",
    "after_authorised_restraint": "After authorised restraint",
    "no_named_children": "No named children",
    "health_professional": "The person is a health professional",
    "media_interest": "Media interest",
    "none": "None",
    "other": "Other",
    "not_recorded": "Not recorded",
}


def labeller(pathway: str) -> Callable[[str, str], str]:
    """label(fact key, value): the form's words for the value, else readable text."""
    words = _form_words(pathway)

    def label(key: str, value: str) -> str:
        return words.get((key, value)) or OWN_WORDS.get(value) or value.replace("_", " ").capitalize()

    return label


def _form_words(pathway: str) -> dict[tuple[str, str], str]:
    definition = latest_definition(pathway, required=False)
    if definition is None:
        return {}
    fields = {field: key for key, names in FORM_FIELDS.items() for field in names}
    words: dict[tuple[str, str], str] = {}
    for text in definition.forms.values():
        try:
            properties = json.loads(text).get("properties") or {}
        except (ValueError, AttributeError):
            continue
        for name, spec in properties.items():
            if name in fields and isinstance(spec, dict):
                for value, title in _options(spec):
                    words.setdefault((fields[name], value), _term(title))
    return words


def _term(title: str) -> str:
    """"Substantiated: there is sufficient evidence..." is named "Substantiated"."""
    term, colon, _ = title.partition(": ")
    return term if colon and len(term) <= 40 else title


def _options(spec: dict):
    spec = spec.get("items", spec) if spec.get("type") == "array" else spec
    for option in spec.get("oneOf") or []:
        if isinstance(option, dict) and "const" in option:
            yield str(option["const"]), option.get("title") or str(option["const"])
    names = spec.get("enumNames") or []
    for index, value in enumerate(spec.get("enum") or []):
        yield str(value), names[index] if index < len(names) else str(value).replace("_", " ").capitalize()
