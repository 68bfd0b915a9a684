# Marquee. `make demo` serves the site with demo data; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do command -v $$p >/dev/null && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && echo $$p && break; done)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: demo serve test test-fast lint format bench migrate worker beat clean-demo help

help:
	@echo "make demo   - set up everything and serve http://127.0.0.1:$(PORT) with demo data"
	@echo "make test   - run the whole test suite (DATABASE_URL / REDIS_URL select real services)"
	@echo "make lint   - ruff, import-linter contracts, mypy on services and selectors"
	@echo "make bench  - run the benchmarks in bench/ (prints figures)"

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

worker: $(VENV)/.runtime
	$(VENV)/bin/celery -A config worker --loglevel=info --concurrency=2

beat: $(VENV)/.runtime
	$(VENV)/bin/celery -A config beat --loglevel=info
