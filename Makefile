# The developer interface. Every target sets up what it needs: a virtualenv in
# .venv and, when MONGODB_URI is not set, the local database server (FerretDB,
# built from the Go module proxy into .local/bin on first use).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DB_PORT ?= 27017
EVENT ?= events/me.json
# The runtime's Python version (3.12 for Runtime: python3.12), read from template.yaml with the standard library.
RUNTIME_VERSION := $(shell $(PYTHON) -m tools.interpreter version)
LOCK_OPTIONS = --quiet --universal --python-version $(RUNTIME_VERSION) --generate-hashes $(if $(filter 1,$(UPGRADE)),--upgrade)

export PYTHONDONTWRITEBYTECODE := 1

# $(call quote,VALUE): VALUE as one shell word, whatever it holds (SUB='al"ice', EVENT='my event.json').
quote = '$(subst ','\'',$(1))'

.PHONY: help setup lock invoke test test-fast format docs db indexes seed lint verify token build deploy bench bench-instructions bench-runtimes bench-lambda bench-http serve fuzz soak fleet generate

help:
	@echo "make setup                      virtualenv and dependencies"
	@echo "make lock [UPGRADE=1]           compile requirements*.in into the hash locks requirements*.txt"
	@echo "make invoke EVENT=events/me.json [REPEAT=N] [RUNTIME=rie] [DB=fresh]  run the event's function once, on the local database"
	@echo "make serve [PORT=3000] [API=http [AUTHORIZER=jwt]] [RUNTIME=rie] [WORKERS=1] [LOGS=json] [DB=fresh] [RELOAD=0]  the local API Gateway (REST, or HTTP API) for curl, HTTPie, Postman...; reloads edits (RELOAD=0: off)"
	@echo "make fuzz [EXAMPLES=500]        the OpenAPI contract test, with many more examples per operation"
	@echo "make test                       the whole test suite, on a real MongoDB-protocol server, and the coverage"
	@echo "make test-fast                  the tests that need no subprocess, server or build (under a minute)"
	@echo "make docs                       the documentation site in site/ (MkDocs, strict: broken links fail)"
	@echo "make db [DB_PORT=27017] [DB_DATA=.local/db]  run the local database server in the foreground; Ctrl-C or SIGTERM stops it"
	@echo "make soak [DURATION=60] [CLIENTS=12] [WORKERS=3] [KILLS=2] [API=http]  load through the local API while the database is killed"
	@echo "make fleet [CONTAINERS=100]     database connections of a fleet of function containers, against the budget"
	@echo "make indexes                    create the indexes on MONGODB_URI, else the local database (idempotent)"
	@echo "make seed [REPLACE=1]           store the handler modules' SEED documents on the same database; keeps changed ones unless REPLACE=1"
	@echo "make -s token SUB=alice [SCOPE='a b'] [TTL=3600]  print a local token (STAGE=local only)"
	@echo "make generate                   write what the declarations determine: the functions in template.yaml, openapi.yaml, events/, template-http*.yaml"
	@echo "make format                     sort the imports and format the code in place (ruff)"
	@echo "make lint                       ruff, mypy, the offline checks (cfn-lint, SAM transform, routes, bootstrap, actionlint), the audit"
	@echo "make build                      one zip per function in build/, and their sizes (no AWS needed)"
	@echo "make deploy ENV=dev|prod [API=rest|http]  build, then sam deploy with samconfig.toml's ENV settings (API: REST or HTTP API)"
	@echo "make verify URL=<stage url> [TOKEN=<jwt>] [ORIGIN=<origin>]  what only a deployed stage answers: one PASS/FAIL line each"
	@echo "make bench [EVENTS='events/me.json ...'] [COLD_SAMPLES=10] [WARM_COUNT=2000] [DELAY_MS=5]  latency vs floors and baselines, into docs/benchmark.md"
	@echo "make bench-instructions [EVENTS='events/me.json ...'] [WARM_COUNT=200]  cold starts and warm requests vs floors in instructions (valgrind)"
	@echo "make bench-runtimes [VERSIONS='3.12 3.13']  the Python versions Lambda offers side by side: cold and warm, time and instructions"
	@echo "make bench-lambda FUNCTION=<name> [ENDPOINT=<url>] [LOG=<rie output>] [RIE=1] [EVENTS=...] [COUNT=20]"
	@echo "make bench-http URL=<https://.../me> TOKEN=<jwt> [REQUESTS=200] [CONCURRENCY=4]"

