# Two entry points for a fresh machine with only Python 3: `make demo` and `make test`.
# CI (.ci/run) also runs `make test-lowest`: the suite on the oldest versions that
# pyproject.toml allows, so a lower bound can never silently stop being true.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOWEST_VENV := .venv-lowest
# The lowest Python that requires-python allows, read from pyproject.toml so the two
# cannot drift apart; uv finds it on PATH or downloads it.
LOWEST_PYTHON := $(shell sed -n 's/^requires-python = ">=\([0-9.]*\)"/\1/p' pyproject.toml)

.PHONY: demo test test-lowest bench notebooks clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv

$(VENV)/.installed: pyproject.toml | $(BIN)/uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e ".[dev,notebooks]"
	touch $@

# A fresh venv each time pyproject.toml changes: installing into an existing one
# would keep newer versions that already satisfy the bounds. lowest-direct lowers
# every dependency pyproject.toml names (jaxlib included) to its lower bound.
$(LOWEST_VENV)/.installed: pyproject.toml | $(BIN)/uv
	rm -rf $(LOWEST_VENV)
	$(BIN)/uv venv --quiet --python $(LOWEST_PYTHON) $(LOWEST_VENV)
	$(BIN)/uv pip install --quiet --python $(LOWEST_VENV)/bin/python \
		--resolution lowest-direct -e ".[dev]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/python examples/demo.py

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q -n 2

test-lowest: $(LOWEST_VENV)/.installed
	$(LOWEST_VENV)/bin/python -c "import sys, jax, jaxlib, numpy, networkx, ml_dtypes; \
		print('lowest versions: Python', sys.version.split()[0], 'jax', jax.__version__, \
		'jaxlib', jaxlib.__version__, 'numpy', numpy.__version__, \
		'networkx', networkx.__version__, 'ml_dtypes', ml_dtypes.__version__)"
	$(LOWEST_VENV)/bin/python -m pytest -q -n 2 --ignore=tests/notebooks

# The notebooks run once, in `make test` (tests/notebooks): they check the tutorials, not the
# version bounds, and take a while, so test-lowest leaves them out (and does not install
# the notebooks extra). `make notebooks` re-executes them and saves their outputs.
notebooks: $(VENV)/.installed
	$(BIN)/python tools/run_notebooks.py

bench: $(VENV)/.installed
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e ".[dev,bench]"
	$(BIN)/python benchmarks/run_overhead.py
	$(BIN)/python benchmarks/compare_jax.py
	$(BIN)/python benchmarks/conv_net.py
	$(BIN)/python benchmarks/gradient_chain.py --timeout 300
	$(BIN)/python benchmarks/peak_memory.py
	$(BIN)/python benchmarks/distributed_mlp.py

clean:
	rm -rf $(VENV) $(LOWEST_VENV)
