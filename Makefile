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

# Every wheel an air-gapped host needs: the tool's and all its dependencies'. Built on a
# connected machine, copied over, installed with
# pip install --no-index --find-links wheelhouse ords-token-inspector (README: Install).
# By default the wheels fit this machine's CPU, C library and Python (PYTHON=python3.12 for
# a host with 3.12). For another host, name its Python and glibc and only binary wheels made
# for it are fetched: Oracle Linux 8 is TARGET_PYTHON=3.11 TARGET_GLIBC=2.28 (OL 9: 2.34).
WHEELHOUSE ?= dist/wheelhouse
WHEEL_VENV := dist/wheelhouse-venv
TARGET_PYTHON ?=
TARGET_GLIBC ?=
TARGET_ARCH ?= $(shell uname -m)
# pip does not widen a manylinux_2_NN tag to the older ones a newer glibc also runs.
TARGET_TAGS = $(foreach tag,manylinux_$(subst .,_,$(TARGET_GLIBC)) manylinux_2_28 \
	manylinux_2_17 manylinux2014 manylinux_2_5 manylinux1,--platform $(tag)_$(TARGET_ARCH))

wheelhouse:
	# build/ is cleared: setuptools would pack a module an earlier build left there.
	rm -rf $(WHEELHOUSE) $(WHEEL_VENV) build
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/pip install --quiet --upgrade pip
ifeq ($(TARGET_GLIBC)$(TARGET_PYTHON),)
	$(WHEEL_VENV)/bin/pip wheel --quiet --prefer-binary --wheel-dir $(WHEELHOUSE) .
else
	$(WHEEL_VENV)/bin/pip wheel --quiet --no-deps --wheel-dir $(WHEELHOUSE) .
	$(WHEEL_VENV)/bin/pip download --quiet --only-binary=:all: --implementation cp \
		$(if $(TARGET_PYTHON),--python-version $(TARGET_PYTHON)) \
		$(if $(TARGET_GLIBC),$(TARGET_TAGS)) \
		--dest $(WHEELHOUSE) $(WHEELHOUSE)/ords_token_inspector-*.whl
endif
	rm -rf $(WHEEL_VENV)
	@echo "$(WHEELHOUSE): $$(ls $(WHEELHOUSE) | wc -l) wheels"

# The wheelhouse alone installs a working tool: a fresh venv, --no-index, run from /tmp.
wheelhouse-check: wheelhouse
	$(PYTHON) -m tests.wheelhouse_check $(WHEELHOUSE)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build dist
