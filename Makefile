# Each target sets itself up: a virtual environment in .venv, the package installed into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint format check template bench clean pyodide

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

demo: $(VENV)/.installed  ## train the default network for the default learning rates
	$(BIN)/xl-backprop train --out-dir demo-output --force

test: $(VENV)/.installed  ## the whole test suite (LibreOffice tests need `soffice` on PATH)
	$(BIN)/python -m pytest
	# the engine again as plain Python, as it runs where numba is missing
	NUMBA_DISABLE_JIT=1 $(BIN)/python -m pytest -q tests/test_network.py tests/test_kernel.py tests/test_analysis.py tests/test_lr_layers.py tests/test_lrmap.py tests/test_activations.py tests/test_examples.py

lint: $(VENV)/.installed  ## ruff's rules, and the formatting ruff format would give
	$(BIN)/ruff check xl_backprop tests benchmarks
	$(BIN)/ruff format --check xl_backprop tests benchmarks

format: $(VENV)/.installed  ## reformat the code in place (ruff format)
	$(BIN)/ruff format xl_backprop tests benchmarks

check: lint test  ## what CI runs: lint, formatting, then the whole test suite

pyodide:  ## real Pyodide under Node for tests/test_pyodide.py, in ~/.cache/xl-backprop-pyodide (once)
	$(PYTHON) tests/pyodide_node.py setup

template: $(VENV)/.installed  ## rebuild workbook_template.xlsm from its text sources
	$(BIN)/xl-backprop template --out workbook_template.xlsm --force

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_train.py
	$(BIN)/python benchmarks/bench_activations.py
	$(BIN)/python benchmarks/bench_write.py
	$(BIN)/python benchmarks/bench_doctor.py
	$(BIN)/python benchmarks/bench_map.py
	$(BIN)/python benchmarks/bench_animate.py
	$(BIN)/python benchmarks/bench_rerun.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache
