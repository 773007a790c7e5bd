# Every target sets itself up: a fresh clone needs only python3.11 and make.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Optional framework extras whose tests run in CI (a test skipped in CI is no test at all).
EXTRAS := dev,hf,train,hydra,lightning,torchtune,mmengine
PIP_FLAGS := -q -c constraints.txt

.PHONY: all demo test lint typecheck fuzz bench docs clean

all: lint typecheck test

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) --upgrade pip
	$(BIN)/python -m pip install $(PIP_FLAGS) -e '.[$(EXTRAS)]'
	touch $@

demo: $(STAMP)
	$(BIN)/lrviz table cosine_warm
	$(BIN)/lrviz plot cosine_warm -o cosine_warm.png

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check lrviz tests benchmarks docs
	$(BIN)/ruff format --check lrviz tests benchmarks docs

typecheck: $(STAMP)
	$(BIN)/mypy

fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/property -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

# The figures under docs/figures/ and the rule list of docs/check.md (a test checks it is current).
docs: $(STAMP)
	$(BIN)/python docs/make_figures.py
	$(BIN)/python docs/generate.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
