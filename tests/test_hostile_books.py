"""Hostile and broken workbooks through ``xl-backprop run`` (issue 11): a copy of the committed
template with one zip member rewritten, generated here (no binaries in the repository). Each
must end with exit status 2 and one line on stderr naming the part, sheet, cell or defined
name; nothing read from outside the book; no result and no temporary file written; the book
left as it was. Bombs also finish in bounded memory, measured in a child process."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from xl_backprop import cli, network
from xl_backprop.ooxml import package as bf
from xl_backprop.workbook import layout as L

from . import libreoffice, ooxml_read
from .conftest import TEMPLATE

LRS = list(network.DEFAULT_LRS)

NS_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"  # ISO/IEC 29500 Strict's, written by hand here
SHEET3 = "xl/worksheets/sheet3.xml"  # Learning rates, where train-lrs reads and writes
WORKBOOK = "xl/workbook.xml"
WB_RELS = "xl/_rels/workbook.xml.rels"


def template_parts() -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(TEMPLATE) as z:
        return [(i, z.read(i)) for i in z.infolist()]


XML_PARTS = [i.filename for i, _ in template_parts() if i.filename.endswith((".xml", ".rels"))]


def make_book(path: Path, change: dict[str, bytes | None] | None = None, extra: list[tuple[str, bytes]] = ()) -> Path:
    """The template with members replaced (None: removed) and ``extra`` members appended."""
    change = change or {}
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        warnings.simplefilter("ignore")  # zipfile warns about a duplicate name: that is the point
        for info, data in template_parts():
            if info.filename in change:
                data = change[info.filename]
                if data is None:
                    continue
            z.writestr(info.filename, data)
        for name, data in extra:
            z.writestr(zipfile.ZipInfo(name), data)
    return path


def part(name: str) -> bytes:
    return dict((i.filename, d) for i, d in template_parts())[name]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(book: Path, capsys) -> tuple[int, str, str]:
    """``xl-backprop run train-lrs BOOK --out out.xlsm`` in this process: (status, stdout, stderr)."""
    out = book.parent / "out.xlsm"
    status = cli.main(["run", "train-lrs", str(book), "--out", str(out)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def refused(book: Path, capsys, *names: str) -> str:
    """Run on ``book``: status 2, one line naming each of ``names``, nothing written."""
    before = digest(book)
    status, out, err = run(book, capsys)
    assert status == 2, err
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("xl-backprop run: error: "), err
    assert "internal error" not in err and "Traceback" not in err
    for name in names:
        assert name in err, (name, err)
    assert sorted(f.name for f in book.parent.iterdir()) == [book.name]  # no result, no temporary
    assert digest(book) == before
    return err


def with_doctype(data: bytes, doctype: str, reference: str) -> bytes:
    """``data`` with ``doctype`` after its XML declaration and ``reference`` as text just
    before its root's end tag (mixed content is well-formed)."""
    decl = re.match(rb"<\?xml[^>]*\?>\s*", data)
    head = decl.end() if decl else 0
    end = data.rindex(b"</")
    return data[:head] + doctype.encode() + data[head:end] + reference.encode() + data[end:]


@pytest.fixture
def marker(tmp_path_factory) -> Path:
    """A file outside the book with a unique line: it must never reach the output or a message."""
    folder = tmp_path_factory.mktemp("outside")
    secret = folder / "secret.txt"
    secret.write_text("XLBP-MARKER-7f3a9c\n")
    return secret