# The virtualenv is built on the interpreter of template.yaml's Runtime (found like make build finds
# it, tools/interpreter.py), so that the tests run the Python the functions run; one built on another version
# (no .python-X.Y stamp of the runtime's version) is built again.
$(VENV)/.python-$(RUNTIME_VERSION):
	@runtime_python=$$($(PYTHON) -m tools.interpreter path) || exit 1; \
		rm -rf $(VENV) && "$$runtime_python" -m venv $(VENV)
	@touch $@

# requirements*.txt are hash locks (make lock): pip installs only the files whose hashes they list.
$(VENV)/.installed: requirements.txt requirements-dev.txt $(VENV)/.python-$(RUNTIME_VERSION)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

# Compile the small lists of what is wanted (requirements.in, requirements-dev.in, docs/requirements.in,
# bench/requirements.in) into the hash locks, for every platform (the zips are built for Linux arm64).
# UPGRADE=1: the newest versions the lists allow.
lock: export UV_CUSTOM_COMPILE_COMMAND := make lock
lock: setup
	$(PY) -m uv pip compile $(LOCK_OPTIONS) requirements.in -o requirements.txt
	$(PY) -m uv pip compile $(LOCK_OPTIONS) requirements-dev.in -o requirements-dev.txt
	$(PY) -m uv pip compile $(LOCK_OPTIONS) docs/requirements.in -o docs/requirements.txt
	$(PY) -m uv pip compile $(LOCK_OPTIONS) bench/requirements.in -o bench/requirements.txt

setup: $(VENV)/.installed

invoke: setup
	@$(PY) -m tools.invoke $(call quote,$(EVENT)) $(if $(RUNTIME),--runtime $(call quote,$(RUNTIME))) \
		$(if $(REPEAT),--repeat $(call quote,$(REPEAT))) $(if $(DB),--db $(call quote,$(DB)))

serve: PORT ?= 3000
serve: setup
	@$(PY) -m tools.gateway --port $(call quote,$(PORT)) $(if $(RUNTIME),--runtime $(call quote,$(RUNTIME))) \
		$(if $(WORKERS),--workers $(call quote,$(WORKERS))) $(if $(LOGS),--logs $(call quote,$(LOGS))) \
		$(if $(DB),--db $(call quote,$(DB))) $(if $(filter 0 no false off,$(RELOAD)),--no-reload) \
		$(if $(API),--api $(call quote,$(API))) $(if $(AUTHORIZER),--authorizer $(call quote,$(AUTHORIZER)))

fuzz: EXAMPLES ?= 500
fuzz: setup
	CONTRACT_EXAMPLES=$(EXAMPLES) $(PY) -m pytest tests/test_contract.py -q

# The whole suite, then the coverage of the deployed code (shared/, handlers/, authorizer.py) against its floor
# (fail_under in pyproject.toml).
test: setup $(VENV)/.docs-installed $(VENV)/.bench-installed
	COVERAGE_CORE=sysmon $(PY) -m coverage run -m pytest
	$(PY) -m coverage report

# The tests that need no subprocess, server or build (tests/conftest.py sorts them), in well under a minute.
test-fast: setup
	$(PY) -m pytest --fast -q -rfE

# The documentation's own dependency (MkDocs), installed on first use; never deployed.
$(VENV)/.docs-installed: docs/requirements.txt $(VENV)/.installed
	$(PY) -m pip install --quiet --require-hashes -r docs/requirements.txt
	touch $@

docs: setup $(VENV)/.docs-installed
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site

db: setup
	@$(PY) -m tools.localdb serve --port $(call quote,$(DB_PORT)) $(if $(DB_DATA),--data $(call quote,$(DB_DATA)))

