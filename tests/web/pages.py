"""A small browser for page tests: every HTML page it fetches is checked (valid HTML, a title, one
h1, no duplicate ids), and forms are submitted the way a browser would, hidden fields and all."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from io import BytesIO

import html5lib
from lxml import html as lxml_html

PASSWORD = "correct horse battery staple"


class PageProblem(AssertionError):
    pass


def check_page(text: str) -> None:
    """Fail unless the page is valid HTML with a title, exactly one h1 and unique ids."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    try:
        parser.parse(text)
    except html5lib.html5parser.ParseError as err:
        line = text.splitlines()[parser.errors[-1][0][0] - 1] if parser.errors else ""
        raise PageProblem(f"invalid HTML: {err}\n{line.strip()[:300]}") from None
    tree = lxml_html.fromstring(text)
    titles = [t.text_content().strip() for t in tree.iter("title")]
    if len(titles) != 1 or not titles[0]:
        raise PageProblem(f"a page needs one non-empty title, found {titles}")
    h1s = tree.findall(".//h1")
    if len(h1s) != 1:
        raise PageProblem(f"a page needs exactly one h1, found {len(h1s)}")
    duplicates = [i for i, n in Counter(el.get("id") for el in tree.iter() if el.get("id")).items() if n > 1]
    if duplicates:
        raise PageProblem(f"duplicate ids: {duplicates}")


@dataclass
class Page:
    status: int
    url: str
    text: str
    headers: dict

    @property
    def tree(self):
        return lxml_html.fromstring(self.text)

    @property
    def title(self) -> str:
        return self.tree.findtext(".//title").strip()

    @property
    def h1(self) -> str:
        return _words(self.tree.find(".//h1").text_content())

    @property
    def words(self) -> str:
        """The visible text of the main content, whitespace collapsed."""
        main = self.tree.find(".//main")
        return _words((main if main is not None else self.tree).text_content())

    @property
    def all_words(self) -> str:
        body = self.tree.find(".//body")
        return _words(body.text_content())

    def error_summary(self) -> list[tuple[str, str]]:
        """(message, link target) of each entry of the GOV.UK error summary."""
        return [(_words(a.text_content()), a.get("href"))
                for a in self.tree.xpath("//div[contains(@class,'govuk-error-summary')]//a")]

    def field(self, name: str):
        """The value an input shows (or the list of checked values for radios and checkboxes)."""
        found = self.tree.xpath(f"//*[@name='{name}']")
        if not found:
            raise KeyError(name)
        if found[0].get("type") in ("radio", "checkbox"):
            return [el.get("value") for el in found if el.get("checked") is not None]
        if found[0].tag == "textarea":
            return found[0].text or ""
        if found[0].tag == "select":
            chosen = found[0].xpath(".//option[@selected]")
            return chosen[0].get("value") if chosen else ""
        return found[0].get("value") or ""

    def has_field(self, name: str) -> bool:
        return bool(self.tree.xpath(f"//*[@name='{name}']"))

    def ids(self) -> set[str]:
        return {el.get("id") for el in self.tree.iter() if el.get("id")}

    def links(self) -> dict[str, str]:
        return {_words(a.text_content()): a.get("href") for a in self.tree.iter("a")}

    def form_data(self, action: str = "") -> tuple[str, dict[str, list[str]]]:
        """The action and the values a browser would send for a POST form in the main content:
        the one whose action is `action` (or ends with it), else the one with the most fields."""
        forms = [f for f in self.tree.find(".//main").iter("form") if f.get("method", "get").lower() == "post"]
        if action:
            forms = [f for f in forms if (f.get("action") or self.url).endswith(action)]
        if not forms:
            raise KeyError(f"no POST form {action!r} on {self.url}")
        form = max(forms, key=lambda f: len(f.xpath(".//input|.//textarea|.//select")))
        return form.get("action") or self.url, _form_values(form)

def _form_values(form) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for el in form.iter("input", "textarea", "select"):
        name, kind = el.get("name"), el.get("type", "text")
        if not name or kind in ("submit", "file", "button") or el.tag == "button":
            continue
        if kind in ("radio", "checkbox") and el.get("checked") is None:
            continue
        if el.tag == "textarea":
            value = el.text or ""
        elif el.tag == "select":
            chosen = el.xpath(".//option[@selected]")
            value = chosen[0].get("value") if chosen else (el.xpath(".//option")[0].get("value") if el.xpath(".//option") else "")
        else:
            value = el.get("value") or ("on" if kind in ("radio", "checkbox") else "")
        values.setdefault(name, []).append(value)
    return values


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


class WebClient:
    """Fetches pages through Flask's test client and checks each one.

    Each request runs in an application context of its own, as in production (so `g` and the
    database session do not leak from the test, or from one request to the next)."""

    def __init__(self, app, client):
        self.app, self.client = app, client

    def _page(self, response, url: str) -> Page:
        text = response.get_data(as_text=True)
        if response.mimetype == "text/html":
            check_page(text)
        return Page(response.status_code, url, text, dict(response.headers))

    def get(self, url: str, *, status: int = 200) -> Page:
        with self.app.app_context():
            response = self.client.get(url, follow_redirects=True)
        page = self._page(response, response.request.path)
        assert page.status == status, f"GET {url}: {page.status}\n{page.words[:500]}"
        return page

    def post(self, url: str, data: dict, *, status: int = 200, follow: bool = True) -> Page:
        with self.app.app_context():
            response = self.client.post(url, data=data, follow_redirects=follow)
        page = self._page(response, response.request.path)
        assert page.status == status, f"POST {url}: {page.status}\n{page.words[:500]}"
        return page

    def submit(self, page: Page, changes: dict | None = None, *, form: str = "", button: tuple | None = None,
               files: dict | None = None, status: int = 200) -> Page:
        """Fill in a form on `page` and send it, pressing `button` (name, value) if given."""
        action, values = page.form_data(form)
        for name, value in (changes or {}).items():
            if value is None:
                values.pop(name, None)
            else:
                values[name] = value if isinstance(value, list) else [value]
        data = {k: v if len(v) != 1 else v[0] for k, v in values.items()}
        if button:
            data[button[0]] = button[1]
        for name, (filename, content) in (files or {}).items():
            data[name] = (BytesIO(content), filename)
        return self.post(action, data, status=status)

    def sign_in(self, username: str, password: str = PASSWORD) -> Page:
        page = self.get("/sign-in")
        return self.submit(page, {"username": username, "password": password})
