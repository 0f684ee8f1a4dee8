"""Reading a posted form into what the services take."""
from __future__ import annotations

from flask import Request, current_app

from app.services.cases.documents import FormPost, Upload

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


def safe_next(target: str | None, default: str) -> str:
    """Only a path in this service (never another site) to go to after signing in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def typed_answers(form) -> list[tuple[str, str]]:
    """What a person typed into a form, as (question name in words, text), for giving it back."""
    answers = []
    for name, values in form.to_dict(flat=False).items():
        text = "; ".join(value.strip() for value in values if value.strip())
        if text and not name.startswith("_") and name != "csrf_token":
            answers.append((name.replace("-", " ").replace("_", " ").capitalize(), text))
    return answers
