# Two commands: `make run` (set up and serve on http://127.0.0.1:5000) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
STAMP := $(VENV)/.installed

.PHONY: install run serve db test test-postgres worker bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Migrate the database, deploy the bundled models in bpmn/, create the demo users.
db: install
	mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) demo-setup

## Set everything up and serve with the timer sweep running in-process.
run: db
	SCHEDULER_IN_PROCESS=1 $(FLASK) run --host 127.0.0.1 --port 5000 --no-reload

## The timer worker on its own (any number may run).
worker: install
	$(FLASK) worker

test: install
	$(PY) -m pytest

## The suite against PostgreSQL (CI does this when the server answers).
test-postgres: install
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(PY) -m pytest

clean:
	rm -rf $(VENV) instance .pytest_cache