soak: DURATION ?= 60
soak: setup $(VENV)/.bench-installed
	@$(PY) -m tools.soak --duration $(call quote,$(DURATION)) $(if $(CLIENTS),--clients $(call quote,$(CLIENTS))) \
		$(if $(WORKERS),--workers $(call quote,$(WORKERS))) $(if $(KILLS),--kills $(call quote,$(KILLS))) \
		$(if $(API),--api $(call quote,$(API))) $(if $(PICTURE),--picture $(call quote,$(PICTURE)))

fleet: CONTAINERS ?= 100
fleet: REQUESTS ?= 30
fleet: setup
	FLEET_CONTAINERS=$(call quote,$(CONTAINERS)) FLEET_REQUESTS=$(call quote,$(REQUESTS)) $(PY) -m pytest tests/test_fleet.py -q

indexes: setup
	@$(PY) -m tools.indexes

seed: setup
	@$(PY) -m tools.seed $(if $(filter 1 yes true on,$(REPLACE)),--replace)

token: SUB ?= alice
token: TTL ?= 3600
token: setup
	@$(PY) -m tools.local_token --sub $(call quote,$(SUB)) --scope $(call quote,$(SCOPE)) --ttl $(call quote,$(TTL))

generate: setup
	@$(PY) -m tools.generate

verify: setup
	@$(if $(URL),,$(error give the stage's base URL: make verify URL=https://<api>.execute-api.<region>.amazonaws.com/<stage> [TOKEN=<jwt>] [ORIGIN=<origin>]))
	@$(PY) -m tools.verify --url $(call quote,$(URL)) $(if $(TOKEN),--token $(call quote,$(TOKEN))) \
		$(if $(ORIGIN),--origin $(call quote,$(ORIGIN)))

# Formats the code in place (ruff format, pyproject.toml's [tool.ruff.format]); pre-commit checks it on commit.
format: setup
	$(PY) -m ruff check --select I --fix .
	$(PY) -m ruff format .

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m tools.checks
	$(PY) -m tools.audit

build: setup
	@$(PY) -m tools.build

deploy: setup
	@$(if $(API),API=$(call quote,$(API)) )$(PY) -m tools.deploy deploy --env $(call quote,$(ENV))

# The benchmark's own dependencies (baselines, chart), a hash lock like the others, installed on first use.
# Silent: make soak needs them too (matplotlib, for its picture), and its bad-input lines stay one line.
$(VENV)/.bench-installed: bench/requirements.txt $(VENV)/.installed
	@$(PY) -m pip install --quiet --require-hashes -r bench/requirements.txt
	@touch $@

bench: COLD_SAMPLES ?= 10
bench: WARM_COUNT ?= 2000
bench: setup $(VENV)/.bench-installed
	$(PY) -m bench.run --events "$(EVENTS)" --cold-samples "$(COLD_SAMPLES)" --warm-count "$(WARM_COUNT)" \
		$(if $(DELAY_MS),--delay-ms "$(DELAY_MS)")

bench-instructions: EVENTS ?= events/me.json events/authorizer-http.json
bench-instructions: setup
	$(PY) -m bench.instructions --events $(call quote,$(EVENTS)) $(if $(DELAY_MS),--delay-ms $(call quote,$(DELAY_MS))) \
		$(if $(WARM_COUNT),--warm-count $(call quote,$(WARM_COUNT)))

bench-runtimes: VERSIONS ?= 3.12 3.13
bench-runtimes: setup
	$(PY) -m bench.runtimes --versions $(call quote,$(VERSIONS))

bench-lambda: COUNT ?= 20
bench-lambda: setup
	$(PY) -m bench.lambda_bench $(if $(RIE),--rie,--function) "$(FUNCTION)" $(if $(ENDPOINT),--endpoint "$(ENDPOINT)") \
		$(if $(LOG),--log-file "$(LOG)") --events "$(EVENTS)" --count "$(COUNT)"

bench-http: REQUESTS ?= 200
bench-http: CONCURRENCY ?= 4
bench-http: setup
	@$(PY) -m bench.http_load --url "$(URL)" --token "$(TOKEN)" --requests "$(REQUESTS)" --concurrency "$(CONCURRENCY)"
