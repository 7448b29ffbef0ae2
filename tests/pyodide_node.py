"""Real Pyodide (CPython on WebAssembly) under Node, for the Lite tests (test_pyodide.py).

The project's shared tools set it up and run a script in it: ``shared/tools/pyodide/setup.sh
DIR`` puts Pyodide 0.27.7 (npm ``pyodide@0.27.7``) and its official package wheels (numpy,
matplotlib, ..., each checked against the lock file's sha256), and the pure-Python wheels
XlsxWriter and xlwings, in DIR; ``run_py.mjs`` runs a .py file there under Node. The tools are
found in ``shared/tools/pyodide`` beside this checkout or one of its parents (CI clones the
repository with a copy of shared/ beside it), or where ``XL_BACKPROP_PYODIDE_TOOLS`` says. DIR is
``XL_BACKPROP_PYODIDE``, by default ``~/.cache/xl-backprop-pyodide``: outside the checkout, so a
fresh clone reuses it.

    python tests/pyodide_node.py setup     # what `make pyodide` runs: set DIR up unless it is ready
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = Path("shared/tools/pyodide")
SETUP = "make pyodide"  # what sets DIR up (this module's ``setup``)


def tools() -> Path | None:
    """The folder of setup.sh and run_py.mjs, or None when it is nowhere to be found."""
    if os.environ.get("XL_BACKPROP_PYODIDE_TOOLS"):
        return Path(os.environ["XL_BACKPROP_PYODIDE_TOOLS"])
    return next((d / TOOLS for d in ROOT.parents if (d / TOOLS / "run_py.mjs").is_file()), None)


def home() -> Path:
    """DIR: where Pyodide is set up (dist/, extra-wheels/, mplcache/)."""
    return Path(os.environ.get("XL_BACKPROP_PYODIDE") or Path.home() / ".cache" / "xl-backprop-pyodide")


def is_ready() -> bool:
    return (home() / ".ready").is_file() and (home() / "dist" / "pyodide.mjs").is_file()


def extra_wheels() -> list[str]:
    """The file names of the pure-Python wheels set up beside Pyodide's own packages."""
    return sorted(p.name for p in (home() / "extra-wheels").glob("*.whl"))


def interpreter() -> list[str]:
    """The command that runs a script in Pyodide, as ``python`` would: append the script and its
    arguments (see ``problem`` for what it needs)."""
    return [shutil.which("node") or "node", str(tools() / "run_py.mjs")]


def environment(packages: list[str]) -> dict[str, str]:
    """Node's environment for run_py.mjs: the set-up in ``home()``, ``packages`` loaded before the
    script runs (names of Pyodide's packages or of the extra wheels: what Lite installs)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYO_", "PYODIDE_"))}
    env.update(
        PYODIDE_DIST=str(home() / "dist"),
        PYO_EXTRA_WHEELS=str(home() / "extra-wheels"),
        PYO_PACKAGES=",".join(packages),
        PYO_TIMING="1",
    )
    return env


def problem() -> tuple[str, str] | None:
    """What is missing to run Pyodide here, and how to get it; None when nothing is."""
    if shutil.which("node") is None:
        return "Node.js (node)", "apt-get install nodejs npm, as .ci/run does"
    if tools() is None:
        return f"{TOOLS} (beside the checkout or one of its parents)", "set XL_BACKPROP_PYODIDE_TOOLS to its folder"
    if not is_ready():
        return f"Pyodide in {home()}", SETUP
    return None


def setup() -> int:
    """Set Pyodide up in ``home()`` with the shared tools' setup.sh, unless it is ready."""
    if is_ready():
        print(f"Pyodide is set up in {home()}")
        return 0
    if tools() is None:
        print(f"{TOOLS} not found beside {ROOT} or its parents; set XL_BACKPROP_PYODIDE_TOOLS", file=sys.stderr)
        return 1
    home().mkdir(parents=True, exist_ok=True)  # setup.sh starts again over a set-up that stopped half-way
    return subprocess.run(["bash", str(tools() / "setup.sh"), str(home())]).returncode


if __name__ == "__main__":
    if sys.argv[1:] != ["setup"]:
        sys.exit("usage: python tests/pyodide_node.py setup")
    sys.exit(setup())
