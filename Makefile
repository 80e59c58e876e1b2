# Programs and Events Platform. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
# Tests run on PostgreSQL and the local Redis (the machine services, started if needed).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/platform
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?= -n 2

.PHONY: help install install-dev run migrate seed services browser lint \
        importlint migrations-check check deploy-check schema pytest test e2e bench bench-quick load embedded-check clean

help: ## List every target with what it does
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-18s %s\n", $$1, $$2}'

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/activate
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/activate
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime ## Create .venv and install the runtime pins

install-dev: $(VENV)/.dev ## Create .venv and install runtime + test pins

migrate: install ## Apply migrations (embedded SQLite under var/ unless DATABASE_URL is set)
	$(PY) manage.py migrate --no-input

seed: migrate ## Load the demo data (idempotent)
	$(PY) manage.py seed_demo

run: seed ## Run the product: web + Celery worker + beat, with demo data
	@$(PY) scripts/banner.py $(HOST) $(PORT)
	HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/honcho -f Procfile.dev start

services: ## Start PostgreSQL and Redis if they are not running
	@bash scripts/ensure-services.sh

browser: ## Install Debian's Chromium for the browser tests if it is missing
	@bash scripts/ensure-chromium.sh

lint: install-dev ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

importlint: install-dev ## import-linter: the layers contract of ARCHITECTURE.md
	$(VENV)/bin/lint-imports

migrations-check: install-dev services ## Fail if a model change has no migration
	DJANGO_SETTINGS_MODULE=config.settings.test DATABASE_URL=$(TEST_DATABASE_URL) \
		$(PY) manage.py makemigrations --check --dry-run

check: install-dev ## Django system checks
	DJANGO_SETTINGS_MODULE=config.settings.test DATABASE_URL=$(TEST_DATABASE_URL) $(PY) manage.py check

deploy-check: install-dev ## check --deploy with the production settings and a production-like environment
	DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_DEBUG=false \
		SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')" \
		ALLOWED_HOSTS=programs.example.org DATABASE_URL=$(TEST_DATABASE_URL) \
		CELERY_BROKER_URL=$(TEST_BROKER_URL) CACHE_URL=redis://127.0.0.1:6379/14 \
		$(PY) manage.py check --deploy --fail-level WARNING

schema: install-dev ## Generate the OpenAPI schema and fail on any warning
	DJANGO_SETTINGS_MODULE=config.settings.test DATABASE_URL=$(TEST_DATABASE_URL) \
		$(PY) manage.py spectacular --validate --fail-on-warn --file $(or $(SCHEMA_FILE),/dev/null)

pytest: install-dev services browser ## pytest on PostgreSQL (unit, API, concurrency, browser)
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
		$(VENV)/bin/pytest $(PYTEST_ARGS)

test: install-dev services browser lint importlint migrations-check check deploy-check schema pytest ## Everything CI runs

e2e: install-dev services browser ## Only the browser tests
	DATABASE_URL=$(TEST_DATABASE_URL) $(VENV)/bin/pytest -m e2e $(PYTEST_ARGS)

# Full sizes by default (about half an hour on 2 cores); BENCH_SCALE=0.05 (bench-quick) scales every size.
BENCH_SCALE ?= 1
BENCH_FILES ?= $(wildcard bench/[!_]*.py)
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/platform_bench

bench: install-dev services ## Run the benchmarks in bench/ on PostgreSQL (one JSON line per figure; BENCH_SCALE=1)
	@files=($(BENCH_FILES)); \
	if [ $${#files[@]} -eq 0 ]; then echo "No benchmarks yet."; fi; \
	for f in "$${files[@]}"; do echo "# $$f (BENCH_SCALE=$(BENCH_SCALE))" >&2; \
		BENCH_SCALE=$(BENCH_SCALE) BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) $$f || exit 1; done

bench-quick: ## The same benchmarks at 5 % of their sizes (a few minutes)
	@$(MAKE) --no-print-directory bench BENCH_SCALE=0.05

load: install-dev services ## Load run: gunicorn + Celery on PostgreSQL/Redis, seeded, driven by locust (LOAD_USERS=50, LOAD_DURATION=75s)
	$(PY) load/run.py

embedded-check: install ## Prove the embedded default: migrate + seed_demo + check on a fresh SQLite file
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	env -u DATABASE_URL -u CELERY_BROKER_URL VAR_DIR=$$tmp DJANGO_SETTINGS_MODULE=config.settings.local \
		bash -c '$(PY) manage.py migrate --no-input -v0 && $(PY) manage.py seed_demo && $(PY) manage.py seed_demo >/dev/null && $(PY) manage.py check && $(PY) scripts/embedded_smoke.py && test -s "$$VAR_DIR/db.sqlite3"'

clean: ## Remove the virtualenv, local state under var/ and caches
	rm -rf $(VENV) var .pytest_cache .ruff_cache staticfiles
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
