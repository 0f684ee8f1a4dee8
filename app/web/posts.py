"""Reading a posted form into what the services take, and where to go after signing in."""
from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from flask import Request, current_app, flash

from app.services.cases.documents import FormPost, Upload
from app.services.errors import ValidationFailed

UPLOAD_SUFFIX = "-upload"


def form_post(request: Request) -> FormPost:
    """Every posted value, the chosen files (read up to just over the size limit), the button pressed."""
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    uploads = {
        key[:-len(UPLOAD_SUFFIX)]: Upload(storage.filename, storage.stream.read(limit + 1))
        for key, storage in request.files.items()
        if key.endswith(UPLOAD_SUFFIX) and storage and storage.filename
    }
    version = request.form.get("_version", "")
    return FormPost(posted=request.form.to_dict(flat=False), uploads=uploads,
                    action=request.form.get("_action", "submit"),
                    instance_version=int(version) if version.isdigit() else None)


NEXT_MAX_LENGTH = 2000
_CONTROL_OR_BACKSLASH = re.compile(r"[\x00-\x1f\x7f\\]")
_PATH_SAFE, _QUERY_SAFE = "/%:@!$&'()*+,;=-._~", "/?%:@!$&'()*+,;=-._~"


def safe_next(target: str | None) -> str:
    """A path on this site to go to after signing in, rebuilt from its parsed parts; "" for anything else.

    Refused: a scheme or a host; anything not starting with "/"; a control character (tab, CR, LF
    among them) or a backslash, written or percent-encoded however many times; "//" in the path,
    written or encoded. Browsers drop tab, CR and LF and read a backslash as a slash, so each of those
    could turn a path into another site's address ("/\t/evil.example" is "//evil.example").
    """
    if not target or len(target) > NEXT_MAX_LENGTH:
        return ""
    parts = urlsplit(target)
    path = _decoded(parts.path)
    whole = _decoded(target)
    if (parts.scheme or parts.netloc or not parts.path.startswith("/") or path is None or whole is None
            or "//" in path or _CONTROL_OR_BACKSLASH.search(whole)):
        return ""
    return urlunsplit(("", "", quote(parts.path, safe=_PATH_SAFE), quote(parts.query, safe=_QUERY_SAFE),
                       quote(parts.fragment, safe=_QUERY_SAFE)))


def _decoded(text: str, rounds: int = 5) -> str | None:
    """`text` percent-decoded until nothing changes (None if it still changes after `rounds`)."""
    for _ in range(rounds):
        decoded = unquote(text)
        if decoded == text:
            return text
        text = decoded
    return None


def typed_answers(form) -> list[tuple[str, str]]:
    """What a person typed into a form, as (question name in words, text), for giving it back."""
    answers = []
    for name, values in form.to_dict(flat=False).items():
        text = "; ".join(value.strip() for value in values if value.strip())
        if text and not name.startswith("_") and name != "csrf_token":
            answers.append((name.replace("-", " ").replace("_", " ").capitalize(), text))
    return answers


def flash_outcome(action: Callable[[], object], success: str) -> bool:
    """Do `action`; say `success` (a banner), or each of its problems when it is refused. Whether it
    was done."""
    try:
        action()
    except ValidationFailed as failed:
        for message in failed.errors.values():
            flash(message, "error")
        return False
    flash(success, "success")
    return True
