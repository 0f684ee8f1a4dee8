"""Safe parsing of uploaded BPMN files (app/workflow/xmlsafe.py; DESIGN.md decision 9)."""

import os
import socket
import threading
import time
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from app.workflow import xmlsafe
from app.workflow.xmlsafe import UnsafeXmlError, XmlSyntaxError, parse_xml

DATA = Path(__file__).resolve().parents[1] / "data"
UNSAFE = DATA / "unsafe"
ENTITY_MESSAGE = "The file declares XML entities (<!ENTITY>); BPMN files never need them, so it was not read."
DOCTYPE_MESSAGE = "document type declaration (<!DOCTYPE>)"

MINIMAL_BPMN = """<?xml version="1.0" encoding="{encoding}"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="encoded" name="Réunion à l'école" isExecutable="true">
    <bpmn:startEvent id="start" name="Début">
      <bpmn:outgoing>flow_1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:endEvent id="end" name="Fin">
      <bpmn:incoming>flow_1</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="flow_1" sourceRef="start" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def passwd_lines() -> list[str]:
    path = Path("/etc/passwd")
    lines = path.read_text().splitlines() if path.exists() else []
    return [line for line in lines if line.strip()] + ["root:"]


def assert_leaks_nothing(text: str) -> None:
    for line in passwd_lines():
        assert line not in text


@pytest.fixture
def fifo_tripwire(tmp_path):
    """A named pipe: opening it for reading blocks until a writer appears, so any read is caught.

    A background thread keeps trying a non-blocking open for writing, which only succeeds while
    something has the pipe open for reading; it records that and writes a secret to unblock it.
    """
    path = tmp_path / "tripwire"
    os.mkfifo(path)
    opened = threading.Event()
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                time.sleep(0.001)
                continue
            opened.set()
            os.write(fd, b"TRIPWIRE-SECRET")
            os.close(fd)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    yield path, opened
    stop.set()
    thread.join(timeout=2)


@pytest.fixture
def listening_server():
    """A local TCP server that records every connection (an XML parser must never connect)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.05)
    connections: list[tuple] = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, addr = server.accept()
            except (socket.timeout, OSError):
                continue
            connections.append(addr)
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nNETWORK-SECRET")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], connections
    time.sleep(0.1)  # let a late connection be recorded before we look
    stop.set()
    thread.join(timeout=2)
    server.close()


# --- the unsafe test documents ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["xxe_file.bpmn", "xxe_network.bpmn", "entity_bomb.bpmn"])
def test_unsafe_documents_are_rejected_with_a_readable_message(name):
    with pytest.raises(UnsafeXmlError) as caught:
        parse_xml((UNSAFE / name).read_bytes())
    assert str(caught.value) == ENTITY_MESSAGE
    assert_leaks_nothing(str(caught.value))
    assert_leaks_nothing(repr(caught.value.args))


@pytest.mark.parametrize("name", ["xxe_file.bpmn", "xxe_network.bpmn", "entity_bomb.bpmn"])
def test_unsafe_documents_are_refused_even_without_the_byte_scan(name):
    """The safe parser and the docinfo check alone (the second line of defence) also refuse them.

    libxml2 refuses external entities in attribute values and stops the bomb at its amplification
    limit, so these come back as syntax errors; either way nothing is read or expanded.
    """
    started = time.monotonic()
    with pytest.raises((UnsafeXmlError, XmlSyntaxError)) as caught:
        xmlsafe._parse((UNSAFE / name).read_bytes())
    assert time.monotonic() - started < 2
    assert_leaks_nothing(str(caught.value))


