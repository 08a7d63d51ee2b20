# CX Warehouse. Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin

# One set of paths for Dagster, dbt and the CLIs (orchestration/settings.py reads the same variables).
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home
export CX_LANDING_DIR ?= $(CURDIR)/data/landing
export CX_WAREHOUSE_PATH ?= $(CURDIR)/data/warehouse.duckdb
export CX_PUBLISH_PATH ?= $(CURDIR)/data/marts.duckdb
export CX_GROUND_TRUTH_DIR ?= $(CURDIR)/data/ground_truth
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

# Sample size for `make run` / `make generate` when the landing tree is empty.
CUSTOMERS ?= 10000
DAYS ?= 120

# `make bench`: size of the benchmark (see README "Benchmark"); BENCH_ARGS goes to cx-bench as is,
# e.g. BENCH_ARGS="--reuse-landing --memory-limit 4GB".
BENCH_CUSTOMERS ?= 1000000
BENCH_DAYS ?= 180
BENCH_ARGS ?=

MANIFEST := dbt_project/target/manifest.json
DBT_FILES := $(shell find dbt_project -path dbt_project/target -prune -o -path dbt_project/logs -prune \
	-o -type f \( -name '*.sql' -o -name '*.yml' -o -name '*.csv' \) -print 2>/dev/null)

.PHONY: help install run generate test lint format ui bench clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed  ## Create the virtualenv and install the project

$(MANIFEST): $(VENV)/.installed $(DBT_FILES)
	cd dbt_project && $(BIN)/dbt parse --profiles-dir . --quiet
	touch $@

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp orchestration/dagster.yaml $@

generate: install  ## Write sample extracts into CX_LANDING_DIR if it holds none yet
	@if [ -n "$$(find "$(CX_LANDING_DIR)" -type f 2>/dev/null | head -n 1)" ]; then \
		echo "Landing tree $(CX_LANDING_DIR) is not empty: not generating."; \
	else \
		$(BIN)/cx-generate --out "$(CX_LANDING_DIR)" --truth-dir "$(CX_GROUND_TRUTH_DIR)" \
			--customers $(CUSTOMERS) --days $(DAYS); \
	fi

run: install $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml generate  ## Install, generate samples if needed, run the nightly build
	$(BIN)/cx-nightly

test: install $(MANIFEST)  ## Lint and run the test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n 2 --dist loadfile

lint: install  ## Lint only
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: install  ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

ui: install $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml  ## Start the Dagster UI (same instance as `make run`)
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

bench: install $(MANIFEST)  ## Benchmark the nightly build (BENCH_CUSTOMERS, BENCH_DAYS, BENCH_ARGS)
	$(BIN)/cx-bench --customers $(BENCH_CUSTOMERS) --days $(BENCH_DAYS) $(BENCH_ARGS)

clean:  ## Remove generated data and dbt artefacts (keeps the venv)
	rm -rf data dbt_project/target dbt_project/logs
