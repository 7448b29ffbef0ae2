"""Edit an .xlsx/.xlsm file as the OOXML package it is: parts in a zip, edited in place.

Why not openpyxl: a load/save round trip rebuilds the whole book from openpyxl's own model.
With ``keep_vba=True`` it keeps the VBA project and re-serialises the charts, but it drops the
ribbon's relationship in ``_rels/.rels``, ``xl/metadata.xml`` and every cell's ``cm="1"``, so
every spilling (dynamic-array) formula of the template would come back as a legacy CSE array
formula. Here only the parts an action changes are rewritten (cell values in one sheet, one
drawing, the charts and pictures it names); every other part, ``xl/vbaProject.bin`` and
``customUI/*`` included, is copied through byte for byte.

- ``package``: the zip, its parts, relationships and content types; the bounds and the safe
  parser that make a hostile book one line (``BookError``);
- ``workbook``: ``Workbook``, the entry point: sheets, defined names, shared strings,
  calculation settings, and the sheets' cells and drawings by sheet name;
- ``sheet`` and ``celltext``: a worksheet's cells, and the rows streamed as text at save;
- ``drawing``: charts and pictures anchored at a cell; ``chart``: the chart parts;
- ``styles``: cell formats in ``xl/styles.xml`` (from ``layout.STYLES``) and column widths.

Coordinates are 0-based (row, col) and areas ``cellref.Area``, as everywhere in xl-backprop.
"""

from .package import BookError, Package
from .workbook import Workbook

__all__ = ["BookError", "Package", "Workbook"]
