"""The Examples sheet and the Backprop sheet's choices: which examples the network trains on, and
which activation each layer uses, in native formulas (issue 18).

- ``ExampleSet`` (Backprop) picks a preset of ``examples.PRESETS`` or ``own``: the learner's own
  block on this sheet (``OwnExamples``, up to ``layout.EXAMPLE_ROWS`` rows of i1, i2, t1, t2). The
  course's preset is the Backprop sheet's own i1, i2, t1, t2 (B4:B7), so that they stay the
  course's inputs to change.
- ``ExampleInputs`` / ``ExampleTargets`` hold the examples in use, one per row from the top, as
  formulas of the choice; a row that is not an example holds an empty text. ``ExampleCount`` counts
  them (0 when the set is bad), ``ExampleMessage`` says in one line what is wrong ("" when nothing).
- ``HiddenActCode``, ``OutputActCode`` and ``ExampleSetCode`` are named formulas: a choice's
  1-based place in its list (``layout.CHOICES``), #N/A for a text not in it.
"""

from __future__ import annotations

from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from .. import examples
from . import layout as L

TITLE = "Examples: what the network learns from"
INTRO = (
    "Pick the examples on the Backprop sheet (examples, cell B24): a preset, or own for the yellow block here.",
    "Each training step takes the mean gradient over all the examples; E_total is the mean of their errors.",
)
#: The columns of both blocks, left to right.
COLUMNS = examples.COLUMNS
#: The course's example is the Backprop sheet's inputs, by the names of its cells.
_COURSE_CELLS = {"i1": L.IN_I1.name, "i2": L.IN_I2.name, "t1": L.IN_T1.name, "t2": L.IN_T2.name}


def code_formula(name: str) -> str:
    """The named formula of a choice's 1-based code (``name``: a CHOICE_INPUTS name)."""
    inp = next(i for i in L.CHOICE_INPUTS if i.name == name)
    listed = ",".join(f'"{x}"' for x in L.CHOICES[name])
    return f"=MATCH({inp.ref},{{{listed}}},0)"


def code_names() -> dict[str, str]:
    """Each named formula's name and formula: HiddenActCode, OutputActCode, ExampleSetCode."""
    out = {code: code_formula(choice) for choice, code in L.ACT_CODE_NAMES.items()}
    out[L.EXAMPLE_SET_CODE] = code_formula(L.IN_EXAMPLE_SET.name)
    return out


def _own(k: int, column: int) -> str:
    return xl_rowcol_to_cell(L.EXAMPLE_FIRST_ROW + k, L.OWN_EXAMPLES_BLOCK.col + column, col_abs=True)


def _own_row(k: int) -> str:
    return f"{_own(k, 0)}:{_own(k, len(COLUMNS) - 1)}"


def _preset_value(name: str, k: int, column: int) -> str:
    rows = examples.PRESETS[name]
    return repr(float(rows[k][column])) if k < len(rows) else '""'


def in_use_formula(k: int, column: int) -> str:
    """Example ``k`` (0-based row), ``COLUMNS[column]``, as the examples in use: the preset's number,
    the own block's when its row holds four numbers, else an empty text."""
    choices = []
    for name in L.EXAMPLE_SETS:
        if name == "course":
            cell = _COURSE_CELLS[COLUMNS[column]]
            choices.append(f"IF(ISNUMBER({cell}),{cell},NA())" if k == 0 else '""')
        elif name == L.OWN_EXAMPLES:
            choices.append(f'IF(COUNT({_own_row(k)})={len(COLUMNS)},{_own(k, column)},"")')
        else:
            choices.append(_preset_value(name, k, column))
    return f"=CHOOSE({L.EXAMPLE_SET_CODE},{','.join(choices)})"


def count_formula() -> str:
    """How many examples are in use; 0 when ExampleMessage says something is wrong."""
    a = L.EXAMPLE_INPUTS.area
    column = f"{xl_rowcol_to_cell(a.row1, a.col1, True, True)}:{xl_rowcol_to_cell(a.row2, a.col1, True, True)}"
    return f'=IF({L.EXAMPLE_MESSAGE.name}="",COUNT({column}),0)'


