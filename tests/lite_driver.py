"""Drives a generated main.py the way xlwings Lite does, through xlwings' own Office.js code path.

Run by tests/test_lite.py in an interpreter that has only what Lite has (numpy, matplotlib,
XlsxWriter, xlwings: never xl_backprop installed, never numba or lxml), with
XLWINGS_ON_SERVER=true as Lite sets it. Not a test module: it imports nothing from the tests.

    python -I lite_driver.py MAIN_PY < request.json > answer.json

request: {"calls": [{"func_name": ..., "args": [...]}, ...],
          "scripts": [{"name": ..., "book": <the book payload Lite sends>}, ...]}
answer:  {"functions_meta", "scripts_meta", "results", "scripts": [{"actions", "printed"}], "modules",
          "installed": what the interpreter could import before main.py ran}
"""

import asyncio
import contextlib
import importlib.util
import io
import json
import sys

import xlwings as xw
from xlwings import server


def load_main(path: str):
    spec = importlib.util.spec_from_file_location("main", path)
    main = importlib.util.module_from_spec(spec)
    sys.modules["main"] = main
    spec.loader.exec_module(main)
    return main


def call_function(main, call: dict):
    """What Lite's custom-function runtime sends (the keys of xlwings' own Office.js tests)."""
    data = {
        "func_name": call["func_name"],
        "args": call["args"],
        "version": xw.__version__,
        "client": "Office.js",
        "runtime": "1.4",
        "culture_info_name": "en-US",
        "date_format": "m/d/yyyy",
        "caller_address": "Sheet1!A1",
    }
    return asyncio.run(server.custom_functions_call(data, main))


def run_script(main, name: str, payload: dict) -> dict:
    book = xw.Book(json=payload)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        book = asyncio.run(server.custom_scripts_call(main, name, typehint_to_value={xw.Book: book}))
    return {"actions": book.json()["actions"], "printed": printed.getvalue()}


def main() -> None:
    request = json.load(sys.stdin)
    installed = {name: importlib.util.find_spec(name) is not None for name in ("xl_backprop", "numba", "lxml")}
    first = load_main(sys.argv[1])
    main_module = load_main(sys.argv[1])  # Lite runs main.py again after every edit
    answer = {
        "functions_meta": server.custom_functions_meta(main_module),
        "scripts_meta": server.custom_scripts_meta(main_module),
        "results": [call_function(main_module, c) for c in request["calls"]],
        "scripts": [run_script(main_module, s["name"], s["book"]) for s in request["scripts"]],
    }
    specs = {name: getattr(m, "__spec__", None) for name, m in sorted(sys.modules.items())}
    answer["modules"] = {
        name: {"origin": spec.origin, "loader": type(spec.loader).__name__}
        for name, spec in specs.items()
        if spec is not None
    }
    answer["installed"] = installed
    answer["reloaded"] = {
        "finders": sum(type(f).__name__ == "_EmbeddedXlBackprop" for f in sys.meta_path),
        "fresh": first.SIGMOID is not main_module.SIGMOID,
    }
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
