"""Chart parts: a DrawingML line chart, as XlsxWriter writes it (the format Excel itself reads)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Sequence

from ..cellref import Area, Value

#: Charts carry a copy of their values (for viewers that do not recalculate) up to this many.
CHART_CACHE_LIMIT = 20_000


def line_chart(
    title: str,
    x_title: str,
    y_title: str,
    source: Area,
    categories: Area,
    read: Callable[[Area], list[list[Value]]],
    colors: Sequence[str] = (),
) -> bytes:
    """The chart part of a line chart with one series per column of ``source`` (its first row
    the series' names, the rows below their values) against ``categories``. The series'
    cached values are read through ``read`` (the cells as the book holds them now) when
    there are at most ``CHART_CACHE_LIMIT``; else only the names are cached. ``colors``: the
    series' line colours, in order (none: the application's own)."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet(source.sheet)
    src, cat = source, categories
    names = Area(src.sheet, src.row1, src.col1, src.row1, src.col2)
    cached = (src, cat) if src.shape[0] * (src.shape[1] + 1) <= CHART_CACHE_LIMIT else (names,)
    for area in cached:  # XlsxWriter fills the chart's caches from these cells
        for i, row in enumerate(read(area)):
            for j, v in enumerate(row):
                if v is not None:
                    ws.write(area.row1 + i, area.col1 + j, v)
    chart = wb.add_chart({"type": "line"})
    for k, col in enumerate(range(src.col1, src.col2 + 1)):
        series = {
            "name": [src.sheet, src.row1, col],
            "categories": [cat.sheet, cat.row1, cat.col1, cat.row2, cat.col2],
            "values": [src.sheet, src.row1 + 1, col, src.row2, col],
        }
        if k < len(colors):
            series["line"] = {"color": colors[k]}
        chart.add_series(series)
    chart.set_title({"name": title})
    chart.set_x_axis({"name": x_title})
    chart.set_y_axis({"name": y_title})
    ws.insert_chart(0, 0, chart)
    wb.close()
    with zipfile.ZipFile(buf) as z:
        return z.read("xl/charts/chart1.xml")
