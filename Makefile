# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export CONTACTS_DB ?= data/contacts.duckdb
PORT ?= 8501
CLUSTER_PORT ?= 8500
# Tests run on every core in parallel; a test file stays on one worker (its servers and databases are per file).
PYTEST := $(BIN)/python -m pytest -n auto --dist loadfile

.PHONY: run run-cluster test test-fast test-faults lint bench bench-load demo clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test: requirements-test.txt requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

## Start the app and its ingest endpoint on localhost:$(PORT), creating the demo database on first start.
run: $(VENV)/.runtime
	@test -f "$(CONTACTS_DB)" || $(BIN)/python -m core demo --contacts 5000 --db "$(CONTACTS_DB)"
	@echo "Channels post events to http://localhost:$(PORT)/api/ingest with the token in \$$CONTACTS_INGEST_TOKEN," \
		"else the one kept in $(CONTACTS_DB).ingest-token (python -m core ingest --url finds it)."
	$(BIN)/streamlit run server.py --server.port $(PORT) --server.address localhost

## Three app processes on one PostgreSQL behind nginx on localhost:$(CLUSTER_PORT) (README, "Running for a team"):
## a throwaway PostgreSQL with the demo unless CONTACTS_DB is a postgresql:// URL. Ctrl-C stops everything.
## CLUSTER_ARGS passes options, e.g. CLUSTER_ARGS="--from data/contacts.duckdb --processes 4".
run-cluster: $(VENV)/.runtime
	$(BIN)/python -m core.cli.cluster --port $(CLUSTER_PORT) $(CLUSTER_ARGS)

## Run every check and test: lint, format, types, then core, pages (AppTest) and real-browser tests.
test: lint
	$(PYTEST)

## The quick loop: lint and the tests not marked slow (no browser, no large data).
test-fast: lint
	$(PYTEST) -m "not slow and not browser"

## The fault suite alone, with more kills: kill -9 mid-operation, races, bad input, injection (a tally per group).
test-faults: $(VENV)/.test
	FAULT_KILLS=$${FAULT_KILLS:-50} $(PYTEST) tests/faults

lint: $(VENV)/.test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(VENV)/.test
	$(BIN)/python -m bench

## The same operations on PostgreSQL at 10,000,000 contacts (issue 16): a throwaway cluster under data/bench/pg_N,
## built once with COPY, kept between runs. BENCH_PG_ARGS passes options, e.g. "--contacts 1000000 --duckdb FILE".
bench-pg: $(VENV)/.test
	$(BIN)/python -m bench.postgres $(BENCH_PG_ARGS)

## N concurrent users (1, 4, 8) against `streamlit run server.py` on loopback: latency per interaction and server CPU.
## LOAD_ARGS passes options, e.g. LOAD_ARGS="--contacts 100000 --detect" (python -m bench.load --help).
bench-load: $(VENV)/.test
	$(BIN)/python -m bench.load $(LOAD_ARGS)

demo: $(VENV)/.runtime
	$(BIN)/python -m core demo --contacts 5000 --db "$(CONTACTS_DB)"

clean:
	rm -rf $(VENV) data/*.duckdb data/*.wal
