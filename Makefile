# The README's commands. `make run` and `make test` work on a fresh clone with only Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SAMPLE := tests/data/sample-crawl
OUT    ?= out/sample

.PHONY: run test test-fast bench lid-eval lint clean

$(BIN)/corpus: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev,ray,s3,bench]'
	$(BIN)/pip install -q torch==2.13.0 -c constraints.txt || $(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e '.[train]'
	touch $@

run: $(BIN)/corpus
	$(BIN)/corpus run eu_web --input $(SAMPLE) --output $(OUT) --workers 2 --overwrite

test: $(BIN)/corpus
	$(BIN)/pytest -q

test-fast: $(BIN)/corpus
	$(BIN)/pytest -q -m "not slow and not cluster"

bench: $(BIN)/corpus
	$(BIN)/python benchmarks/run_all.py

lid-eval: $(BIN)/corpus
	$(BIN)/python -m tools.lid_report

clean:
	rm -rf $(VENV) out .pytest_cache