def message_formula() -> str:
    """One line on what is wrong with the examples, "" when nothing: a choice not in the list, an
    own row with some but not all four numbers (or a text), no own example at all."""
    bad_rows = "+".join(
        f"(COUNTA({_own_row(k)})>0)*(COUNT({_own_row(k)})<{len(COLUMNS)})" for k in range(L.EXAMPLE_ROWS)
    )
    first_bad = "".join(
        f"IF((COUNTA({_own_row(k)})>0)*(COUNT({_own_row(k)})<{len(COLUMNS)}),{L.EXAMPLE_FIRST_ROW + k + 1},"
        for k in range(L.EXAMPLE_ROWS)
    )
    first_bad += "0" + ")" * L.EXAMPLE_ROWS
    own = L.OWN_EXAMPLES_BLOCK.ref
    sets = ", ".join(L.EXAMPLE_SETS)
    return (
        f'=IF(ISNA({L.EXAMPLE_SET_CODE}),"examples: expected one of {sets}",'
        f'IF({L.EXAMPLE_SET_CODE}<>{len(L.EXAMPLE_SETS)},"",'
        f'IF(({bad_rows})>0,"own examples, row "&{first_bad}&": expected 4 numbers (i1, i2, t1, t2)",'
        f'IF(COUNT({own})=0,"own examples: expected at least one row of 4 numbers (i1, i2, t1, t2)",""))))'
    )


def _in_use(j: int, column: int) -> str:
    """The cell of slot ``j`` (1-based), ``COLUMNS[column]``, of the examples in use."""
    a = L.EXAMPLE_INPUTS.area
    return xl_rowcol_to_cell(a.row1 + j - 1, a.col1 + column)


def slot_formula(name: str, j: int) -> str:
    """Row ``name`` (``layout.EXAMPLE_SLOT_ROWS``) of slot ``j``: 1 when the slot holds an example,
    else 0, #N/A for a bad set (used); the example's number, 0 for no example (i1 ... t2)."""
    if name == "used":
        return f"=IF({L.EXAMPLE_COUNT.name}>0,IF(ISNUMBER({_in_use(j, 0)}),1,0),NA())"
    return f"=IF({L.slot_ref('used', j).split('!')[1]}=1,{_in_use(j, COLUMNS.index(name))},0)"


def slot_value(name: str, j: int) -> float:
    """The value ``slot_formula`` stores in the template (the default set, the course's)."""
    rows = examples.PRESETS[examples.DEFAULT]
    if name == "used":
        return 1.0 if j <= len(rows) else 0.0
    return float(rows[j - 1][COLUMNS.index(name)]) if j <= len(rows) else 0.0


def shown_slot_formula() -> str:
    """ExampleShown when it is the number of a slot that holds an example, else #N/A."""
    n = L.IN_EXAMPLE_SHOWN.name
    return (
        f"=IF(ISNUMBER({n}),IF(AND({n}>=1,{n}<={L.EXAMPLE_ROWS},{n}=INT({n})),"
        f"IF(INDEX({L.EXAMPLE_SLOTS['used'].name},1,{n})=1,{n},NA()),NA()),NA())"
    )


def choice_message_formula() -> str:
    """One line on the Backprop sheet on the first bad choice, "" when every choice is good."""
    names = ", ".join(L.CHOICES[L.IN_HIDDEN_ACT.name])
    act = [
        f'IF(ISNA({L.ACT_CODE_NAMES[inp.name]}),"{inp.label} ({inp.cell}): expected one of {names}",'
        for inp in (L.IN_HIDDEN_ACT, L.IN_OUTPUT_ACT)
    ]
    shown = L.IN_EXAMPLE_SHOWN
    return (
        "=" + "".join(act) + f'IF({L.EXAMPLE_MESSAGE.name}<>"",{L.EXAMPLE_MESSAGE.name},'
        f'IF(ISNA({L.SHOWN_SLOT.name}),"{shown.label} ({shown.cell}): expected the row of an example in use '
        f'(1 to {L.EXAMPLE_ROWS}, Examples sheet)",""))))'
    )


def in_use_value(k: int, column: int):
    """The value ``in_use_formula`` stores in the template (the default set, the course's)."""
    rows = examples.PRESETS[examples.DEFAULT]
    return float(rows[k][column]) if k < len(rows) else ""


def _stored(value):
    """A formula's stored result: an empty text stored as the text it is (``sheets.EMPTY_TEXT``)."""
    from .sheets import EMPTY_TEXT  # sheets imports this module

    return EMPTY_TEXT if value == "" else value


