# The developer interface. Every target sets up what it needs: a virtualenv in
# .venv and, when MONGODB_URI is not set, the local database server (FerretDB,
# built from the Go module proxy into .local/bin on first use).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DB_PORT ?= 27017
EVENT ?= events/me.json

export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup invoke test db indexes lint

help:
	@echo "make setup                      virtualenv and dependencies"
	@echo "make invoke EVENT=events/me.json invoke the function for an event, on the local database"
	@echo "make test                       the whole test suite, on a real MongoDB-protocol server"
	@echo "make db [DB_PORT=27017]         run the local database server in the foreground"
	@echo "make indexes                    create the indexes on MONGODB_URI (idempotent)"
	@echo "make lint                       ruff"

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

invoke: setup
	$(PY) tools/invoke.py $(EVENT)

test: setup
	$(PY) -m pytest

db: setup
	$(PY) tools/localdb.py serve --port $(DB_PORT)

indexes: setup
	$(PY) -m shared.indexes

lint: setup
	$(PY) -m ruff check .
