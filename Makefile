# Two commands for a newcomer: `make demo` and `make test`. Each builds its own venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench mutants wheelhouse wheelhouse-check clean

# pip >= 25.1 reads the dev dependency group (--group, PEP 735): hence the upgrade first.
$(BIN)/token-inspector: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade 'pip>=25.1'
	$(BIN)/pip install --quiet -e . --group dev
	touch $@

demo: $(BIN)/token-inspector
	$(BIN)/token-inspector demo

test: $(BIN)/token-inspector
	$(BIN)/ruff check inspector parsers tests bench
	$(BIN)/ruff format --check inspector parsers tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q

bench: $(BIN)/token-inspector
	$(BIN)/python bench/run.py

# Break the product on purpose (drop each verdict, make the parser raise, break restore):
# every mutant must turn its tests red.
mutants: $(BIN)/token-inspector
	$(BIN)/python -m tests.mutants

# Every wheel an air-gapped host needs: the tool's and all its dependencies'. Build it on a
# connected machine with the target's CPU, C library and Python (PYTHON=python3.12 for a
# host with 3.12), copy the directory over, and install with
# pip install --no-index --find-links wheelhouse ords-token-inspector (README: Install).
WHEELHOUSE ?= dist/wheelhouse
WHEEL_VENV := dist/wheelhouse-venv

wheelhouse:
	rm -rf $(WHEELHOUSE) $(WHEEL_VENV)
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/pip install --quiet --upgrade pip
	$(WHEEL_VENV)/bin/pip wheel --quiet --prefer-binary --wheel-dir $(WHEELHOUSE) .
	rm -rf $(WHEEL_VENV)
	@echo "$(WHEELHOUSE): $$(ls $(WHEELHOUSE) | wc -l) wheels for $$($(PYTHON) --version)"

# The wheelhouse alone installs a working tool: a fresh venv, --no-index, run from /tmp.
wheelhouse-check: wheelhouse
	$(PYTHON) -m tests.wheelhouse_check $(WHEELHOUSE)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
