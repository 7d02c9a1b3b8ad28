# Two entry points for a fresh machine with only Python 3: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv

$(VENV)/.installed: pyproject.toml | $(BIN)/uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e ".[dev]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/python examples/demo.py

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q -n 2

bench: $(VENV)/.installed
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e ".[dev,bench]"
	$(BIN)/python benchmarks/run_overhead.py
	$(BIN)/python benchmarks/compare_jax.py
	$(BIN)/python benchmarks/gradient_chain.py --timeout 300
	$(BIN)/python benchmarks/peak_memory.py

clean:
	rm -rf $(VENV)