def write_examples(book: Workbook, fmt: dict) -> Worksheet:
    ws = book.add_worksheet(L.SHEET_EXAMPLES)
    ws.write("A1", TITLE, fmt["title"])
    for k, line in enumerate(INTRO):
        ws.write(1 + k, 0, line, fmt["note"])
    head = L.EXAMPLE_FIRST_ROW - 1
    own, used = L.OWN_EXAMPLES_BLOCK.col, L.EXAMPLE_INPUTS.col
    ws.write(head - 1, own, "your own examples (examples: own)", fmt["h2"])
    ws.write(head - 1, used, "the examples in use", fmt["h2"])
    for j, name in enumerate(COLUMNS):
        ws.write(head, own + j, name, fmt["label"])
        ws.write(head, used + j, name, fmt["label"])
    for k in range(L.EXAMPLE_ROWS):
        r = L.EXAMPLE_FIRST_ROW + k
        for j in range(len(COLUMNS)):
            ws.write_blank(r, own + j, None, fmt["input"])
            ws.write_formula(r, used + j, in_use_formula(k, j), None, _stored(in_use_value(k, j)))
    ws.write(L.EXAMPLE_COUNT.row, L.EXAMPLE_COUNT.col - 1, "examples in use", fmt["label"])
    ws.write_formula(
        L.EXAMPLE_COUNT.row, L.EXAMPLE_COUNT.col, count_formula(), None, len(examples.PRESETS[examples.DEFAULT])
    )
    ws.write_formula(L.EXAMPLE_MESSAGE.row, L.EXAMPLE_MESSAGE.col, message_formula(), None, _stored(""))
    _write_slots(ws, fmt)
    ws.set_column(own, own + len(COLUMNS) - 1, 8)
    ws.set_column(used, used + len(COLUMNS) - 1, 8)
    last = xl_rowcol_to_cell(L.SHOWN_SLOT.row, used + len(COLUMNS) - 1)
    from .sheets import _print_setup  # sheets imports this module

    _print_setup(ws, f"A1:{last}")
    return ws


SHOWN_NOTE = "ShownSlot · the table's example (ExampleShown), #N/A when it is none"


def _write_slots(ws: Worksheet, fmt: dict) -> None:
    """The examples in use as numbers, a column per slot, for the per-example grids; the shown slot."""
    head = L.EXAMPLE_SLOT_HEAD_ROW
    ws.write(
        head - 1,
        0,
        "the examples in use as numbers, a column per slot (the grids right of the tables read them)",
        fmt["h2"],
    )
    ws.write(head, 0, "slot", fmt["label"])
    for j in range(1, L.EXAMPLE_ROWS + 1):
        ws.write_number(head, j, j, fmt["head"])
    for name, place in L.EXAMPLE_SLOTS.items():
        ws.write(place.row, 0, f"{name} ({place.name})", fmt["label"])
        for j in range(1, L.EXAMPLE_ROWS + 1):
            ws.write_formula(place.row, place.col + j - 1, slot_formula(name, j), None, slot_value(name, j))
    ws.write(L.SHOWN_SLOT.row, 0, "shown slot", fmt["label"])
    ws.write_formula(L.SHOWN_SLOT.row, L.SHOWN_SLOT.col, shown_slot_formula(), None, float(L.IN_EXAMPLE_SHOWN.default))
    ws.write(
        L.SHOWN_SLOT.row,
        L.SHOWN_SLOT.col + 1,
        SHOWN_NOTE,
        fmt["note"],
    )


def define_names(book: Workbook) -> None:
    """The Examples sheet's defined names, and the choices' named formulas."""
    for place in (*L.EXAMPLE_NAMES, *L.EXAMPLE_SLOT_NAMES, L.CHOICE_MESSAGE):
        book.define_name(place.name, "=" + place.ref)
    for name, formula in code_names().items():
        book.define_name(name, formula)


def write_choices(ws: Worksheet, fmt: dict) -> None:
    """The Backprop sheet's choices: a dropdown per layer's activation and for the examples, and
    the shown example."""
    for inp in L.CHOICE_INPUTS:
        listed = L.CHOICES[inp.name]
        ws.write(inp.row, 0, inp.label, fmt["label"])
        ws.write_string(inp.row, inp.col, str(inp.default), fmt["input"])
        ws.write(inp.row, inp.col + 1, f"{inp.name} · {', '.join(listed)}", fmt["note"])
        ws.data_validation(
            inp.cell,
            {
                "validate": "list",
                "source": list(listed),
                "error_title": "xl-backprop",
                "error_message": f"{inp.label}: expected one of {', '.join(listed)}",
                "input_title": inp.label,
                "input_message": "Pick from the list; the sheet recalculates.",
            },
        )
    msg = L.CHOICE_MESSAGE
    ws.write_formula(msg.row, msg.col, choice_message_formula(), fmt["error_text"], _stored(""))
    shown = L.IN_EXAMPLE_SHOWN
    ws.write(shown.row, 0, shown.label, fmt["label"])
    ws.write_number(shown.row, shown.col, float(shown.default), fmt["input"])
    ws.write(shown.row, shown.col + 1, f"{shown.name} · the example the table's rows show", fmt["note"])
    ws.data_validation(
        shown.cell,
        {
            "validate": "integer",
            "criteria": "between",
            "minimum": 1,
            "maximum": L.EXAMPLE_ROWS,
            "error_title": "xl-backprop",
            "error_message": f"shown example: expected a whole number from 1 to {L.EXAMPLE_ROWS}",
            "input_title": "shown example (ExampleShown)",
            "input_message": "Which example's forward and backward values the table shows.",
        },
    )
