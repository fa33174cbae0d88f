# candlefish-secrets developer entry points. `make preview` and `make test` are the two to know.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= venv
PY := $(VENV)/bin/python
STACK ?= production
INSTALLED := $(VENV)/.installed

.PHONY: venv policy-pack preview test lint typecheck scan pytest fast mutation clean validate loadtest

$(INSTALLED): requirements.txt requirements-dev.txt policies/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(INSTALLED)

venv: $(INSTALLED)

## The policy pack's own virtualenv, which `pulumi preview/up --policy-pack policies` runs the rules in.
POLICY_VENV := policies/venv
policy-pack: $(POLICY_VENV)/.installed

$(POLICY_VENV)/.installed: policies/requirements.txt
	test -x $(POLICY_VENV)/bin/python || $(PYTHON) -m venv $(POLICY_VENV)
	$(POLICY_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r policies/requirements.txt
	touch $@

## Offline preview of a stack (STACK=production by default) under the recording mocks, with the policy pack.
preview: $(INSTALLED)
	$(PY) -m tools.preview --stack $(STACK)

## Everything CI checks: lint, types, committed-secrets scan, then the test suite.
test: lint typecheck scan pytest

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(INSTALLED)
	$(VENV)/bin/mypy

scan: $(INSTALLED)
	$(PY) -m tools.scan_secrets

## pytest-xdist workers (tests/support/xdist_groups.py says how the suite is split); WORKERS=0 runs one process.
WORKERS ?= 2
pytest: $(INSTALLED)
	$(PY) -m pytest -q -n $(WORKERS) --dist loadfile

## The quick loop: unit tests only (no whole-program runs, no servers).
fast: $(INSTALLED)
	$(PY) -m pytest -q -m "not slow"

## Mutation testing (not part of `make test`): a seeded sample of mutants of the validation and security logic,
## at the lowest CPU priority. MUTANTS=0 runs every mutant (hours); SEED picks another sample. See tests/MUTATION.md.
MUTANTS ?= 300
SEED ?= 18
mutation: $(INSTALLED)
	nice -n 19 $(PY) -m tools.mutation --sample $(MUTANTS) --seed $(SEED)

## Day-2 checks of a deployed stack (README: operating the platform). VAULT_TOKEN from the environment.
validate: $(INSTALLED)
	$(PY) -m tools.validate --stack $(STACK)

## Load test against $$VAULT_ADDR with a token of the loadtest policy (LOADTEST_ARGS="--duration 60" etc.).
loadtest: $(INSTALLED)
	$(PY) -m tools.loadtest $(LOADTEST_ARGS)

clean:
	rm -rf mutants $(VENV) $(POLICY_VENV) .mypy_cache .ruff_cache .pytest_cache
