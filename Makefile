# Each target sets itself up: a virtual environment in .venv, the package installed into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint format complexity check template bench clean pyodide

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

complexity: $(VENV)/.installed  ## radon's figures: the functions above complexity 10 (C or worse), the average, the lines (tests/test_complexity.py holds the limits)
	$(BIN)/radon cc -s -nc xl_backprop
	$(BIN)/radon cc -a xl_backprop | tail -2
	$(BIN)/radon raw -s xl_backprop | sed -n '/\*\* Total \*\*/,/Blank/p'

check: lint complexity test  ## what CI runs: lint, formatting, radon's figures, then the whole test suite

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
	$(BIN)/python benchmarks/bench_network_picture.py
	$(BIN)/python benchmarks/bench_rerun.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache
