"""Shared test set-up: the paths every module uses, a helper that types values into a copy of a
book, the ``libreoffice`` marker, and ``missing`` (what a test needs is not here: fail in CI,
skip elsewhere). ``pytest -m "not libreoffice and not install and not pyodide"`` is the quick
loop.

Helpers of one kind live in their own modules: ``ooxml_read`` (the one OOXML reader),
``published`` (reference numbers with their sources), ``scalar_reference`` (a plain loop),
``libreoffice`` (headless LibreOffice), ``ooxml_audit`` (openxml-audit), ``xlwings_windows`` and
``xlwings_standin`` (xlwings without Excel), ``lite_driver`` (xlwings Lite's code path) and
``lite_cases`` (what is sent through it), ``pyodide_node`` (real Pyodide under Node). The Lite
fixtures are here: the generated files, Lite's interpreter in CPython and the driver's answer
there, which test_lite.py checks against the classic faces and test_pyodide.py against Pyodide.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "workbook_template.xlsm"
LITE_DRIVER = Path(__file__).with_name("lite_driver.py")


def missing(what: str, fix: str) -> NoReturn:
    """Stop a test that needs ``what``: it fails in CI (``CI`` set), where .ci/run installs it,
    and is skipped elsewhere, saying how to get it."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI: {fix}")
    pytest.skip(f"{what} is not installed ({fix})")


def as_plain_python(monkeypatch, module) -> None:
    """Every compiled function of ``module`` (a numba dispatcher) replaced by its Python source
    (``py_func``) for the test: all of them, so that no dispatcher is compiled while its callees
    are plain functions (with numba's cache cold, that fails to type)."""
    for name, f in list(vars(module).items()):
        if hasattr(f, "py_func"):
            monkeypatch.setattr(module, name, f.py_func)


def set_cells(src: Path, dst: Path, sheet: str, cell: str, rows: list[list]) -> Path:
    """A copy of ``src`` with ``rows`` typed in at ``cell`` (what a user does before a run)."""
    from xl_backprop.ooxml import Workbook
    from xl_backprop.workbook import layout as L

    pkg = Workbook.read(src)
    pkg.write_cells(sheet, *L.rowcol(cell), rows)
    pkg.save(dst)
    return dst


def _runs_libreoffice(func) -> bool:
    try:
        return "libreoffice." in inspect.getsource(func)
    except (OSError, TypeError):
        return False


def pytest_collection_modifyitems(config, items):
    """Mark every test that starts LibreOffice, itself or through one of its fixtures."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        funcs = [getattr(item, "function", None)]
        for name in getattr(item, "fixturenames", ()):
            funcs += [d.func for d in (info.name2fixturedefs.get(name, ()) if info else ())]
        if any(f is not None and _runs_libreoffice(f) for f in funcs):
            item.add_marker(pytest.mark.libreoffice)


@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs (needs root, as on the project's machines; skipped elsewhere)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root on Linux")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True)
    if proc.returncode:
        pytest.skip(f"cannot mount a tmpfs: {proc.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


# --- xlwings Lite ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def lite_files(tmp_path_factory) -> Path:
    """``xl-backprop lite``'s main.py and requirements.txt, with the driver's request.json beside them."""
    from xl_backprop import lite_bundle

    from .lite_cases import request

    out = tmp_path_factory.mktemp("lite")
    lite_bundle.write(out)
    (out / "request.json").write_text(json.dumps(request()))
    return out


@pytest.fixture(scope="session")
def lite_python(lite_files, request) -> Path:
    """A virtual environment with exactly what requirements.txt lists (plus pip), cached by its
    text and this Python's version, so it is built once."""
    reqs = (lite_files / "requirements.txt").read_text()
    key = hashlib.sha256(f"{sys.version}\n{reqs}".encode()).hexdigest()[:16]
    venv = Path(request.config.cache.mkdir("xl-backprop-lite")) / f"venv-{key}"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    done = venv / "installed.txt"
    if not done.exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        pip = subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "-q",
                "-r",
                str(lite_files / "requirements.txt"),
            ],
            capture_output=True,
            text=True,
        )
        if pip.returncode:
            last = (pip.stderr.strip().splitlines() or ["no output"])[-1]
            pytest.skip(f"cannot build Lite's interpreter (pip install -r requirements.txt): {last}")
        done.write_text(reqs)
    return python


def run_lite_driver(command: list[str], lite_files: Path, cwd: Path, env: dict[str, str]) -> dict:
    """``command`` (an interpreter) runs lite_driver.py on main.py and request.json, copied into
    ``cwd`` (Pyodide sees the host's files only there and in the driver's folder); its answer."""
    for name in ("main.py", "request.json"):
        shutil.copyfile(lite_files / name, cwd / name)
    run = subprocess.run(
        [*command, str(LITE_DRIVER), "main.py", "request.json", "answer.json"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=900,
    )
    assert run.returncode == 0 and (cwd / "answer.json").exists(), run.stderr[-3000:]
    return json.loads((cwd / "answer.json").read_text())


@pytest.fixture(scope="session")
def lite_answer(lite_files, lite_python, tmp_path_factory) -> dict:
    """The driver's answer in CPython with only Lite's packages."""
    cwd = tmp_path_factory.mktemp("lite-run")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "XLWINGS"))}
    env.update(MPLCONFIGDIR=str(cwd))
    return run_lite_driver([str(lite_python), "-I"], lite_files, cwd, env)
