# Marquee. `make demo` serves the site with demo data; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do command -v $$p >/dev/null && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && echo $$p && break; done)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: demo serve test test-fast lint format bench migrate release worker trainer beat clean-demo help

help:
	@echo "make demo   - set up everything and serve http://127.0.0.1:$(PORT) with demo data"
	@echo "make test   - run the whole test suite (DATABASE_URL / REDIS_URL select real services)"
	@echo "make lint   - ruff, import-linter contracts, mypy on services and selectors"
	@echo "make bench  - run the benchmarks in bench/ (prints figures)"
	@echo "make release - the production release step: migrate, cache table, collectstatic, check --deploy"

$(VENV)/bin/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11+ is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

# The demo runs the embedded stack: SQLite, in-process tasks, local-memory cache.
demo: export DEBUG ?= true
demo: export HTTPS ?= false
demo: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py seed_demo
	$(PY) manage.py train_recommender --if-missing
	@echo ""
	@echo "  Marquee is at http://127.0.0.1:$(PORT)/  -  sign in as demo / marquee-demo"
	@echo ""
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# Migrations, and the database cache's table (used when DEBUG is false without REDIS_URL;
# a no-op with any other cache).
migrate: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable

# The production release step (the Procfile's `release:` line), run with the web's environment
# before it starts: migrations, the database cache's table, the static files (with DEBUG false
# every page links the hashed names in collectstatic's manifest, so without this step each HTML
# page answers 500) and the deploy checks. With DEBUG false any deploy warning fails the
# release; with DEBUG true (a local full-stack run) the warnings are printed and it goes on.
RELEASE_FAIL_LEVEL ?= $(if $(filter true True TRUE 1 yes on,$(DEBUG)),ERROR,WARNING)
release: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py collectstatic --noinput --verbosity 1
	$(PY) manage.py check --deploy --fail-level $(RELEASE_FAIL_LEVEL)

serve: export DEBUG ?= true
serve: export HTTPS ?= false
serve: $(VENV)/.runtime
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: $(VENV)/.dev
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The recommender's quality benchmark needs a MovieLens directory (ML_DATA); skipped without one.
ML_DATA ?= ../shared/data/ml-latest-small
bench: export DEBUG ?= true
bench: $(VENV)/.dev
	@for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done
	@echo "== manage.py evaluate_recommender --data $(ML_DATA)"
	@if [ -d "$(ML_DATA)" ]; then $(PY) manage.py evaluate_recommender --data "$(ML_DATA)"; \
	else echo "skipped: $(ML_DATA) not found (set ML_DATA)"; fi

# One box: `make worker` consumes both queues (the default `celery` and `training`). To keep
# training apart as the Procfile does, run `make worker WORKER_QUEUES=celery` and `make trainer`.
WORKER_QUEUES ?= celery,training
worker: $(VENV)/.runtime
	$(VENV)/bin/celery -A config worker -Q $(WORKER_QUEUES) --loglevel=info --concurrency=2 --hostname=worker@%h

# Training only: one at a time, at low CPU priority.
trainer: $(VENV)/.runtime
	nice -n 10 $(VENV)/bin/celery -A config worker -Q training --concurrency=1 --loglevel=info --hostname=trainer@%h

beat: $(VENV)/.runtime
	$(VENV)/bin/celery -A config beat --loglevel=info
