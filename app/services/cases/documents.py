"""Files attached to tasks: checked for type and size, stored outside the web root under a random
name, and served only to people who may see the case (every download logged)."""
from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from flask import current_app
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Case, Document, User
from app.services.access import can_view_case, log_access
from app.services.errors import NotFound

# extension -> (content type, how the file must start)
ALLOWED = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    ".odt": ("application/vnd.oasis.opendocument.text", (b"PK\x03\x04",)),
    ".txt": ("text/plain", ()),
}
TYPES_TEXT = "PDF, Word (DOCX), OpenDocument text (ODT), Excel (XLSX), PNG, JPEG or plain text"
DOCUMENT_PREFIX = "document:"  # a form value naming an uploaded file: "document:<id>"


class UploadRejected(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Upload:
    """A file as the browser sent it."""

    filename: str
    content: bytes


def store_upload(upload: Upload, user: User, field: str, *, case_id: int | None, task_id: int | None) -> Document:
    """Check and keep an uploaded file; raises UploadRejected with a message for the person."""
    name, content_type = _check(upload)
    key = secrets.token_hex(16)
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / key).write_bytes(upload.content)
    document = Document(case_id=case_id, task_id=task_id, field=field, filename=name, content_type=content_type,
                        size=len(upload.content), sha256=hashlib.sha256(upload.content).hexdigest(),
                        storage_key=key, uploaded_by_id=user.id, uploaded_at=clock.now())
    db.session.add(document)
    db.session.commit()
    return document


def clean_filename(sent: str) -> str:
    """A file's name fit to store and to send back: its last part only, without control characters
    (NUL included) or format characters (the right-to-left override and other bidi controls that
    disguise an extension); "document" when nothing else is left."""
    visible = "".join(ch for ch in unicodedata.normalize("NFC", sent)
                      if not unicodedata.category(ch).startswith("C"))
    name = PurePath(visible.replace("\\", "/")).name.strip()
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    if not stem.strip(" ."):
        stem = "document"
    extension = extension[:20]
    return stem[:200 - len(extension) - 1] + (f".{extension}" if extension else "")


def _check(upload: Upload) -> tuple[str, str]:
    name = clean_filename(upload.filename)
    suffix = PurePath(name).suffix.lower()
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    if not upload.content:
        raise UploadRejected("The selected file is empty.")
    if len(upload.content) > limit:
        raise UploadRejected(f"The selected file must be smaller than {_size(limit)}.")
    if suffix not in ALLOWED or not _content_matches(suffix, upload.content):
        raise UploadRejected(f"The selected file must be a {TYPES_TEXT} file.")
    return name, ALLOWED[suffix][0]


def _content_matches(suffix: str, content: bytes) -> bool:
    content_type, signatures = ALLOWED[suffix]
    if content_type == "text/plain":
        try:
            return b"\x00" not in content and bool(content.decode("utf-8"))
        except UnicodeDecodeError:
            return False
    return any(content.startswith(signature) for signature in signatures)


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{max(limit // 1024, 1)} KB"


def _folder() -> Path:
    return Path(current_app.config["DOCUMENTS_DIR"])


def attach_documents(document_ids: list[int], user: User, case_id: int, task_id: int | None) -> None:
    """Give a case the files its referral carried (uploaded before the case existed). Does not commit."""
    for document in db.session.scalars(select(Document).where(Document.id.in_(document_ids))):
        if document.uploaded_by_id == user.id and document.case_id is None:
            document.case_id, document.task_id = case_id, task_id


def owned_document_ids(document_ids: list[int], user: User, *, case_id: int | None, task_id: int | None) -> set[int]:
    """Which of these documents a form may refer to: uploaded to this task (or, before a case
    exists, by this person)."""
    query = select(Document.id).where(Document.id.in_(document_ids))
    if task_id is not None:
        query = query.where(Document.task_id == task_id)
    else:
        query = query.where(Document.case_id.is_(None), Document.uploaded_by_id == user.id)
    return set(db.session.scalars(query))


def open_document(reference: str, document_id: int, user: User) -> tuple[Document, Path]:
    """A document of a case the user may see (else NotFound); the download is logged."""
    row = db.session.execute(
        select(Document, Case).join(Case, Case.id == Document.case_id)
        .where(Document.id == document_id, Case.reference == reference)).first()
    if row is None or not can_view_case(user, row.Case):
        raise NotFound("No such document.")
    log_access(user, row.Case, "view_document", {"document_id": document_id, "filename": row.Document.filename})
    return row.Document, _folder() / row.Document.storage_key


def document_names(document_ids: list[int]) -> dict[int, Document]:
    """Documents by id (to show names beside answers)."""
    if not document_ids:
        return {}
    return {d.id: d for d in db.session.scalars(select(Document).where(Document.id.in_(document_ids)))}


def case_documents(case: Case) -> list[Document]:
    """Every file attached to a case's tasks, oldest first."""
    return db.session.scalars(select(Document).where(Document.case_id == case.id)
                              .order_by(Document.uploaded_at, Document.id)).all()


@dataclass
class FormPost:
    """A posted form: every value by name, the files chosen, the button pressed."""

    posted: dict[str, list[str]]
    uploads: dict[str, Upload] = field(default_factory=dict)
    action: str = "submit"
    instance_version: int | None = None


def document_ids(values: dict) -> dict[str, int]:
    """Page field name -> document id, for every file the values refer to."""
    found = {}
    for name, value in values.items():
        if isinstance(value, str) and value.startswith(DOCUMENT_PREFIX) and value[len(DOCUMENT_PREFIX):].isdigit():
            found[name] = int(value[len(DOCUMENT_PREFIX):])
    return found