@pytest.fixture
def listener():
    """A socket on 127.0.0.1 that records any connection: a network entity must not connect."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    srv.settimeout(0.2)
    yield srv
    srv.close()


def no_connection(srv: socket.socket) -> bool:
    try:
        conn, _ = srv.accept()
    except TimeoutError:
        return True
    conn.close()
    return False


# --- XML: entities and DTDs, in every part the reader parses -------------------------------------
@pytest.mark.parametrize("name", XML_PARTS)
def test_an_external_file_entity_in_any_part_is_refused_unread(tmp_path, capsys, marker, name):
    data = with_doctype(part(name), f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "{marker.as_uri()}">]>', "&xxe;")
    err = refused(make_book(tmp_path / "book.xlsm", {name: data}), capsys, name, "DOCTYPE")
    assert "XLBP-MARKER" not in err


@pytest.mark.parametrize("name", [WORKBOOK, SHEET3, "[Content_Types].xml", "xl/sharedStrings.xml"])
@pytest.mark.parametrize(
    "kind", ["network entity", "parameter entity", "external DTD", "billion laughs", "quadratic blowup", "utf-16"]
)
def test_dtds_and_entities_of_every_kind_are_refused(tmp_path, capsys, marker, listener, name, kind):
    port = listener.getsockname()[1]
    data = part(name)
    if kind == "network entity":
        data = with_doctype(data, f'<!DOCTYPE x [<!ENTITY net SYSTEM "http://127.0.0.1:{port}/x">]>', "&net;")
    elif kind == "parameter entity":
        data = with_doctype(data, f'<!DOCTYPE x [<!ENTITY % p SYSTEM "{marker.as_uri()}"> %p;]>', "")
    elif kind == "external DTD":
        data = with_doctype(data, f'<!DOCTYPE x SYSTEM "http://127.0.0.1:{port}/x.dtd">', "")
    elif kind == "billion laughs":
        ents = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{k} "{f"&l{k - 1};" * 10}">' for k in range(1, 10))
        data = with_doctype(data, f"<!DOCTYPE x [{ents}]>", "&l9;")
    elif kind == "quadratic blowup":
        data = with_doctype(data, f'<!DOCTYPE x [<!ENTITY a "{"a" * 50_000}">]>', "&a;" * 20_000)
    else:  # the DOCTYPE in UTF-16, where a byte search for UTF-8 "<!DOCTYPE" would miss it
        text = with_doctype(data, f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "{marker.as_uri()}">]>', "&xxe;").decode()
        data = text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    err = refused(make_book(tmp_path / "book.xlsm", {name: data}), capsys, name, "DOCTYPE")
    assert "XLBP-MARKER" not in err
    assert no_connection(listener)


def test_the_parser_itself_neither_resolves_nor_fetches(marker, listener):
    # below the DOCTYPE refusal: the parser the package uses, on every lxml pyproject allows
    from lxml import etree

    port = listener.getsockname()[1]
    doc = (
        f'<!DOCTYPE x [<!ENTITY f SYSTEM "{marker.as_uri()}"><!ENTITY n SYSTEM "http://127.0.0.1:{port}/">'
        '<!ENTITY l0 "lol"><!ENTITY l1 "&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;">]><x>&f;&n;&l1;</x>'
    ).encode()
    root = etree.fromstring(doc, bf._parser())
    assert b"XLBP-MARKER" not in etree.tostring(root) and "lol" not in "".join(root.itertext())
    assert no_connection(listener)
    with pytest.raises(bf.BookError, match=r"^p\.xml: has a DOCTYPE"):
        bf._parse("p.xml", doc)


# --- zip bombs ---------------------------------------------------------------------------------
def zeros_member(path: Path, name: str, megabytes: int, block: bytes = bytes(1 << 20)) -> Path:
    """The template with ``name`` replaced by ``megabytes`` MB of zeros (about 1 KB a MB
    compressed), or of ``block`` repeated."""
    make_book(path, {name: None})
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as z, z.open(name, "w") as fh:
        for _ in range(megabytes):
            fh.write(block)
    return path


def patch_sizes(path: Path, name: str, size: int) -> None:
    """Make the central directory declare ``size`` uncompressed bytes for ``name``."""
    data = bytearray(path.read_bytes())
    end = data.rindex(b"PK\x05\x06")  # end of central directory: where the directory starts
    entry = int.from_bytes(data[end + 16 : end + 20], "little")
    while True:  # walk the central directory to the entry of ``name``
        n, m, k = (int.from_bytes(data[entry + o : entry + o + 2], "little") for o in (28, 30, 32))
        if data[entry + 46 : entry + 46 + n] == name.encode():
            data[entry + 24 : entry + 28] = size.to_bytes(4, "little")
            break
        entry += 46 + n + m + k
    path.write_bytes(bytes(data))


def test_a_member_declaring_more_than_the_bound_is_refused_before_inflating(tmp_path, capsys):
    book = make_book(tmp_path / "book.xlsm")
    patch_sizes(book, SHEET3, bf.MAX_PART_BYTES + 1)
    refused(book, capsys, SHEET3, "zip bomb", f"more than {bf.MAX_PART_BYTES:,} bytes, the limit for one part")


def test_a_member_inflating_past_its_bound_is_stopped_while_streaming(tmp_path, capsys, monkeypatch):
    # 64 MB of zeros against a bound lowered to 32 MB (above the template's largest part, LR blocks'
    # 25 MB of formulas): the same code path as a 2 GB bomb against the real bound, in a test's time
    book = zeros_member(tmp_path / "book.xlsm", SHEET3, 64)
    monkeypatch.setattr(bf, "MAX_PART_BYTES", 32 << 20)
    refused(book, capsys, SHEET3, "zip bomb", "more than 33,554,432 bytes, the limit for one part")
    monkeypatch.setattr(bf, "MAX_PART_BYTES", 1 << 30)
    monkeypatch.setattr(bf, "MAX_BOOK_BYTES", 64 << 20)  # the total, reached in the last member
    refused(book, capsys, SHEET3, "zip bomb", "more than 67,108,864 bytes in all")


def test_a_member_whose_header_understates_its_size_is_refused(tmp_path, capsys):
    book = zeros_member(tmp_path / "book.xlsm", SHEET3, 8)
    patch_sizes(book, SHEET3, 1000)  # the header lies; zipfile stops at the declared size
    refused(book, capsys, SHEET3)


def rss_of_run(book: Path, out: Path, bounds: dict[str, int] | None = None) -> dict:
    """Status, stderr and peak memory (MB) of ``xl-backprop run train-lrs`` in a child process,
    with ``bounds`` (names in ``ooxml.package``) lowered there. ``peak_mb``: an upper bound, as
    Linux carries the parent's (pytest's) peak RSS into the child; ``grew_mb``: how far the
    child's own peak (VmHWM, Linux) rose during the run, above what its imports took."""
    code = (
        "import json, resource, sys, io, contextlib\n"
        "from xl_backprop import cli\n"
        "from xl_backprop.ooxml import package\n"
        f"for name, value in {bounds or {}!r}.items():\n"
        "    setattr(package, name, value)\n"
        "def hwm():\n"
        "    with open('/proc/self/status') as fh:\n"
        "        return next(int(line.split()[1]) for line in fh if line.startswith('VmHWM:')) / 1024\n"
        "before = hwm()\n"
        "err = io.StringIO()\n"
        "with contextlib.redirect_stderr(err):\n"
        f"    status = cli.main(['run', 'train-lrs', {str(book)!r}, '--out', {str(out)!r}])\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({'status': status, 'err': err.getvalue(), 'peak_mb': peak, 'grew_mb': hwm() - before}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_bomb_within_the_bound_ends_in_one_line_and_bounded_memory(tmp_path):
    # 64 MB of zeros (about 64 KB in the file) where the sheet's XML should be, under a bound
    # lowered to 96 MB: the code path of a 300 MB bomb under the real bound (1 GiB), in a test's
    # time. Inflated within the bound, then refused as malformed XML; memory: the part's bytes
    # as streamed and joined (two copies), nothing more
    book = zeros_member(tmp_path / "book.xlsm", SHEET3, 64)
    # a small file: the template re-zipped (less tightly than XlsxWriter zips it), and 64 KB of bomb
    assert book.stat().st_size < 2 * TEMPLATE.stat().st_size
    got = rss_of_run(book, tmp_path / "out.xlsm", bounds={"MAX_PART_BYTES": 96 << 20})
    assert got["status"] == 2 and got["err"].count("\n") == 1 and SHEET3 in got["err"], got
    assert "malformed XML" in got["err"], got
    assert got["grew_mb"] < 2.5 * 64, got
    assert sorted(f.name for f in tmp_path.iterdir()) == ["book.xlsm"]


def test_an_element_bomb_within_the_byte_bound_is_refused_before_parsing(tmp_path):
    # 270 MB of "<a/>": under MAX_PART_BYTES, but 70 million elements (tens of GB as a tree)
    book = zeros_member(tmp_path / "book.xlsm", SHEET3, 270, block=b"<a/>" * (1 << 18))
    assert bf.MAX_XML_TAGS < 270 * (1 << 18) and 270 << 20 < bf.MAX_PART_BYTES  # what this test relies on
    got = rss_of_run(book, tmp_path / "out.xlsm")
    assert got["status"] == 2 and got["err"].count("\n") == 1, got
    assert SHEET3 in got["err"] and "70,778,880 XML tags" in got["err"], got
    # the child's own growth (the part's 270 MB, once), not its peak: that carries pytest's own
    assert got["grew_mb"] < 768, got


# --- zip entry names -------------------------------------------------------------------------------
def test_a_duplicate_entry_is_refused(tmp_path, capsys):
    book = make_book(tmp_path / "book.xlsm", extra=[(SHEET3, part(SHEET3))])
    refused(book, capsys, repr(SHEET3), "appears twice")
    book = make_book(tmp_path / "book.xlsm", extra=[(SHEET3.upper(), part(SHEET3))])  # part names ignore case
    refused(book, capsys, repr(SHEET3.upper()), "appears twice")


@pytest.mark.parametrize(
    "name",
    [
        "../../evil.txt",
        "xl/../../evil.txt",
        "/etc/evil.txt",
        "xl\\evil.txt",
        "C:/evil.txt",
        "c:evil.txt",
        "xl/./evil.txt",
    ],
)
def test_an_entry_name_outside_the_package_is_refused(tmp_path, capsys, name):
    book = make_book(tmp_path / "book.xlsm", extra=[(name, b"evil")])
    refused(book, capsys, repr(name), "not a valid part name")


# --- malformed books -------------------------------------------------------------------------------
def sheet3_cell(cell: str, xml: str) -> bytes:
    data, n = re.subn(rf'<c r="{cell}"[^>]*>.*?</c>'.encode(), xml.encode(), part(SHEET3), count=1)
    assert n == 1
    return data


MALFORMED = [
    ("missing sheet part", {SHEET3: None}, (SHEET3, "missing")),
    ("missing workbook part", {WORKBOOK: None}, ("no workbook part",)),
    ("missing workbook relationships", {WB_RELS: None}, (WORKBOOK, "rId1", WB_RELS)),
    (
        "dangling relationship",
        {WORKBOOK: part(WORKBOOK).replace(b'r:id="rId3"', b'r:id="rId99"')},
        (WORKBOOK, "'Learning rates'", "rId99", WB_RELS),
    ),
    (
        "relationship outside the package",
        {WB_RELS: part(WB_RELS).replace(b'Target="worksheets/sheet3.xml"', b'Target="../../../etc/passwd"')},
        (WB_RELS, "rId3", "outside the package"),
    ),
    (
        "absolute relationship outside the package",
        {WB_RELS: part(WB_RELS).replace(b'Target="worksheets/sheet3.xml"', b'Target="/../../etc/passwd"')},
        (WB_RELS, "rId3", "outside the package"),
    ),
    (
        "no sheetData",
        {SHEET3: re.sub(rb"<sheetData>.*</sheetData>", b"", part(SHEET3), flags=re.S)},
        (SHEET3, "'Learning rates'", "sheetData"),
    ),
    (
        "shared string out of range",
        {SHEET3: sheet3_cell("B4", '<c r="B4" t="s"><v>99999</v></c>')},
        ("'Learning rates'!B4", "shared string", "99999"),
    ),
    (
        "shared string not a number",
        {SHEET3: sheet3_cell("B4", '<c r="B4" t="s"><v>x</v></c>')},
        ("'Learning rates'!B4", "shared string"),
    ),
    ("row r=abc", {SHEET3: part(SHEET3).replace(b'<row r="4"', b'<row r="abc"', 1)}, (SHEET3, "r='abc'", "row number")),
    (
        "row beyond the sheet",
        {SHEET3: part(SHEET3).replace(b'<row r="4"', b'<row r="99999999"', 1)},
        (SHEET3, "99999999"),
    ),
    ("a row twice", {SHEET3: part(SHEET3).replace(b'<row r="5"', b'<row r="4"', 1)}, (SHEET3, "row 4", "twice")),
    (
        "v = fifty",
        {SHEET3: sheet3_cell("B4", '<c r="B4"><v>fifty</v></c>')},
        ("'Learning rates'!B4", "'fifty'", "not a number"),
    ),
    # a <v> is an xsd:double: ASCII digits, not what Python's float() also takes (issue 17)
    *(
        (
            f"v = {text}",
            {SHEET3: sheet3_cell("B4", f'<c r="B4"><v>{text}</v></c>')},
            ("'Learning rates'!B4", repr(text), "not a number"),
        )
        for text in ("5_1", "\u0665\u0661", "\uff15\uff11", "infinity", "0x33")
    ),
    (
        "unknown cell type",
        {SHEET3: sheet3_cell("B4", '<c r="B4" t="x"><v>51</v></c>')},
        ("'Learning rates'!B4", "t='x'", "inlineStr"),
    ),
    (
        "a formula with no stored value",
        {SHEET3: sheet3_cell("B4", '<c r="B4"><f>50+1</f></c>')},
        ("'Learning rates'!B4", "a formula with no stored value"),
    ),
    (
        "a shared formula in the area the action clears",
        {SHEET3: sheet3_cell("E10", '<c r="E10"/><c r="V10"><f t="shared" ref="V10:V11" si="0">1</f><v>1</v></c>')},
        ("'Learning rates'!V10", "shared or array formula"),
    ),
    (
        "Strict Open XML",
        {
            WORKBOOK: part(WORKBOOK).replace(
                b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", NS_STRICT.encode()
            )
        },
        (WORKBOOK, "Strict Open XML", repr(NS_STRICT)),
    ),
    ("bad cell reference", {SHEET3: sheet3_cell("B4", '<c r="B4:x"><v>5</v></c>')}, (SHEET3, "B4:x")),
    ("a cell twice", {SHEET3: sheet3_cell("B4", '<c r="A4"><v>5</v></c>')}, (SHEET3, "'A4'")),
    (
        "whole-sheet defined name",
        {WORKBOOK: part(WORKBOOK).replace(b"'Learning rates'!$B$5:$K$5", b"'Learning rates'!$A$1:$XFD$1048576")},
        ("defined name in_lrs", "1,048,576 x 16,384 cells"),
    ),
] + [
    (f"truncated {n}", {n: part(n)[: len(part(n)) // 2]}, (n, "malformed XML"))
    for n in (
        "[Content_Types].xml",
        "_rels/.rels",
        WORKBOOK,
        WB_RELS,
        SHEET3,
        "xl/sharedStrings.xml",
        "xl/worksheets/sheet1.xml",
        "xl/drawings/_rels/drawing2.xml.rels",
        "customUI/customUI14.xml",
    )
]


@pytest.mark.parametrize(("change", "names"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_a_malformed_book_is_named_in_one_line(tmp_path, capsys, change, names):
    refused(make_book(tmp_path / "book.xlsm", change), capsys, *names)


def test_a_whole_sheet_defined_name_ends_quickly_in_bounded_memory(tmp_path):
    wb = part(WORKBOOK).replace(b"'Learning rates'!$B$5:$K$5", b"'Learning rates'!$A$1:$XFD$1048576")
    got = rss_of_run(make_book(tmp_path / "book.xlsm", {WORKBOOK: wb}), tmp_path / "out.xlsm")
    assert got["status"] == 2 and "defined name in_lrs" in got["err"], got
    assert got["grew_mb"] < 256, got  # the child's own growth (its peak carries pytest's)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"just some text, not a workbook\n", "not a zip package"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096), "encrypted or not an OOXML workbook"),
        (b"PK\x03\x04" + bytes(100), "not a zip package"),
        (b"", "not a zip package"),
    ],
)
def test_a_file_that_is_not_a_workbook_is_named(tmp_path, capsys, content, expected):
    book = tmp_path / "book.xlsm"
    book.write_bytes(content)
    refused(book, capsys, str(book), expected)


def test_the_template_itself_still_runs(tmp_path, capsys):
    # the bounds and checks above leave the real book alone
    book = make_book(tmp_path / "book.xlsm")
    status, out, err = run(book, capsys)
    assert (status, err) == (0, "") and out.startswith("wrote ")


def test_a_binary_workbook_is_named_as_one(tmp_path, capsys):
    # what Excel saves as .xlsb: the same package, with binary parts (xl/workbook.bin) for the XML ones
    ct = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>'
    )
    rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.bin"/></Relationships>'
    )
    book = tmp_path / "book.xlsb"
    with zipfile.ZipFile(book, "w") as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", rels)
        z.writestr("xl/workbook.bin", bytes([0x83, 0x01, 0x00, 0x80, 0x01, 0x00]))
    err = refused(book, capsys, "binary workbook", "xl/workbook.bin", ".xlsm")
    assert "malformed" not in err


def test_macos_resource_forks_are_ignored_and_kept(tmp_path, capsys):
    # macOS's archiver puts an AppleDouble file (binary, named like XML) beside each file it zips
    fork = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(50)
    extra = [("__MACOSX/._[Content_Types].xml", fork), ("__MACOSX/xl/worksheets/._sheet3.xml", fork)]
    extra += [("__MACOSX/_rels/._.rels", fork)]
    book = make_book(tmp_path / "book.xlsm", extra=extra)
    status, out, err = run(book, capsys)
    assert (status, err) == (0, ""), err
    with zipfile.ZipFile(tmp_path / "out.xlsm") as z:
        assert {name: z.read(name) for name, _ in extra} == dict(extra)


# --- sheets written in other valid forms: every row streamed in, read back (issue 17) -------------
def prefixed(data: bytes, prefix: str) -> bytes:
    """A part whose default namespace is the main one, rewritten with ``prefix`` on every element of
    that namespace instead (``<x:worksheet xmlns:x="...">``, as some generators write)."""
    main = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    assert data.count(main) == 1
    data = data.replace(main, main.replace(b"xmlns=", b"xmlns:" + prefix.encode() + b"="))
    # element names without a colon are the main namespace's; <? and <! start no element
    return re.sub(rb"<(/?)([A-Za-z_][\w.-]*)(?=[\s/>])", rb"<\1" + prefix.encode() + rb":\2", data)


STEPS = 200  # more than the 65 step rows the template's Learning rates sheet has


def loss_rows(book: Path) -> np.ndarray:
    """The loss table (step, then one column per learning rate) as the file stores it, read with
    ElementTree (namespace-aware: an element in the wrong namespace is not found)."""
    from openpyxl.utils.cell import get_column_letter

    cells = ooxml_read.cells(book, L.SHEET_LRS)
    r0, c0 = L.rowcol(L.MACRO_LOSS.top_left)
    out = np.full((STEPS, 1 + len(LRS)), np.nan)
    for i in range(STEPS):
        for j in range(1 + len(LRS)):
            c = cells.get(f"{get_column_letter(c0 + 1 + j)}{r0 + 2 + i}")
            v = None if c is None else c.find("m:v", ooxml_read.NS)
            out[i, j] = np.nan if v is None else float(v.text)
    return out


@pytest.mark.parametrize(
    ("prefix", "comment"),
    [("x", False), ("s-1", False), (None, True), ("s-1", True)],
    ids=["prefix x", "prefix s-1", "comment holding </sheetData>", "both"],
)
def test_rows_added_to_a_sheet_of_any_valid_form_are_all_written(tmp_path, capsys, prefix, comment):
    data = sheet3_cell("B4", f'<c r="B4"><v>{STEPS}</v></c>')
    if comment:  # after the real end: a search over the bytes for the last one finds this
        data = data.replace(b"</sheetData>", b"</sheetData><!-- </sheetData> <x:sheetData/> -->")
    if prefix:
        data = prefixed(data, prefix)
    book = make_book(tmp_path / "book.xlsm", {SHEET3: data})
    status, out, err = run(book, capsys)
    assert (status, err) == (0, "") and out.startswith("wrote "), err
    result = tmp_path / "out.xlsm"
    expected = network.train_curves(LRS, STEPS)
    got = loss_rows(result)
    assert np.array_equal(got[:, 0], np.arange(STEPS))
    assert np.array_equal(got[:, 1:], expected)
    ws = libreoffice.recalculated_values(result, tmp_path / "lo")[L.SHEET_LRS]
    r0, c0 = L.rowcol(L.MACRO_LOSS.top_left)
    lo = np.array(
        [[ws.cell(r0 + 2 + i, c0 + 1 + j).value for j in range(1 + len(LRS))] for i in range(STEPS)], dtype=float
    )
    assert np.array_equal(lo[:, 0], np.arange(STEPS))
    assert np.allclose(lo[:, 1:], expected, rtol=1e-14, atol=0)
    assert ws.cell(r0 + 2 + STEPS, c0 + 1).value is None


def test_a_sheet_whose_rows_cannot_be_placed_is_refused_not_half_written(tmp_path, capsys, monkeypatch):
    # the mark that says where <sheetData> ends, found twice (a comment holding its text): the
    # rows could go in two places, so none go anywhere; the random name makes this a forced case
    from xl_backprop.ooxml import sheet

    monkeypatch.setattr(sheet.secrets, "token_hex", lambda n: "0" * 2 * n)
    mark = "<?xl-backprop-rows-" + "0" * 32 + " ?>"  # as lxml writes a processing instruction
    data = sheet3_cell("B4", f'<c r="B4"><v>{STEPS}</v></c>')
    data = data.replace(b"</sheetData>", f"</sheetData><!-- {mark} -->".encode())
    refused(make_book(tmp_path / "book.xlsm", {SHEET3: data}), capsys, SHEET3, "'Learning rates'", "<sheetData>")


@pytest.mark.parametrize("over", [False, True], ids=["just under the tree bound", "just over it"])
def test_a_large_sheet_crafted_at_the_tree_bound_ends_in_one_line_and_bounded_memory(tmp_path, over):
    # a part over LARGE_PART_BYTES in no form but a tree: refused past MAX_TREE_TAGS, parsed as a
    # tree (about 1 GB) below it; either way one line, never the tens of GB MAX_XML_TAGS allows
    n = bf.MAX_TREE_TAGS + (10_000 if over else -10_000) - 8
    head, tail = part(SHEET3).split(b"</sheetData>")
    data = head + b"<ab/>" * n + b"</sheetData>" + tail
    data = re.sub(rb"<row .*?</row>", b"", data)  # no cells: the inputs read as empty
    assert len(data) > bf.LARGE_PART_BYTES and (data.count(b"<") > bf.MAX_TREE_TAGS) == over
    got = rss_of_run(make_book(tmp_path / "book.xlsm", {SHEET3: data}), tmp_path / "out.xlsm")
    assert got["status"] == 2 and got["err"].count("\n") == 1, got
    assert (f"more than the {bf.MAX_TREE_TAGS:,}" in got["err"]) == over, got
    assert got["grew_mb"] < 1280, got  # the child's own growth (its peak carries pytest's)
    assert sorted(f.name for f in tmp_path.iterdir()) == ["book.xlsm"]
