# Two commands for a newcomer: `make demo` and `make test`. Each builds its own venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench mutants clean

$(BIN)/token-inspector: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
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

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
