"""The ribbon: ``customUI.xml`` added to a finished package as ``customUI/customUI14.xml``,
with its relationship in ``_rels/.rels``.

XlsxWriter writes no customUI part, so the finished package is edited with ``ooxml.Package``
(the editor ``xl-backprop run`` uses): the part is added, the relationship goes into the parsed
``_rels/.rels``, and every other member is copied unchanged, in order, with a fixed timestamp
(``ooxml.package.ZIP_TIME``) and zlib's default compression, as XlsxWriter compresses.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

from ..ooxml.package import Package

HERE = Path(__file__).parent
CUSTOM_UI_XML = HERE / "customUI.xml"
CUSTOM_UI_PART = "customUI/customUI14.xml"
CUSTOM_UI_NS = "http://schemas.microsoft.com/office/2009/07/customui"
#: The relationship type of a customUI14 part (Office 2010 and later).
CUSTOM_UI_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"


def read_custom_ui(path: Path = CUSTOM_UI_XML) -> bytes:
    """The ribbon XML, checked to be well formed and in the customUI namespace."""
    data = path.read_bytes()
    root = ElementTree.fromstring(data)
    if root.tag != f"{{{CUSTOM_UI_NS}}}customUI":
        raise ValueError(f"{path}: expected a <customUI> root in the namespace {CUSTOM_UI_NS}, got {root.tag}")
    return data


def on_actions(xml: bytes) -> list[str]:
    """Every onAction callback the ribbon XML names, in document order."""
    return [el.attrib["onAction"] for el in ElementTree.fromstring(xml).iter() if "onAction" in el.attrib]


def add_ribbon(src: Path, dst: Path, custom_ui: bytes) -> None:
    """Copy the package ``src`` to ``dst`` with the ribbon part and its relationship added."""
    pkg = Package.read(src)
    if any(rtype == CUSTOM_UI_REL for _, rtype, _ in pkg.rels("")):
        raise ValueError("_rels/.rels: the package already has a ribbon (customUI) relationship")
    pkg.parts[CUSTOM_UI_PART] = custom_ui
    pkg.add_rel("", CUSTOM_UI_REL, CUSTOM_UI_PART)
    pkg.save(dst, compress_level=None, fresh_headers=True)
