"""Drives a generated main.py the way xlwings Lite does, through xlwings' own Office.js code path.

Run by tests/test_lite.py in CPython with only what Lite has (numpy, matplotlib, XlsxWriter,
xlwings: never xl_backprop installed, never numba or lxml), and by tests/test_pyodide.py in real
Pyodide under Node. It sets XLWINGS_ON_SERVER=true as Lite does. Not a test module: it imports
nothing from the tests.

    python -I lite_driver.py MAIN_PY REQUEST_JSON ANSWER_JSON

request: {"calls": [{"func_name": ..., "args": [...]}, ...],
          "scripts": [{"name": ..., "book": <the book payload Lite sends>}, ...]}
answer:  {"functions_meta", "scripts_meta", "results", "scripts": [{"actions", "printed"}], "modules",
          "installed": what the interpreter could import before main.py ran, "platform", "python"}

xlwings' calls are coroutines. CPython runs them with ``asyncio.run``. In Pyodide,
``asyncio.run`` needs WebAssembly stack switching (JSPI), which Node lacks, so there each
coroutine is driven to its end by hand: xlwings' calls for these functions and scripts await
nothing real, and a coroutine that did would stop the run with a message, not hang.
"""

import asyncio
import contextlib
import importlib.util
import io
import json
import os
import sys


def finish(coroutine):
    """The coroutine's result: ``asyncio.run`` where it works, else driven to its end by hand."""
    if sys.platform != "emscripten":
        return asyncio.run(coroutine)
    try:
        awaited = coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError(f"{coroutine.__qualname__} awaited {awaited!r}: it needs an event loop")


def load_main(path: str):
    spec = importlib.util.spec_from_file_location("main", path)
    main = importlib.util.module_from_spec(spec)
    sys.modules["main"] = main
    spec.loader.exec_module(main)
    return main


def call_function(xw, server, main, call: dict):
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
    return finish(server.custom_functions_call(data, main))


def run_script(xw, server, main, name: str, payload: dict) -> dict:
    book = xw.Book(json=payload)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        book = finish(server.custom_scripts_call(main, name, typehint_to_value={xw.Book: book}))
    return {"actions": book.json()["actions"], "printed": printed.getvalue()}


def main() -> None:
    main_py, request_json, answer_json = sys.argv[1:]
    with open(request_json, encoding="utf-8") as fh:
        request = json.load(fh)
    installed = {name: importlib.util.find_spec(name) is not None for name in ("xl_backprop", "numba", "lxml")}
    os.environ.update(XLWINGS_ON_SERVER="true", XLWINGS_LICENSE_KEY="noncommercial")  # as Lite sets them
    import xlwings as xw
    from xlwings import server

    first = load_main(main_py)
    main_module = load_main(main_py)  # Lite runs main.py again after every edit
    answer = {
        "functions_meta": server.custom_functions_meta(main_module),
        "scripts_meta": server.custom_scripts_meta(main_module),
        "results": [call_function(xw, server, main_module, c) for c in request["calls"]],
        "scripts": [run_script(xw, server, main_module, s["name"], s["book"]) for s in request["scripts"]],
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
    answer["platform"] = sys.platform
    answer["python"] = list(sys.version_info[:3])
    with open(answer_json, "w", encoding="utf-8") as fh:
        json.dump(answer, fh)


if __name__ == "__main__":
    main()
