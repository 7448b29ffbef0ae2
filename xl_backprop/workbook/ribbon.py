"""The ribbon: ``customUI.xml`` added to a finished package as ``customUI/customUI14.xml``,
with its relationship in ``_rels/.rels``.

XlsxWriter writes no customUI part, so this is a small zip rewrite: every other member is
copied unchanged, in order, with the fixed timestamp XlsxWriter uses.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

HERE = Path(__file__).parent
CUSTOM_UI_XML = HERE / "customUI.xml"
CUSTOM_UI_PART = "customUI/customUI14.xml"
CUSTOM_UI_NS = "http://schemas.microsoft.com/office/2009/07/customui"
#: The relationship type of a customUI14 part (Office 2010 and later).
CUSTOM_UI_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


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


def _with_relationship(rels: bytes) -> bytes:
    text = rels.decode("utf-8")
    if CUSTOM_UI_REL in text:
        raise ValueError("_rels/.rels: the package already has a ribbon (customUI) relationship")
    ids = [int(n) for n in re.findall(r'Id="rId(\d+)"', text)]
    rel = (f'<Relationship Id="rId{max(ids, default=0) + 1}" Type="{CUSTOM_UI_REL}" '
           f'Target="{CUSTOM_UI_PART}"/>')
    return text.replace("</Relationships>", rel + "</Relationships>", 1).encode("utf-8")


def add_ribbon(src: Path, dst: Path, custom_ui: bytes) -> None:
    """Copy the package ``src`` to ``dst`` with the ribbon part and its relationship added."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "_rels/.rels":
                data = _with_relationship(data)
            zout.writestr(zipfile.ZipInfo(info.filename, ZIP_TIME), data, zipfile.ZIP_DEFLATED)
        zout.writestr(zipfile.ZipInfo(CUSTOM_UI_PART, ZIP_TIME), custom_ui, zipfile.ZIP_DEFLATED)
