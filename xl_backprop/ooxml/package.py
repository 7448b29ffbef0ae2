"""The OOXML package: parts in a zip, their relationships and content types, read with bounds.

A workbook is untrusted input (people mail them to each other). ``Package.read`` refuses,
with one line (``BookError``) naming the part: a file that is not a zip (an encrypted book is
an OLE file), duplicate or unsafe entry names, a member that inflates past ``MAX_PART_BYTES``
or a book past ``MAX_BOOK_BYTES`` (read by streaming with a cap, not by trusting the header),
an XML part of more than ``MAX_XML_TAGS`` tags, and any part with a DOCTYPE. Every XML part
is parsed by ``_parse``: DTDs not loaded, entities not resolved, no network, no huge trees,
set explicitly so that every lxml ``pyproject.toml`` allows (``>=4.9``; lxml 4.9 resolves
entities by default) behaves alike; the hostile-book tests pass with lxml 6.0 and 4.9.4.
Missing parts, dangling or escaping relationships are BookErrors too.

Only the parts an edit touches are serialised again by ``save``; every other part is copied
through byte for byte, in its old order.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from lxml import etree

#: What one zip member may inflate to. The largest part this project writes is the Learning
#: rates sheet holding the template's largest result (1,048,567 steps x 10 learning rates):
#: about 560 MB of XML; a bound of twice that fits it and stops a bomb at a known size.
MAX_PART_BYTES = 1 << 30
#: What all members together may inflate to (the same book: about 600 MB).
MAX_BOOK_BYTES = 3 << 29
#: Tags ("<") in one XML part, counted before parsing: a parsed element costs several hundred
#: bytes, so this bounds the tree where bytes alone do not (1 GiB of "<a/>" would be 268
#: million elements). The largest result sheet has about 48 million.
MAX_XML_TAGS = 64_000_000
#: An XML part larger than this is parsed when it is first used, not on reading the book: a
#: worksheet that large is handed to ``load_large`` (``sheet.Sheet`` keeps its long numeric
#: tail as arrays, not elements); ``save`` parses any such part nothing used before writing.
LARGE_PART_BYTES = 16 << 20
#: Tags in a large part parsed as one tree (a parsed element costs about 250 bytes: a tree of
#: this many is about 1 GB). A large sheet of this project's own results keeps its long tail as
#: text (``load_large``) and is never such a tree; one that must be (re-saved in another form)
#: is refused past this, not parsed in tens of GB.
MAX_TREE_TAGS = 4_000_000
#: Members in one package (the template has 26; a run adds a handful).
MAX_PARTS = 10_000
#: Deflate level for the parts ``save`` writes: for a 200,000-step loss table (64 MB of XML) 1
#: compresses in half the time of zlib's default 6 for a file 17% larger (20.4 vs 17.4 MB).
COMPRESS_LEVEL = 1
#: The timestamp of a member ``save`` adds (the earliest a zip can hold).
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: The XML declaration of a part ``save`` serialises: the one Excel and XlsxWriter write.
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

#: The namespaces of the package's parts, each stated once for the whole editor: SpreadsheetML's
#: main one (workbook, sheets, styles, shared strings), relationships, content types.
NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"


def q(ns: str, tag: str) -> str:
    """``{ns}tag``, as lxml names an element or attribute."""
    return f"{{{ns}}}{tag}"


class BookError(ValueError):
    """The workbook file is not one this reader takes: one line naming the part, sheet or cell
    and what is wrong. A ValueError, so that callers answer it as any other bad input."""


def one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _parser() -> etree.XMLParser:
    """The one parser for a book's parts. Every option set explicitly: lxml before 5 resolves
    entities by default (4.9 is allowed by pyproject), and a default can change again. Tested
    here with the installed lxml (6.0, libxml2 2.14); under any version a DOCTYPE never reaches
    it, since ``_parse`` refuses one before parsing."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )


