# Two commands: `make run` (set up and serve on http://127.0.0.1:5000) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
STAMP := $(VENV)/.installed
## The Python packages, exactly: every one pinned with its sha256 (CI installs the same). `make lock`
## writes it again from pyproject.toml after a dependency changes there.
LOCK := requirements.lock
PIP_VERSION := 26.3
UV_VERSION := 0.13.9

.PHONY: install frontend browser run serve db lint test test-postgres worker bench lock clean

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet pip==$(PIP_VERSION)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

lock: $(STAMP)
	$(PY) -m pip install --quiet --upgrade --target $(VENV)/uv-tool uv==$(UV_VERSION)
	$(VENV)/uv-tool/bin/uv pip compile pyproject.toml --extra test --generate-hashes --universal \
	  --python-version 3.11 -o $(LOCK)

install: $(STAMP) frontend

## Front-end packages from npm (package-lock.json), built into app/static/build and app/static/vendor.
NODE_STAMP := node_modules/.installed
FRONTEND := app/static/build/app.css app/static/build/app.js app/static/vendor/govuk-frontend/govuk-frontend.min.js \
  app/static/build/reports.css

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

app/static/build/app.css: app/static/src/app.scss $(NODE_STAMP)
	mkdir -p app/static/build
	npx sass --load-path=node_modules --style=compressed --no-source-map --quiet-deps $< $@

app/static/build/app.js: app/static/src/app.js
	mkdir -p app/static/build
	cp $< $@

## Reports: charts, the heat map and the print stylesheet (plain CSS, copied).
app/static/build/reports.css: app/static/src/reports.css
	mkdir -p app/static/build
	cp $< $@

app/static/vendor/govuk-frontend/govuk-frontend.min.js: $(NODE_STAMP)
	mkdir -p app/static/vendor/govuk-frontend
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js $@

## The modeller and the diagram viewer: bpmn-js and its CSS bundled by esbuild (fonts as files beside them).
BUNDLES_STAMP := app/static/build/.bundles
BUNDLE_ENTRIES := app/static/src/modeller.js app/static/src/diagram-page.js app/static/src/modeller.css app/static/src/diagram.css \
  app/static/src/heatmap-page.js

$(BUNDLES_STAMP): $(wildcard app/static/src/*.js app/static/src/*.css app/static/src/*.json) app/static/esbuild.mjs $(NODE_STAMP)
	mkdir -p app/static/build
	node app/static/esbuild.mjs $(BUNDLE_ENTRIES)
	touch $@

frontend: $(FRONTEND) $(BUNDLES_STAMP)

## Debian's chromium for the browser tests (Playwright drives it; `playwright install` is not used).
browser:
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

## Migrate the database, deploy the bundled models in bpmn/, create the demo users.
db: install
	mkdir -p instance
	$(FLASK) db upgrade heads
	$(FLASK) demo-setup

## Set everything up and serve with the timer sweep running in-process. Plain HTTP on the loopback
## address, so the session cookie is not marked Secure here (it is by default everywhere else).
run: db
	SESSION_COOKIE_SECURE=$${SESSION_COOKIE_SECURE:-0} SCHEDULER_IN_PROCESS=1 LOG_FORMAT=$${LOG_FORMAT:-text} $(FLASK) run --host 127.0.0.1 --port 5000 --no-reload

## Production-style serving: migrate, then gunicorn with gunicorn.conf.py (workers, timeouts, JSON access
## log). Run `make worker` beside it (any number). Settings from the environment: README "Deployment".
serve: install
	$(FLASK) db upgrade heads
	$(VENV)/bin/gunicorn --config gunicorn.conf.py wsgi:app

## The timer worker on its own (any number may run).
worker: install
	$(FLASK) worker

## The structure, checked: ruff (pyflakes, import order, complexity) and the import-linter contracts in pyproject.toml.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: install browser
	$(PY) -m pytest

## The suite against PostgreSQL (CI does this when the server answers).
test-postgres: install browser
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(PY) -m pytest

## Benchmarks (not part of `make test`): BENCH_CASES (default 100000), BENCH_BACKLOG (10000).
bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache node_modules app/static/build app/static/vendor
