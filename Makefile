# The two commands: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck openapi import-schema clean install lock haproxy cluster cluster-stop chromium \
	bench bench-search bench-country bench-oruk bench-gaps bench-replicas bench-scope bench-reviews bench-cluster bench-postgis bench-setup
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements-dev.lock | cksum | cut -d' ' -f1)
LOCK = $(BIN)/uv pip compile pyproject.toml - --generate-hashes --universal --python-version 3.11 \
	--custom-compile-command "make lock" --quiet

# Installs come from the lock (every package pinned, with its hashes); the project itself is then added without
# resolving anything. `make lock` refreshes the lock after pyproject.toml changes.
$(STAMP): pyproject.toml requirements-dev.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

## Refresh the locks from pyproject.toml: requirements-dev.lock (make, CI) and requirements.lock (the image's).
lock: $(STAMP)
	echo 'setuptools>=68' | $(LOCK) --extra dev -o requirements-dev.lock --upgrade
	echo 'setuptools>=68' | $(LOCK) -c requirements-dev.lock -o requirements.lock

NODE_STAMP := node_modules/.installed-$(shell cksum package-lock.json | cut -d' ' -f1)

# GOV.UK Frontend (the pages) and axe-core (the accessibility tests), from npm; never committed.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@rm -f node_modules/.installed-*
	@touch $@

# Debian's Chromium for the browser tests (root can install it; otherwise the browser tests skip, saying why).
chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo "could not install chromium: the browser tests will be skipped"

install: $(STAMP) $(NODE_STAMP)

## Serve the API on http://$${PATHWAYS_HOST:-127.0.0.1}:$${PATHWAYS_PORT:-8000}, with the demo directory on first start.
# Unless PATHWAYS_SMTP_HOST names a mail server, a local one (aiosmtpd) catches the demo's e-mail on port 8025 and
# prints each message in this terminal.
run: $(STAMP) $(NODE_STAMP)
	@if [ -z "$$PATHWAYS_SMTP_HOST" ]; then \
		echo "e-mail: a local mail catcher on 127.0.0.1:8025 prints each message here"; \
		$(BIN)/python -m aiosmtpd -n -l 127.0.0.1:8025 -c aiosmtpd.handlers.Debugging & catcher=$$!; \
		trap "kill $$catcher 2>/dev/null" EXIT INT TERM; export PATHWAYS_SMTP_HOST=127.0.0.1 PATHWAYS_SMTP_PORT=8025; fi; \
	PATHWAYS_PAGES_FOR_STAFF=$${PATHWAYS_PAGES_FOR_STAFF:-true} PATHWAYS_REPORTS_ACCESS=$${PATHWAYS_REPORTS_ACCESS:-open} \
		PATHWAYS_DEMO_KEYS=$${PATHWAYS_DEMO_KEYS:-true} $(BIN)/pathways serve

# HAProxy from Debian's packages, for make cluster and the cluster test (root can install it; otherwise that test skips).
haproxy:
	@command -v haproxy >/dev/null 2>&1 || test -x /usr/sbin/haproxy || (apt-get update -qq && apt-get install -y -qq haproxy >/dev/null) \
		|| echo "could not install haproxy: the cluster test will be skipped"

## Three replicas behind HAProxy on this machine's PostgreSQL and Redis; prints where to look. Stop: make cluster-stop.
cluster: $(STAMP) $(NODE_STAMP) haproxy
	$(BIN)/python deploy/cluster.py start

cluster-stop: $(STAMP)
	$(BIN)/python deploy/cluster.py stop

## The whole suite: lint, types, the house's import contracts, and the tests against real PostgreSQL.
test: $(STAMP) $(NODE_STAMP) chromium haproxy
	$(BIN)/ruff check service tests bench deploy
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -q --durations=25

lint: $(STAMP)
	$(BIN)/ruff check service tests bench deploy
	$(BIN)/ruff format --check service tests bench deploy
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

## Regenerate the committed OpenAPI document and the import JSON Schema after changing the API.
openapi: $(STAMP)
	$(BIN)/pathways openapi > openapi/openapi.json

import-schema: $(STAMP)
	$(BIN)/pathways import-schema > schema/directory.schema.json

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache test-artifacts .cluster

## Benchmarks print their figures; record them in bench/RESULTS.md.
bench: $(STAMP)
	$(BIN)/python bench/bench_directory.py

## The search benchmark: in-process ranking and HTTP throughput (installs wrk from Debian's packages if missing).
bench-search: $(STAMP)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/bench_search.py

## Searches that look like a country at 50,000 services: random moments of the week, memory over 100,000 distinct
## searches, HTTP throughput of distinct searches; prints the figures and writes them as JSON (/tmp/bench_country.json).
bench-country: $(STAMP)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/bench_country.py $(ARGS)

## Open Referral and FHIR pages over HTTP at 50,000 services, warm and first after a write (needs DATABASE_URL);
## ARGS=--against DIR alternates with another source tree on the same database.
bench-oruk: $(STAMP)
	$(BIN)/python bench/bench_oruk.py $(ARGS)

## Setting up a deployment: the whole geography with setup-geography, then 50,000 services from an Open Referral feed.
bench-setup: $(STAMP)
	$(BIN)/python bench/bench_setup.py $(ARGS)

## Gap maps at national scale: all 43 forces, 251 custody suites, 50,000 services, one core (no database).
bench-gaps: $(STAMP)
	$(BIN)/python bench/bench_gaps.py

## Two replicas at national scale: write visibility, searches under writes, explain over HTTP (needs DATABASE_URL).
bench-replicas: $(STAMP)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/bench_replicas.py

## Cold start, memory, and convergence across the three-replica cluster at 50,000 services (needs DATABASE_URL).
bench-cluster: $(STAMP) haproxy
	$(BIN)/python bench/bench_cluster.py

## The search against PostGIS (one SQL query per search), in-process and over HTTP (needs DATABASE_URL and wrk).
bench-postgis: $(STAMP)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	@test -f /usr/share/postgresql/15/extension/postgis.control || (apt-get update -qq && apt-get install -y -qq postgresql-15-postgis-3)
	$(BIN)/python bench/bench_postgis.py

## The editor-scope benchmark: judging catchments on the real boundaries (no database).
bench-scope: $(STAMP)
	$(BIN)/python bench/bench_scope.py

## The review report and each option's review state at 50,000 services on the real boundaries.
bench-reviews: $(STAMP)
	$(BIN)/python bench/bench_reviews.py
