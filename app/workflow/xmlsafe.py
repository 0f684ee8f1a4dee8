"""Safe parsing of uploaded BPMN (XML) files (DESIGN.md, decision 9).

BPMN never needs a document type declaration, so any ``<!DOCTYPE>`` or ``<!ENTITY>`` is refused
outright: that rules out external entities (reading local files or URLs) and entity-expansion bombs.
The check runs twice: a scan of the raw bytes in every encoding an XML parser could read them in,
before parsing; and the parsed document's ``docinfo``, after parsing with a parser that resolves no
entities, loads no DTD, never touches the network and refuses to load any external resource.
"""

from __future__ import annotations

import codecs
import re

from lxml import etree

__all__ = ["DEFAULT_MAX_BYTES", "UnsafeXmlError", "XmlSyntaxError", "parse_xml"]

DEFAULT_MAX_BYTES = 5 * 1024 * 1024

ENTITY_MESSAGE = (
    "The file declares XML entities (<!ENTITY>); BPMN files never need them, so it was not read."
)
DOCTYPE_MESSAGE = (
    "The file has a document type declaration (<!DOCTYPE>); BPMN files never need one, "
    "so it was not read."
)
EXTERNAL_MESSAGE = (
    "The file refers to an external resource ({url}); BPMN files never need one, so it was not read."
)

_MARKERS = ((b"<!ENTITY", ENTITY_MESSAGE), (b"<!DOCTYPE", DOCTYPE_MESSAGE))
# Encodings libxml2 can detect without a declaration (BOM or the first bytes of "<?xml").
_AUTODETECTED = ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "cp037", "cp500")
_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
_DECLARATION = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")


class UnsafeXmlError(ValueError):
    """The file could be harmful (entities, a DTD, external resources) or is too large to read."""


class XmlSyntaxError(ValueError):
    """The file is not well-formed XML; ``line`` is the line of the first error when known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def parse_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse an uploaded BPMN file given as bytes and return its root element.

    Raises ``TypeError`` for anything but bytes, :class:`UnsafeXmlError` for a file over
    ``max_bytes`` or with a DTD, entities or external references, and :class:`XmlSyntaxError`
    when the XML is not well-formed. Never reads a local file or the network.
    """
    data = _require_bytes(data)
    _check_size(len(data), max_bytes)
    _scan_for_declarations(data)
    return _parse(data)


def _require_bytes(data: object) -> bytes:
    """Return ``data`` as bytes, or raise ``TypeError`` (a decoded string loses its encoding)."""
    if isinstance(data, str):
        raise TypeError(
            "parse_xml() needs the file's bytes, not a str: pass the raw upload (e.g. file.read()) "
            "so the XML encoding declaration is honoured."
        )
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"parse_xml() needs bytes, not {type(data).__name__}.")
    return bytes(data)


def _check_size(size: int, max_bytes: int) -> None:
    """Refuse a file larger than ``max_bytes`` before reading it."""
    if size > max_bytes:
        raise UnsafeXmlError(f"The file is {_human_size(size)}; the limit is {_human_size(max_bytes)}.")


def _human_size(size: int) -> str:
    """Format a byte count for people: '812 bytes', '3.5 KB', '7.2 MB', '5 MB'."""
    if size < 1024:
        return f"{size} bytes"
    value, unit = (size / (1024 * 1024), "MB") if size >= 1024 * 1024 else (size / 1024, "KB")
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def _scan_for_declarations(data: bytes) -> None:
    """Refuse ``<!ENTITY``/``<!DOCTYPE`` in the raw bytes, whatever the file's encoding."""
    views = [data.upper()]  # every ASCII-compatible encoding (UTF-8, ISO-8859-x, windows-125x)
    declared = _declared_encoding(data)
    if declared:
        views.append(data.decode(declared, errors="replace").upper().encode("utf-8", errors="replace"))
    for marker, message in _MARKERS:
        if any(marker in view for view in views) or _in_other_encodings(data, marker):
            raise UnsafeXmlError(message)


def _in_other_encodings(data: bytes, marker: bytes) -> bool:
    """True when ``marker`` appears in ``data`` encoded as UTF-16, UTF-32 or EBCDIC."""
    text = marker.decode("ascii")
    return any(text.encode(codec) in data for codec in _AUTODETECTED)


def _declared_encoding(data: bytes) -> str | None:
    """Return the Python codec named by the XML declaration's ``encoding``, if any and known."""
    match = _DECLARATION.match(_declaration_head(data))
    if not match:
        return None
    try:
        return codecs.lookup(match.group(1).decode("ascii")).name
    except LookupError:
        return None


def _declaration_head(data: bytes) -> bytes:
    """Return the start of ``data`` as ASCII-compatible bytes, without a byte order mark."""
    head = data[:1024]
    if head.startswith(codecs.BOM_UTF8):
        return head[len(codecs.BOM_UTF8):]
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return head.decode(codec, errors="ignore").encode("ascii", errors="ignore")
    return head


class _RefuseEverything(etree.Resolver):
    """An lxml resolver that answers every request for an external resource with nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.requested: list[str] = []

    def resolve(self, system_url, public_id, context):
        """Record the request and resolve it to an empty document."""
        self.requested.append(str(system_url))
        return self.resolve_string("", context)


def _make_parser() -> tuple[etree.XMLParser, _RefuseEverything]:
    """Return a new parser that resolves no entities, loads no DTD and reaches no network."""
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
    )
    resolver = _RefuseEverything()
    parser.resolvers.add(resolver)
    return parser, resolver


def _parse(data: bytes) -> etree._Element:
    """Parse with the safe parser, then refuse anything with a DTD or external reference."""
    parser, resolver = _make_parser()
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as err:
        raise _syntax_error(err) from None
    if resolver.requested:
        raise UnsafeXmlError(EXTERNAL_MESSAGE.format(url=resolver.requested[0]))
    _check_docinfo(root.getroottree().docinfo)
    return root


def _check_docinfo(docinfo: etree.DocInfo) -> None:
    """Refuse a parsed document that has a DOCTYPE, an internal subset or an external DTD."""
    if docinfo.internalDTD is not None and _declares_entities(docinfo.internalDTD):
        raise UnsafeXmlError(ENTITY_MESSAGE)
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeXmlError(DOCTYPE_MESSAGE)
    if docinfo.system_url or docinfo.public_id:
        raise UnsafeXmlError(DOCTYPE_MESSAGE)


def _declares_entities(dtd: etree.DTD) -> bool:
    """True when the DTD declares at least one entity."""
    return any(True for _ in dtd.iterentities())


def _syntax_error(err: etree.XMLSyntaxError) -> XmlSyntaxError:
    """Turn lxml's syntax error into a readable :class:`XmlSyntaxError` with its line."""
    line = err.lineno if err.lineno and err.lineno > 0 else None
    detail = (err.msg or str(err)).split(", line ")[0].strip()
    where = f" (line {line})" if line else ""
    return XmlSyntaxError(f"The file is not well-formed XML{where}: {detail}.", line=line)