@pytest.mark.parametrize(
    "document",
    [
        b'<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><d>&e;</d>',
        b'<!DOCTYPE d [<!ENTITY e SYSTEM "http://127.0.0.1:9/x">]><d>&e;</d>',
        b'<!DOCTYPE d [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;">]><d>&c;</d>',
    ],
)
def test_the_parser_stage_never_expands_entities_in_content(document):
    parser, resolver = xmlsafe._make_parser()
    root = etree.fromstring(document, parser)
    text = etree.tostring(root, encoding="unicode")
    assert_leaks_nothing(text)
    assert "lollol" not in text
    assert resolver.requested == []
    with pytest.raises(UnsafeXmlError, match="ENTITY"):
        xmlsafe._parse(document)


def test_the_parser_stage_stops_the_bomb_quickly():
    document = (UNSAFE / "entity_bomb.bpmn").read_bytes().replace(b'name="&lol9;">', b">&lol9;")
    parser, _ = xmlsafe._make_parser()
    started = time.monotonic()
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as err:
        assert "amplification" in str(err)
    else:
        assert len(etree.tostring(root)) < 10_000
    assert time.monotonic() - started < 2


# --- never a local file, never the network ---------------------------------------------------------


def external_entity_documents(url: str) -> list[bytes]:
    return [
        f'<!DOCTYPE d [<!ENTITY e SYSTEM "{url}">]><d name="&e;">&e;</d>'.encode(),
        f'<!DOCTYPE d [<!ENTITY % p SYSTEM "{url}"> %p;]><d/>'.encode(),
        f'<!DOCTYPE d SYSTEM "{url}"><d/>'.encode(),
        f'<!DOCTYPE d PUBLIC "-//X//Y//EN" "{url}"><d>&e;</d>'.encode(),
        f'<d xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="{url}" parse="text"/></d>'.encode(),
    ]


def try_every_way(document: bytes) -> str:
    """Parse with parse_xml and with the parser stage alone; return everything that came back."""
    seen = []
    for parse in (parse_xml, xmlsafe._parse):
        try:
            seen.append(etree.tostring(parse(document), encoding="unicode"))
        except (UnsafeXmlError, XmlSyntaxError) as err:
            seen.append(str(err))
    return "\n".join(seen)


def test_a_local_file_is_never_opened(fifo_tripwire):
    path, opened = fifo_tripwire
    for document in external_entity_documents(path.as_uri()) + external_entity_documents(str(path)):
        text = try_every_way(document)
        assert "TRIPWIRE-SECRET" not in text
    time.sleep(0.05)
    assert not opened.is_set(), "the parser opened a local file"


def test_the_network_is_never_contacted(listening_server):
    port, connections = listening_server
    for document in external_entity_documents(f"http://127.0.0.1:{port}/x"):
        text = try_every_way(document)
        assert "NETWORK-SECRET" not in text
    time.sleep(0.1)
    assert connections == [], "the parser connected to the network"


def test_a_plain_document_with_an_xinclude_is_parsed_but_not_included(fifo_tripwire):
    path, opened = fifo_tripwire
    document = f'<d xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="{path}" parse="text"/></d>'
    root = parse_xml(document.encode())
    assert "TRIPWIRE-SECRET" not in etree.tostring(root, encoding="unicode")
    assert not opened.is_set()


# --- declarations hidden by encodings --------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY e "x">]><d>&e;</d>'.encode("utf-16"),
        '<?xml version="1.0" encoding="UTF-16LE"?><!DOCTYPE d [<!ENTITY e "x">]><d>&e;</d>'.encode("utf-16-le"),
        '<?xml version="1.0" encoding="UTF-16BE"?><!DOCTYPE d [<!ENTITY e "x">]><d>&e;</d>'.encode("utf-16-be"),
        '<?xml version="1.0" encoding="ISO-8859-1"?><!DOCTYPE d [<!ENTITY e "é">]><d>&e;</d>'.encode("latin-1"),
        b'\xef\xbb\xbf<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]><d>&e;</d>',
        b'<?xml version="1.0" encoding="UTF-7"?>+ADw-+ACE-ENTITY e SYSTEM +ACI-file:///etc/passwd+ACI-+AD4-<d/>',
        b"<?xml version='1.0'?>\n<!doctype d><d/>",
    ],
)
def test_declarations_are_found_in_any_encoding(document):
    with pytest.raises(UnsafeXmlError, match="ENTITY|DOCTYPE"):
        parse_xml(document)


