# The two set-up commands of the README: `make demo` and `make test`.
# Each builds .venv on first use (and again only when pyproject.toml changes).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
DEMO_DB ?= demo.duckdb

.PHONY: venv demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

## make demo: generate the demo company's data, load it into $(DEMO_DB) and show what is there
demo: $(STAMP)
	$(BIN)/segmint demo --db $(DEMO_DB) --out demo-data

## make test: the whole test suite (DuckDB, PostgreSQL, Spark; doctests)
test: $(STAMP)
	$(BIN)/pytest -q

## make bench: the benchmark runner at each of $(BENCH_SCALES) contacts (results in benchmarks/results/)
##   make bench BENCH_SCALES="2400 100000 1000000 10000000" runs every scale of docs/benchmarks.md
BENCH_SCALES ?= 2400
BENCH_ARGS   ?=
bench: $(STAMP)
	@for n in $(BENCH_SCALES); do \
		$(BIN)/python -m benchmarks run --contacts $$n $(BENCH_ARGS) || exit 1; \
	done

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(DEMO_DB) demo-data rejects bench-work .pytest_cache .mypy_cache .ruff_cache
