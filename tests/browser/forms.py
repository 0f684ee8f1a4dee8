"""Filling in a form rendered from a JSON Schema the way a person would: typing, choosing options,
and pressing "Add another" for each extra item of a repeating group."""
from __future__ import annotations

from datetime import date

from tests.browser.conftest import axe_violations


def fill_form(page, answers: dict, prefix: str = "") -> None:
    """Fill in `answers` (the JSON a form produces); choices first, so revealed fields are shown."""
    ordered = sorted(answers.items(), key=lambda pair: not isinstance(pair[1], (bool, list)))
    for key, value in ordered:
        _fill(page, prefix + key, value)


def _fill(page, name: str, value) -> None:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        _fill_group(page, name, value)
    elif isinstance(value, list):
        _fill_list(page, name, value)
    elif isinstance(value, bool):
        _choose(page, name, "true" if value else "false", single=value)
    elif page.locator(f"[name='{name}-day']").count():
        day = date.fromisoformat(value)
        for part, text in (("day", day.day), ("month", day.month), ("year", day.year)):
            page.fill(f"[name='{name}-{part}']", str(text))
    else:
        field = page.locator(f"[name='{name}']").first
        kind = field.evaluate("el => el.tagName.toLowerCase() + ':' + (el.type || '')")
        if kind.startswith("select"):
            field.select_option(str(value))
        elif kind.endswith("radio"):
            page.check(f"input[name='{name}'][value='{value}']")
        else:
            field.fill(str(value))


def _choose(page, name: str, html_value: str, single: bool) -> None:
    radio = page.locator(f"input[type='radio'][name='{name}'][value='{html_value}']")
    if radio.count():
        radio.check()
    elif single:  # a single "I confirm" checkbox
        page.check(f"input[type='checkbox'][name='{name}']")


def _fill_list(page, name: str, values: list) -> None:
    boxes = page.locator(f"input[type='checkbox'][name='{name}']")
    if boxes.count():
        for value in values:
            page.check(f"input[type='checkbox'][name='{name}'][value='{value}']")
    else:
        page.fill(f"[name='{name}']", "\n".join(str(v) for v in values))


def _fill_group(page, name: str, items: list[dict]) -> None:
    for index, item in enumerate(items):
        first_key = next(iter(item))
        if not page.locator(f"[name='{name}-{index}-{first_key}']").count():
            page.click(f"button[name='_action'][value='add:{name}']")
            assert_accessible(page)
        fill_form(page, item, prefix=f"{name}-{index}-")


def assert_accessible(page) -> None:
    """No serious or critical axe-core violations, and nothing refused by the CSP."""
    page.wait_for_load_state()  # a click that posts a form may still be loading the page it leads to
    problems = axe_violations(page)
    assert problems == [], f"{page.url}: {problems}"
    assert [e for e in page.console_errors if "Content Security Policy" in e] == []