def test_a_doctype_without_entities_is_rejected_too():
    with pytest.raises(UnsafeXmlError, match=r"document type declaration \(<!DOCTYPE>\)"):
        parse_xml(b'<?xml version="1.0"?>\n<!DOCTYPE definitions>\n<definitions/>')
    with pytest.raises(UnsafeXmlError, match=r"<!DOCTYPE>"):
        xmlsafe._parse(b'<?xml version="1.0"?>\n<!DOCTYPE definitions>\n<definitions/>')


def test_escaped_markup_in_text_is_not_a_declaration():
    root = parse_xml(b"<d><documentation>Do not paste &lt;!DOCTYPE&gt; here</documentation></d>")
    assert root[0].text == "Do not paste <!DOCTYPE> here"


# --- ordinary documents ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "codec"), [("ISO-8859-1", "latin-1"), ("UTF-8", "utf-8"), ("UTF-16", "utf-16")]
)
def test_an_encoded_bpmn_with_a_declaration_parses_and_spiff_reads_it(encoding, codec):
    data = MINIMAL_BPMN.format(encoding=encoding).encode(codec)
    if codec == "latin-1":
        assert "é".encode("utf-8") not in data  # really ISO-8859-1 bytes
    root = parse_xml(data)
    process = root[0]
    assert process.get("name") == "Réunion à l'école"
    parser = SpiffBpmnParser()
    parser.add_bpmn_xml(root, filename=f"encoded-{codec}.bpmn")
    assert parser.get_spec("encoded").task_specs["start"].bpmn_name == "Début"


@pytest.mark.parametrize(
    "path",
    [
        DATA / "sandbox" / "score_and_route.bpmn",
        UNSAFE / "sandbox_escape_script.bpmn",
        UNSAFE / "sandbox_import_condition.bpmn",
    ],
)
def test_well_formed_bpmn_files_parse(path):
    root = parse_xml(path.read_bytes())
    assert etree.QName(root).localname == "definitions"


def test_an_oversized_file_is_rejected_before_parsing():
    data = b"<d>" + b" " * int(7.2 * 1024 * 1024 - 7) + b"</d>"
    with pytest.raises(UnsafeXmlError) as caught:
        parse_xml(data)
    assert str(caught.value) == "The file is 7.2 MB; the limit is 5 MB."
    with pytest.raises(UnsafeXmlError, match=r"^The file is 101 bytes; the limit is 100 bytes\.$"):
        parse_xml(b"<d>" + b" " * 94 + b"</d>", max_bytes=100)
    assert parse_xml(b"<d>" + b" " * 93 + b"</d>", max_bytes=100).tag == "d"


def test_a_str_is_refused_with_a_hint_to_pass_bytes():
    with pytest.raises(TypeError, match="bytes"):
        parse_xml("<d/>")
    with pytest.raises(TypeError, match="bytes"):
        parse_xml(None)
    assert parse_xml(bytearray(b"<d/>")).tag == "d"


@pytest.mark.parametrize(
    ("document", "line"),
    [
        (b'<?xml version="1.0"?>\n<definitions>\n  <process>\n</definitions>', 4),
        (b"<d>\n<e>&undefined;</e></d>", 2),
        (b"<d a='1' a='2'/>", 1),
        (b"<d>\n\n</d><extra/>", 3),
    ],
)
def test_malformed_xml_raises_xml_syntax_error_with_the_line(document, line):
    with pytest.raises(XmlSyntaxError) as caught:
        parse_xml(document)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"The file is not well-formed XML (line {line}): ")
    assert isinstance(caught.value, ValueError)


def test_an_empty_file_is_a_syntax_error():
    with pytest.raises(XmlSyntaxError, match="not well-formed"):
        parse_xml(b"")
