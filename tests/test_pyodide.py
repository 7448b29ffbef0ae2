"""The xlwings Lite face in real Pyodide: the generated main.py under CPython 3.12 on WebAssembly.

``lite_driver.py`` runs in Pyodide 0.27.7 under Node (``pyodide_node.py``: numpy 2.0.2 and
matplotlib 3.8.4 as Pyodide builds them, XlsxWriter and xlwings from their pure-Python wheels,
the packages requirements.txt lists loaded before the driver starts, as Lite installs them). It
sends the same calls and scripts as test_lite.py (``lite_cases.py``) through xlwings' Office.js
code path, and its answer must equal the answer of the same driver in CPython with only Lite's
packages, which test_lite.py holds to the classic faces: every function result (numbers to
1e-12, messages equal), every script's actions in order (pictures by their size in pixels: the
PNG bytes differ between matplotlib builds), the same number of each.

One difference from Lite, said in the driver: ``asyncio.run`` needs WebAssembly stack switching,
which Node lacks, so in Pyodide the driver drives each of xlwings' coroutines to its end by hand
(they await nothing real for these functions and scripts). Lite's JavaScript is not run.

Where Node or the Pyodide set-up is missing these tests are skipped, saying how to get it
(``make pyodide``); in CI they fail instead, as .ci/run sets both up.
"""

from __future__ import annotations

import base64
import re

import pytest

from . import pyodide_node
from .conftest import missing, run_lite_driver
from .lite_cases import CALLS, SCRIPT_RUNS, WALK_RUNS
from .ooxml_read import png_size

pytestmark = pytest.mark.pyodide


def requirements(lite_files) -> dict[str, str | None]:
    """requirements.txt: package name (lower case) -> its pinned version, or None."""
    reqs = {}
    for line in (lite_files / "requirements.txt").read_text().splitlines():
        name, _, version = line.strip().partition("==")
        reqs[name.lower()] = version or None
    return reqs


@pytest.fixture(scope="module")
def pyodide_answer(lite_files, tmp_path_factory) -> dict:
    """The driver's answer in Pyodide, with Lite's packages loaded first."""
    if (gap := pyodide_node.problem()) is not None:
        missing(*gap)
    cwd = tmp_path_factory.mktemp("pyodide-run")
    env = pyodide_node.environment(list(requirements(lite_files)))
    return run_lite_driver(pyodide_node.interpreter(), lite_files, cwd, env)


def test_the_set_up_is_what_lite_installs(lite_files, pyodide_answer):
    """Pyodide's CPython, and the pinned wheels at requirements.txt's versions."""
    assert pyodide_answer["platform"] == "emscripten" and pyodide_answer["python"][:2] == [3, 12]
    wheels = {w.split("-")[0].lower(): w.split("-")[1] for w in pyodide_node.extra_wheels()}
    pinned = {name: version for name, version in requirements(lite_files).items() if version}
    assert pinned and all(wheels.get(name.replace("-", "_")) == v for name, v in pinned.items()), (pinned, wheels)


def test_main_py_runs_on_what_lite_has_only(pyodide_answer, lite_answer):
    nothing_more = {"xl_backprop": False, "numba": False, "lxml": False}
    assert pyodide_answer["installed"] == lite_answer["installed"] == nothing_more
    assert pyodide_answer["reloaded"] == lite_answer["reloaded"] == {"finders": 1, "fresh": True}
    ours = {n: m for n, m in pyodide_answer["modules"].items() if n.split(".")[0] == "xl_backprop"}
    assert ours == {n: m for n, m in lite_answer["modules"].items() if n.split(".")[0] == "xl_backprop"}
    assert not {n for n in pyodide_answer["modules"] if n.split(".")[0] in ("lxml", "numba", "pyOpenVBA", "openpyxl")}


def test_functions_and_scripts_are_registered_alike(pyodide_answer, lite_answer):
    assert pyodide_answer["functions_meta"] == lite_answer["functions_meta"]
    assert pyodide_answer["scripts_meta"] == lite_answer["scripts_meta"]


def assert_same(got, expected, where: str) -> None:
    """Equal JSON values, numbers to 1e-12 (relative above 1)."""
    if isinstance(expected, dict):
        assert isinstance(got, dict) and got.keys() == expected.keys(), f"{where}: {got!r} != {expected!r}"
        for key in expected:
            assert_same(got[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), f"{where}: {got!r} != {expected!r}"
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            assert_same(g, e, f"{where}[{i}]")
    elif isinstance(expected, float) or (isinstance(expected, int) and not isinstance(expected, bool)):
        assert isinstance(got, int | float) and not isinstance(got, bool), f"{where}: {got!r} != {expected!r}"
        assert abs(got - expected) <= 1e-12 * max(1.0, abs(expected)), f"{where}: {got!r} != {expected!r}"
    else:
        assert got == expected and type(got) is type(expected), f"{where}: {got!r} != {expected!r}"


def test_as_many_calls_and_scripts(pyodide_answer, lite_answer):
    assert len(pyodide_answer["results"]) == len(lite_answer["results"]) == len(CALLS)
    assert len(pyodide_answer["scripts"]) == len(lite_answer["scripts"]) == len(SCRIPT_RUNS) + len(WALK_RUNS)


@pytest.mark.parametrize("k", range(len(CALLS)), ids=[c[0] for c in CALLS])
def test_function_result_equals_cpythons(pyodide_answer, lite_answer, k):
    assert_same(pyodide_answer["results"][k], lite_answer["results"][k], CALLS[k][0])


PNG = re.compile(r"^[A-Za-z0-9+/]{200,}={0,2}$")  # a base64 picture among an action's arguments


def pictures_by_size(action: dict) -> dict:
    """The action with each base64 PNG argument replaced by the picture's size in pixels."""

    def arg(a):
        if isinstance(a, str) and PNG.match(a) and base64.b64decode(a).startswith(b"\x89PNG"):
            return {"png": list(png_size(base64.b64decode(a)))}
        return a

    return {**action, "args": [arg(a) for a in action.get("args", [])]}


@pytest.mark.parametrize(
    "k",
    range(len(SCRIPT_RUNS) + len(WALK_RUNS)),
    ids=[f"{s}{'-typed' if 'values' in o else ''}" for s, _, o in SCRIPT_RUNS] + [f"{s}-{b}" for s, b, _ in WALK_RUNS],
)
def test_script_actions_equal_cpythons(pyodide_answer, lite_answer, k):
    got, expected = pyodide_answer["scripts"][k], lite_answer["scripts"][k]
    assert got["printed"] == expected["printed"]
    assert [a["func"] for a in got["actions"]] == [a["func"] for a in expected["actions"]]  # the count and the order
    pictures = [a for a in expected["actions"] if a["func"] == "addPicture"]
    assert all("png" in pictures_by_size(a)["args"][0] for a in pictures)  # compared by size below
    for i, (g, e) in enumerate(zip(got["actions"], expected["actions"], strict=True)):
        assert_same(pictures_by_size(g), pictures_by_size(e), f"script {k} action {i} ({e['func']})")
