"""How the macros' cells look, in the terms both back-ends write, stated once.

``workbook.layout.STYLES`` declares each named style as XlsxWriter format properties; the macros
write the ones their blocks use through two back-ends -- xlwings in live Excel and xlwings Lite
(``macros._xw_style``), and the OOXML file editor (``ooxml.styles.ensure_xf``). Which properties
those are, and the refusal of any other, is :data:`PROPERTIES` and :func:`check`; a column's
width in pixels (the default font's digits and padding) is :func:`column_pixels`, from which
Lite's widths in points and the ``<col width>`` a file stores are both made. No XML library
here: the Lite bundle carries this module.
"""

from __future__ import annotations

#: The XlsxWriter format properties the macros write (their blocks need no others); ``border``
#: only as 1, a thin line in Excel's automatic colour.
PROPERTIES = ("num_format", "bold", "font_color", "bg_color", "border", "align")

#: Calibri 11, the default font: a column's width is counted in its digits, 7 pixels wide ...
MAX_DIGIT_PX = 7
#: ... plus 5 pixels of padding (ECMA-376 Part 1, §18.3.1.13).
PADDING_PX = 5


def check(props: dict, writer: str) -> dict:
    """``props`` if every property is one ``writer`` (the back-end, for the message) writes,
    else ValueError naming the others: a property is refused in one line, never dropped."""
    unknown = sorted(set(props) - set(PROPERTIES)) or (["border"] if props.get("border", 1) != 1 else [])
    if unknown:
        raise ValueError(
            f"style {props}: {', '.join(unknown)} not written here; {writer} writes "
            f"{', '.join(PROPERTIES)} (border 1, thin)"
        )
    return props


def column_pixels(width: float) -> int:
    """Pixels of a column ``width`` characters wide in the default font (7-pixel digits, 5
    pixels of padding), as Excel and XlsxWriter count them."""
    if width < 1:
        return int(width * (MAX_DIGIT_PX + PADDING_PX) + 0.5)
    return int(width * MAX_DIGIT_PX + 0.5) + PADDING_PX