_DOCTYPE = tuple("<!DOCTYPE".encode(e) for e in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"))
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _parse(part: str, data: bytes) -> etree._Element:
    """``part`` parsed safely: a DOCTYPE (where DTDs and entities live) is refused before
    parsing, and again after it for an encoding the byte search did not cover."""
    if any(d in data for d in _DOCTYPE):
        raise BookError(f"{part}: has a DOCTYPE (a DTD or entity declarations); a workbook part has none, refused")
    tags = data.count(b"<")
    if tags > MAX_XML_TAGS:
        raise BookError(
            f"{part}: {tags:,} XML tags, more than the {MAX_XML_TAGS:,} this tool parses; refused "
            "(an XML bomb, or not a workbook this tool reads)"
        )
    m = _ENCODING.match(data[:200])
    if m and m.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8", b"utf-16", b"ascii", b"us-ascii"):
        raise BookError(f"{part}: declares the encoding {m.group(1).decode('ascii')!r}; expected UTF-8 or UTF-16")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise BookError(f"{part}: malformed XML ({one_line(exc.msg or exc, 120)})") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise BookError(f"{part}: has a DOCTYPE (a DTD or entity declarations); a workbook part has none, refused")
    if not isinstance(root.tag, str):
        raise BookError(f"{part}: malformed XML (no root element)")
    return root


def unsafe_name(name: str) -> bool:
    """A zip entry name that could land outside a folder if extracted, or that OOXML forbids."""
    segments = name.split("/")
    return (
        not name
        or name.startswith("/")
        or "\\" in name
        or "\0" in name
        or re.match(r"[A-Za-z]:", name) is not None
        or any(seg in ("..", ".") for seg in segments)
    )


def ignored(name: str) -> bool:
    """A zip entry that is no part of the workbook: macOS's archiver adds ``__MACOSX/._*``
    (a file's resource fork, binary) beside every file it zips. Never parsed, never looked up
    as a part; ``save`` copies it through unchanged like any other member."""
    return name.startswith("__MACOSX/")


def rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _resolve(source_part: str, target: str) -> str:
    """The part a relationship of ``source_part`` points at; "../..." when it climbs out of the
    package (a normpath would quietly stop at the root)."""
    folder = [] if target.startswith("/") else [s for s in posixpath.dirname(source_part).split("/") if s]
    for seg in target.split("/"):
        if seg == "..":
            if not folder:
                return "../" + target
            folder.pop()
        elif seg not in ("", "."):
            folder.append(seg)
    return "/".join(folder)


def relative(source_part: str, target_part: str) -> str:
    return posixpath.relpath(target_part, posixpath.dirname(source_part) or ".")


def _inflate(z: zipfile.ZipFile, info: zipfile.ZipInfo, inflated_so_far: int, limit: int | None = None) -> bytes:
    """One member's bytes, read in chunks and stopped at the bounds (``limit``, by default
    MAX_PART_BYTES) whatever its header says."""
    name = info.filename
    limit = MAX_PART_BYTES if limit is None else limit

    def check(size: int) -> None:
        if size > limit:
            raise BookError(
                f"{name}: inflates to more than {limit:,} bytes, the limit for one part; "
                "refused (a zip bomb, or not a workbook this tool reads)"
            )
        if inflated_so_far + size > MAX_BOOK_BYTES:
            raise BookError(
                f"{name}: with it the book inflates to more than {MAX_BOOK_BYTES:,} bytes in all; "
                "refused (a zip bomb, or not a workbook this tool reads)"
            )

    check(info.file_size)
    # a BytesIO, not a list joined at the end: its getvalue() hands over its buffer, so a large
    # part is in memory once, not twice
    buf, size = io.BytesIO(), 0
    try:
        with z.open(info) as fh:
            while chunk := fh.read(1 << 20):
                size += len(chunk)
                check(size)
                buf.write(chunk)
    except BookError:
        raise
    except (RuntimeError, NotImplementedError) as exc:  # an encrypted member, an unknown compression
        raise BookError(f"{name}: cannot be read ({one_line(exc, 100)}); encrypted or not an OOXML workbook") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise BookError(f"{name}: damaged zip member ({one_line(exc, 100)})") from None
    return buf.getvalue()


@contextmanager
def _open_zip(path: Path) -> Iterator[zipfile.ZipFile]:
    """The zip at ``path``, its entry names checked; BookError for an encrypted book, a file
    that is not a zip, and unsafe or duplicate names."""
    with open(path, "rb") as fh:
        magic = fh.read(8)
    if magic == _OLE_MAGIC:  # what Excel saves when a password protects the book, and .xls
        raise BookError(
            f"{path}: encrypted or not an OOXML workbook (an OLE compound file); "
            "expected an .xlsx/.xlsm saved without a password"
        )
    try:
        with zipfile.ZipFile(path) as z:
            _check_names(path, z.infolist())
            yield z
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise BookError(
            f"{path}: expected an Excel workbook (.xlsx/.xlsm), got a file that is not a "
            f"zip package or a damaged one ({one_line(exc, 100)})"
        ) from None


def _check_names(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_PARTS:
        raise BookError(f"{path}: {len(infos):,} zip entries; expected at most {MAX_PARTS:,} in a workbook")
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        # Refused rather than dropped: a part we dropped may be one the book needs, and a
        # name like this is never written by Excel, so the file was made to be hostile.
        if unsafe_name(name):
            raise BookError(
                f"{path}: zip entry {name!r} is not a valid part name (absolute, '..', "
                "backslash or drive letter); refused"
            )
        if name.lower() in seen:  # which copy counts differs between readers; OPC names ignore case
            raise BookError(f"{path}: zip entry {name!r} appears twice; refused")
        seen.add(name.lower())


def read_part(path: Path, name: str, limit: int | None = None) -> bytes | None:
    """One part of the book at ``path`` (None if it has none), streamed under ``limit`` bytes
    (by default MAX_PART_BYTES), with the checks of ``Package.read`` on the zip and its names:
    for a reader that needs one binary part, such as the VBA project, not the whole book."""
    with _open_zip(path) as z:
        try:
            info = z.getinfo(name)
        except KeyError:
            return None
        return _inflate(z, info, 0, limit)


class Package:
    """An OOXML package in memory. Parts are bytes; the XML parts an edit touches are
    parsed once, kept as lxml trees and serialised again by ``save``."""

    def __init__(self, infos: list[zipfile.ZipInfo], parts: dict[str, bytes]):
        self._infos = {i.filename: i for i in infos}
        self._order = [i.filename for i in infos]
        self.parts = parts
        self._trees: dict[str, etree._Element] = {}
        self._dirty: set[str] = set()
        #: Called by ``save`` before it serialises anything (a sheet brings its parts up to date).
        self.before_save: list[Callable[[], None]] = []
        #: Parts ``save`` writes by calling a writer with the open zip member, not from ``parts``.
        self.streams: dict[str, Callable[[IO[bytes]], None]] = {}
        #: Large XML parts not parsed yet (``LARGE_PART_BYTES``).
        self.deferred: set[str] = set()
        #: Parses a large part its own way (a root holding part of its content, the caller the
        #: rest), or returns None for the usual tree.
        self.load_large: Callable[[str], etree._Element | None] | None = None
        self._path: Path | None = None  # the file read, for ``original``
        self._released: set[str] = set()

    @classmethod
    def read(cls, path: Path) -> Package:
        """Load every part of the zip at ``path``, each bounded; BookError if it is not a
        workbook this reader takes."""
        with _open_zip(path) as z:
            infos = z.infolist()
            total = 0
            parts = {}
            for info in infos:
                parts[info.filename] = _inflate(z, info, total)
                total += len(parts[info.filename])
        pkg = cls(infos, parts)
        pkg._path = Path(path)
        # every XML part, whether or not the action needs it: a hostile or broken part is
        # refused up front, never copied into a result
        for name in parts:
            if name.lower().endswith((".xml", ".rels")) and not ignored(name):
                if len(parts[name]) > LARGE_PART_BYTES:
                    pkg.deferred.add(name)
                else:
                    pkg.xml(name)
        return pkg

    def save(
        self, path: Path | IO[bytes], compress_level: int | None = COMPRESS_LEVEL, fresh_headers: bool = False
    ) -> None:
        """Write the package to ``path``: untouched parts byte for byte, in their old order,
        then new parts by name. ``compress_level`` None is zlib's default. Each member keeps its
        zip timestamp and attributes; with ``fresh_headers`` every member gets ``ZIP_TIME`` and
        the default attributes instead (a build whose bytes depend only on its sources)."""
        for name in sorted(self.deferred):  # checked before anything is written, as on reading
            self.xml(name)
        for hook in self.before_save:
            hook()
        for name in self._released - self._dirty:  # copied through: its bytes again
            self.parts[name] = self.original(name)
        for name in self._dirty & set(self.parts):
            self.parts[name] = XML_DECLARATION + etree.tostring(self._trees[name], encoding="UTF-8")
        names = [n for n in self._order if n in self.parts] + sorted(n for n in self.parts if n not in self._infos)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=compress_level) as z:
            for name in names:
                old = None if fresh_headers else self._infos.get(name)
                info = zipfile.ZipInfo(name, date_time=old.date_time if old else ZIP_TIME)
                if old is not None:
                    info.external_attr = old.external_attr
                info.compress_type = zipfile.ZIP_DEFLATED
                if name in self.streams:
                    # ZipInfo's level attribute: _compresslevel up to 3.12, an alias of compress_level after
                    info._compresslevel = compress_level
                    with z.open(info, "w") as out:
                        self.streams[name](out)
                else:
                    z.writestr(info, self.parts[name], compresslevel=compress_level)

    # -- XML parts
    def xml(self, part: str) -> etree._Element:
        """The parsed part, to read (parsed once, safely: see ``_parse``)."""
        if part not in self._trees:
            if part not in self.parts:
                raise BookError(f"{part}: missing from the workbook package (a relationship names it)")
            root = None
            if part in self.deferred:
                self.deferred.discard(part)
                root = self.load_large(part) if self.load_large is not None else None
                if root is None and (tags := self.parts[part].count(b"<")) > MAX_TREE_TAGS:
                    raise BookError(
                        f"{part}: {tags:,} XML tags in a form this tool reads only as a tree, more than the "
                        f"{MAX_TREE_TAGS:,} it parses that way; refused (clear its long results in Excel, "
                        "save, and run again)"
                    )
            self._trees[part] = root if root is not None else _parse(part, self.parts[part])
        return self._trees[part]

    def edit(self, part: str) -> etree._Element:
        """The parsed part, to change: ``save`` writes it back."""
        root = self.xml(part)
        self._dirty.add(part)
        return root

    def release(self, part: str) -> None:
        """Forget the bytes of ``part`` (its tree and its loader hold what is needed of it):
        ``original`` reads them from the book's file again, if ever needed."""
        if self._path is not None:
            self.parts[part] = b""
            self._released.add(part)

    def original(self, part: str) -> bytes:
        """The bytes ``part`` had when the book was read, read from its file again (bounded as
        on reading) and checked against the CRC-32 read then."""
        if part not in self._released:
            return self.parts[part]
        info = self._infos[part]
        with _open_zip(self._path) as z:
            try:
                data = _inflate(z, z.getinfo(part), 0)
            except KeyError:
                data = None
        if data is None or zlib.crc32(data) != info.CRC:
            raise BookError(f"{self._path}: changed while this tool was reading it ({part}); run again")
        return data

    def dirty(self, part: str) -> bool:
        """Whether ``part`` has been opened to change (``edit``) since it was read."""
        return part in self._dirty

    def new_xml(self, part: str, root: etree._Element) -> None:
        self.parts[part] = b""
        self._trees[part] = root
        self._dirty.add(part)

    def delete(self, part: str) -> None:
        """Remove a part, its relationships part and its content-type override."""
        for name in (part, rels_path(part)):
            self.parts.pop(name, None)
            self._trees.pop(name, None)
            self._dirty.discard(name)
        ct = self.edit("[Content_Types].xml")
        for o in ct.findall(q(NS_CT, "Override")):
            if o.get("PartName") == "/" + part:
                ct.remove(o)

    def unused_name(self, pattern: str) -> str:
        n = 1
        while pattern.format(n) in self.parts:
            n += 1
        return pattern.format(n)

    # -- relationships and content types
    def rels(self, part: str) -> list[tuple[str, str, str]]:
        """(Id, Type, resolved target part) of ``part``'s internal relationships."""
        rp = rels_path(part)
        if rp not in self.parts:
            return []
        out = []
        for r in self.xml(rp):
            if r.get("TargetMode") == "External" or not isinstance(r.tag, str):
                continue
            out.append((r.get("Id"), r.get("Type"), self._target(rp, part, r)))
        return out

    def _target(self, rels_part: str, source: str, rel: etree._Element) -> str:
        target = rel.get("Target")
        if not target:
            raise BookError(f"{rels_part}: relationship {rel.get('Id')} has no Target")
        resolved = _resolve(source, target)
        if resolved.startswith("../") or resolved in ("..", ".", "") or unsafe_name(resolved):
            raise BookError(f"{rels_part}: relationship {rel.get('Id')} points outside the package ({target!r})")
        return resolved

    def add_rel(self, part: str, rel_type: str, target_part: str) -> str:
        """Add a relationship from ``part`` to ``target_part``; returns its new Id."""
        rp = rels_path(part)
        if rp not in self.parts:
            self.new_xml(rp, etree.Element(q(NS_PKG_REL, "Relationships"), nsmap={None: NS_PKG_REL}))
        root = self.edit(rp)
        ids = {r.get("Id") for r in root}
        n = 1
        while f"rId{n}" in ids:
            n += 1
        etree.SubElement(
            root, q(NS_PKG_REL, "Relationship"), Id=f"rId{n}", Type=rel_type, Target=relative(part, target_part)
        )
        return f"rId{n}"

    def remove_rel(self, part: str, rid: str) -> None:
        root = self.edit(rels_path(part))
        for r in root:
            if r.get("Id") == rid:
                root.remove(r)

    def referenced(self, target_part: str) -> bool:
        """Whether any relationship in the package still points at ``target_part``."""
        for name in list(self.parts):
            if name.endswith(".rels") and not ignored(name):
                folder = posixpath.dirname(posixpath.dirname(name))
                source = posixpath.join(folder, posixpath.basename(name)[:-5])
                if any(
                    r.get("TargetMode") != "External"
                    and isinstance(r.tag, str)
                    and self._target(name, source, r) == target_part
                    for r in self.xml(name)
                ):
                    return True
        return False

    def content_type(self, part: str) -> str | None:
        """The content type [Content_Types].xml gives ``part`` (its override, else its extension's)."""
        ct = self.xml("[Content_Types].xml")
        for o in ct.iter(q(NS_CT, "Override")):
            if o.get("PartName") == "/" + part:
                return o.get("ContentType")
        ext = posixpath.splitext(part)[1][1:].lower()
        return next(
            (d.get("ContentType") for d in ct.iter(q(NS_CT, "Default")) if d.get("Extension", "").lower() == ext), None
        )

    def add_override(self, part: str, content_type: str) -> None:
        ct = self.edit("[Content_Types].xml")
        etree.SubElement(ct, q(NS_CT, "Override"), PartName="/" + part, ContentType=content_type)

    def ensure_default(self, ext: str, content_type: str) -> None:
        ct = self.edit("[Content_Types].xml")
        if not any(d.get("Extension", "").lower() == ext for d in ct.findall(q(NS_CT, "Default"))):
            # Defaults come first in the schema
            ct.insert(0, etree.Element(q(NS_CT, "Default"), Extension=ext, ContentType=content_type))
