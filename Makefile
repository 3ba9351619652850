# Everything a person does more than once. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The Lambda runtime's Python: python3.12 on PATH, else pyenv's 3.12.
PY312 ?= $(shell command -v python3.12 2>/dev/null | grep -v shims || ls -d $$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)/versions/3.12*/bin/python3.12 2>/dev/null | tail -n 1)
VENV := .venv
PY := $(VENV)/bin/python
TOOLS := .tools
PORT ?= 3001
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= eu-west-3

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -n "$(PY312)" || { echo "Python 3.12 not found (install it, or set PY312=/path/to/python3.12)"; exit 1; }
	test -x $(PY) || $(PY312) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-12s %s\n", $$1, $$2}'

.PHONY: venv
venv: $(VENV)/.installed ## Create the virtual environment (Python 3.12, the Lambda runtime)

.PHONY: dev
dev: venv ## Serve every route of template.yaml on http://127.0.0.1:$(PORT) with demo data, no Docker
	PORT=$(PORT) $(PY) -m infra.local.server

.PHONY: test
test: venv ## Run the whole suite (unit, integration on MariaDB, e2e, security); COVERAGE=1 measures it
ifeq ($(COVERAGE),1)
	$(PY) -m coverage run -m pytest
	$(PY) -m coverage report
else
	$(PY) -m pytest
endif

.PHONY: coverage
coverage: ## make test under coverage (the layer and the functions); fails below the floor of pyproject.toml
	$(MAKE) test COVERAGE=1

.PHONY: test-fuzz
test-fuzz: venv ## Fuzz the local API from its OpenAPI document (schemathesis, bounded)
	$(PY) -m infra.fuzz

$(TOOLS)/sam/bin/sam:
	$(PY312) -m venv $(TOOLS)/sam
	$(TOOLS)/sam/bin/pip install -q aws-sam-cli==1.170.0 cfn-lint==1.53.3

$(TOOLS)/fuzz/bin/schemathesis:
	$(PY312) -m venv $(TOOLS)/fuzz
	$(TOOLS)/fuzz/bin/pip install -q schemathesis==4.32.5

.PHONY: lint
lint: venv $(TOOLS)/sam/bin/sam ## ruff check and format, mypy (layer, functions, infra, bench), sam validate --lint, cfn-lint 1.53 (SAM-aware)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy  # the files of pyproject.toml's [tool.mypy]
	$(TOOLS)/sam/bin/sam validate --lint --template template.yaml
	$(TOOLS)/sam/bin/cfn-lint template.yaml
	$(TOOLS)/sam/bin/python infra/check_template.py

.PHONY: openapi
openapi: venv ## Regenerate the checked-in OpenAPI document (openapi.json) and docs/api.md's tables
	$(PY) -m infra.openapi > openapi.json
	$(PY) -m infra.api_docs

.PHONY: docs
docs: venv ## Regenerate docs/api.md's tables (routes, shapes, index of docs/) from openapi.json
	$(PY) -m infra.api_docs

.PHONY: client-check
client-check: ## Generate the frontend's TypeScript client from openapi.json and type-check it (needs node)
	infra/client/check.sh

.PHONY: migrate
migrate: venv ## Apply the analytics SQL migrations (MySQL or SQLite) and the versioned MongoDB indexes (MONGODB_URI)
	$(PY) -m infra.migrate $(ARGS)

.PHONY: import-original
import-original: venv ## Import a mongoexport of the original backend: make import-original EXPORT=dir (users/retreats/bookings.json)
	$(PY) -m infra.import_original --users $(EXPORT)/users.json --retreats $(EXPORT)/retreats.json --bookings $(EXPORT)/bookings.json

.PHONY: bench
bench: venv ## Round trips, cold start (modelled), warm latency against a hand-written peer, contention, size
	$(PY) -m bench.run

.PHONY: bench-enumeration
bench-enumeration: venv ## Median answer times of register and forgot-password: existing vs pending vs unknown
	$(PY) -m bench.enumeration

.PHONY: build
build: $(TOOLS)/sam/bin/sam ## sam build (needs python3.12 on PATH)
	PATH="$(dir $(PY312)):$$PATH" $(TOOLS)/sam/bin/sam build --cached

ENV ?= dev
SECRETS_PREFIX ?= lutea/$(ENV)

.PHONY: deploy
deploy: build ## Migrate the stage's MongoDB indexes, then sam deploy --config-env $(ENV) (dev by default)
	@# The indexes the new code needs exist before it serves (a conflict stops the deploy here);
	@# the URI comes from the stage's secret, as the functions read it.
	STAGE=$(ENV) LUTEA_SECRET_MONGODB=$(SECRETS_PREFIX)/mongodb $(PY) -m infra.migrate --only mongo
	$(TOOLS)/sam/bin/sam deploy --config-env $(ENV)

.PHONY: clean
clean: ## Remove local state (.local) and build output
	rm -rf .local .aws-sam .hypothesis .schemathesis
