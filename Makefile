# Cohortly: `make run` serves a demo on http://127.0.0.1:8000, `make test` runs lint and the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint format clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# The embedded SQLite database, demo data, and Django's dev server (DEBUG on,
# plain HTTP on loopback). A .env file or the environment can override all of it.
# Another address: `make run RUN_ADDR=127.0.0.1:8001`; the links in emails follow it.
RUN_ADDR ?= 127.0.0.1:8000
run: export DEBUG ?= true
run: export SECURE_SSL_REDIRECT ?= false
ifneq ($(RUN_ADDR),127.0.0.1:8000)
run: export SITE_URL ?= http://$(RUN_ADDR)
run: export FRONTEND_URL ?= http://$(RUN_ADDR)
endif
run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver $(RUN_ADDR)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Uses DATABASE_URL when set (PostgreSQL), the embedded SQLite otherwise.
test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache

.PHONY: serve worker bench profile

# Production-shaped serving on http://127.0.0.1:8000: DEBUG off, gunicorn with
# gunicorn.conf.py (GUNICORN_* and WEB_CONCURRENCY tune it). Needs SECRET_KEY in
# the environment or .env. Plain HTTP on loopback: no SSL redirect, no
# secure-only cookies, unless the environment says otherwise.
serve: export DEBUG = false
serve: export SECURE_SSL_REDIRECT ?= false
serve: export SESSION_COOKIE_SECURE ?= false
serve: export CSRF_COOKIE_SECURE ?= false
serve: export ALLOWED_HOSTS ?= 127.0.0.1,localhost
# Loopback even when the shell has a PORT (gunicorn.conf.py binds 0.0.0.0:$PORT for platforms).
serve: export GUNICORN_BIND ?= 127.0.0.1:8000
serve: install
	@if [ -z "$$SECRET_KEY" ] && ! grep -qs '^SECRET_KEY=.' .env; then \
	  echo "make serve runs with DEBUG off and needs a SECRET_KEY: put one in .env or the environment:" >&2; \
	  echo "  echo \"SECRET_KEY=\$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')\" >> .env" >&2; \
	  exit 1; \
	fi
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py collectstatic --no-input -v 0
	$(BIN)/gunicorn -c gunicorn.conf.py

# The task worker beside `make serve` (another terminal, or its own service):
# sends the outbox's email and retries failed sends, with TASKS_BACKEND=database.
worker: export DEBUG = false
worker: export TASKS_BACKEND ?= database
worker: install
	@if [ -z "$$SECRET_KEY" ] && ! grep -qs '^SECRET_KEY=.' .env; then \
	  echo "make worker runs with DEBUG off and needs the SECRET_KEY make serve uses (.env or the environment)." >&2; \
	  exit 1; \
	fi
	$(BIN)/python manage.py db_worker

# The load benchmark (bench/run.py; settings in its docstring): its own PostgreSQL
# database, scale-1 data, gunicorn on loopback, Debian's wrk (installed when
# missing). Writes bench/RESULTS.md. Not part of `make test`.
bench: install
	BENCH_COMMAND="make bench$(if $(BENCH_ARGS), BENCH_ARGS='$(BENCH_ARGS)')" $(BIN)/python bench/run.py $(BENCH_ARGS)

# Where one worker's time goes under load: py-spy (installed into .venv here only)
# on PROFILE (a row name from `bench/run.py --list`; PROFILE=mixed for the mixed
# workload); prints the ten costliest frames, tables in bench/out/.
PROFILE ?= bootcamps_list
profile: install
	$(BIN)/python -m pip install --quiet py-spy==0.4.3
	BENCH_COMMAND="make profile PROFILE=$(PROFILE)" $(BIN)/python bench/run.py --no-write --no-uncached --only $(PROFILE) --profile $(PROFILE) $(BENCH_ARGS)

.PHONY: bench-import
# import_legacy on a generated Node database (10,000 users, 100,000 leads by
# default; BENCH_USERS, BENCH_LEADS): rows/s and peak memory, in bench/IMPORT-RESULTS.md.
bench-import: install
	$(BIN)/python bench/import_bench.py
