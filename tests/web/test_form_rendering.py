"""Every form in forms/ renders as GOV.UK components on a valid page, and each error an empty
submission gets links to a field on that page."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask import render_template_string
from lxml import html as lxml_html

from app.formkit import answers_from, form_specs, page_errors
from app.services.errors import ValidationFailed
from app.services.forms import check_answers
from tests.web.pages import check_page

ROOT = Path(__file__).resolve().parent.parent.parent
FORMS = sorted(p.name for p in (ROOT / "forms").glob("*.schema.json")) + \
    sorted(f"../tests/data/web/forms/{p.name}" for p in (ROOT / "tests/data/web/forms").glob("*.schema.json"))
PAGE = """{% extends "base.html" %}{% from "forms/fields.html" import fields %}{% set title = "A form" %}
{% block content %}<h1 class="govuk-heading-l">A form</h1><form method="post" novalidate>
{{ fields(specs, {}, errors, {}) }}</form>{% endblock %}"""


def _texts(name: str) -> dict[str, str]:
    schema = ROOT / "forms" / name
    ui = schema.with_name(schema.name.replace(".schema.json", ".uischema.json"))
    texts = {name: schema.read_text(encoding="utf-8")}
    if ui.exists():
        texts[ui.name] = ui.read_text(encoding="utf-8")
    return texts


@pytest.mark.parametrize("name", FORMS, ids=[Path(n).name.removesuffix(".schema.json") for n in FORMS])
def test_the_form_renders_and_its_errors_link_to_its_fields(app, name):
    texts = _texts(name)
    ui_name = next((n for n in texts if n.endswith(".uischema.json")), None)
    specs = form_specs(texts, name, ui_name)
    assert specs, f"{name} has no questions"
    try:
        check_answers(texts[name], answers_from(specs, {}))
        errors = []
    except ValidationFailed as failed:
        errors = page_errors(specs, failed.errors)
    with app.test_request_context("/"):
        page = render_template_string(PAGE, specs=specs, errors={e.name: e.text for e in errors})
    check_page(page)
    ids = {el.get("id") for el in lxml_html.fromstring(page).iter() if el.get("id")}
    assert [e.href for e in errors if e.href[1:] not in ids] == []
