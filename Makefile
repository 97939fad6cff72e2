# Two commands matter: `make run` and `make test`. Everything else is a step of theirs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/test

# Local runs: DEBUG on, plain http, the built-in simulator unless TWILIO_SID is set.
RUN_ENV := DEBUG=$${DEBUG:-true} SECURE_SSL_REDIRECT=$${SECURE_SSL_REDIRECT:-false} \
	PUBLIC_URL=$${PUBLIC_URL:-http://$(HOST):$(PORT)}
# Tests: production settings (DEBUG off) with a throwaway key made for each run, over http.
TEST_ENV := SECRET_KEY=$$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n') DEBUG=false \
	SECURE_SSL_REDIRECT=false SECURE_COOKIES=false PUBLIC_URL=http://testserver \
	TWILIO_SID= TWILIO_AUTH_TOKEN= TWILIO_API_BASE_URL= DATABASE_URL= STATIC_MANIFEST=false

.PHONY: help python venv dev run test test-sqlite test-postgres lint browser wrk bench loadtest clean

help:
	@echo "make run    install, migrate, load sample data, start web + workers (Ctrl-C stops all)"
	@echo "make test   lint, then the test suite on SQLite and on PostgreSQL"
	@echo "make bench  benchmarks (prints a table, writes bench/results.json)"

# The first Python >= 3.12 found: pyenv's choice (.python-version), then the usual names.
PYTHON := $(shell for p in python3 python3.14 python3.13 python3.12 python; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	&& { command -v $$p; break; }; done)

python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "error: Python 3.12 or newer is needed and none was found on PATH." >&2; \
		echo "       Install it (e.g. 'pyenv install 3.12'), then run make again." >&2; \
		exit 1; fi

$(VENV)/.installed: requirements.txt | python
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed
dev: $(VENV)/.installed-dev

# A local, private .env on the first run: a SECRET_KEY of its own (sessions, the
# simulator's credentials) so that every manage.py command in the README works as written.
.env: | venv
	@key=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') && test -n "$$key" && \
	umask 077 && printf '# Written by make run: local development only.\nDEBUG=true\nSECRET_KEY=%s\n' \
		"$$key" > $@.tmp && mv $@.tmp $@
	@echo "Wrote .env (DEBUG=true and a new SECRET_KEY; it is git-ignored, keep it private)."

# Ctrl-C reaches every process in the terminal's group; web and workers, started in the
# background, ignore it, so the trap stops them with TERM, waits and ends quietly.
# When any one stops on its own, the others are stopped too and its status kept.
# Three workers: calls; outcome events to the bank; the reports' rollup. So neither a
# slow endpoint nor a long recount ever holds up placing calls.
run: venv .env
	@mkdir -p var
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py load_sample_data
	$(RUN_ENV) $(PY) manage.py create_demo_users
	$(RUN_ENV) $(PY) manage.py start_autocall
	$(RUN_ENV) $(PY) manage.py register_event_receiver
	@echo "Dashboard: http://$(HOST):$(PORT)/   (Ctrl-C stops web and workers)"
	@trap 'kill $$pids 2>/dev/null; wait; exit 0' INT TERM; \
	$(RUN_ENV) $(PY) manage.py db_worker --queue-name '*' --exclude-queues events,reports \
		--interval 0.2 --no-reload & pids=$$!; \
	$(RUN_ENV) $(PY) manage.py db_worker --queue-name events --interval 0.2 --no-reload & \
		pids="$$pids $$!"; \
	$(RUN_ENV) $(PY) manage.py db_worker --queue-name reports --no-reload & pids="$$pids $$!"; \
	$(RUN_ENV) $(PY) manage.py runserver $(HOST):$(PORT) --noreload & pids="$$pids $$!"; \
	wait -n; status=$$?; trap - INT TERM; kill $$pids 2>/dev/null; wait; exit $$status

lint: dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Debian's Chromium for the browser tests; installed when missing (CI runs as root).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests..."; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

test-sqlite: dev browser
	@mkdir -p var
	$(TEST_ENV) $(VENV)/bin/pytest $(PYTEST_ARGS)

test-postgres: dev browser
	$(TEST_ENV) DATABASE_URL=$(PG_URL) $(VENV)/bin/pytest $(PYTEST_ARGS)

# PostgreSQL half runs when TEST_DATABASE_URL is set or a server answers on 127.0.0.1:5432.
test: lint test-sqlite
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		$(MAKE) --no-print-directory test-postgres PG_URL="$$TEST_DATABASE_URL"; \
	elif $(PY) -c 'import psycopg; psycopg.connect("$(PG_URL)", connect_timeout=3).close()' 2>/dev/null; then \
		$(MAKE) --no-print-directory test-postgres; \
	else \
		echo "SKIPPED: the PostgreSQL half (no server answered at $(PG_URL))"; \
	fi

# Debian's wrk is the load generator; installed when missing (CI runs as root).
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
		echo "Installing Debian's wrk for the benchmarks..."; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; fi; }

bench: dev wrk
	$(PY) bench/run.py

loadtest: dev
	$(PY) bench/loadtest.py

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
