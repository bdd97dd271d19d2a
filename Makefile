# Muster Costs. Every target installs what it needs (uv, then the locked environment) on a fresh machine.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
RUN := $(UV) run --frozen
ARGS ?=
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install demo test unit integration infra-tests lint format bench synth openapi clean

install:
	@command -v uv >/dev/null 2>&1 || test -x "$(UV)" || python3 -m pip install --quiet --user uv
	@$(UV) sync --frozen --quiet

demo: install
	$(RUN) muster-costs local --demo $(ARGS)

test: install lint
	$(RUN) pytest -n 2 --dist loadfile

unit: install
	$(RUN) pytest tests/unit

integration: install
	$(RUN) pytest tests/integration

infra-tests: install
	$(RUN) pytest tests/infra

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy
	$(RUN) python -m functions.costs_api.openapi --check

format: install
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

bench: install
	@for script in bench/*.py; do echo "== $$script"; $(RUN) python $$script || exit 1; done

synth: install
	$(RUN) python -m infra.synth

openapi: install
	$(RUN) python -m functions.costs_api.openapi

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
