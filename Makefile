# The two commands a newcomer needs:  make run   and   make test
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test install install-test chromium serve-local stop-local

# The pinned requirements, then cope-eval itself, editable (its dependencies are those same pins:
# --no-deps resolves nothing again): the `cope-eval` command, working from any directory.
$(VENV)/.app-installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.app-installed requirements-test.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

install: $(VENV)/.app-installed
install-test: $(VENV)/.test-installed

## Start the app (and the local vLLM stand-in unless COPE_BASE_URL is set).
run: install
	$(PY) -m cope_eval app

## Install everything the tests need, then run the whole suite against a real vLLM.
test: install-test chromium
	@if [ -z "$$COPE_TEST_BASE_URL" ]; then $(PY) -m cope_eval serve-local --prepare; fi
	$(PY) -m pytest $(PYTEST_ARGS)

chromium:
	scripts/ensure_chromium.sh

serve-local: install
	$(PY) -m cope_eval serve-local

stop-local: install
	$(PY) -m cope_eval serve-local --stop

## Run every benchmark (benchmark 2 needs the local vLLM running) and write bench/results.md.
## Benchmark 10 installs its peers on first use, pinned, under ~/.cache/cope-eval/bench (promptfoo with
## npm when node is there, Inspect AI from bench/requirements-peers.txt into its own venv); a peer it
## cannot install or run is skipped, never a failure.
.PHONY: bench
bench: install
	$(PY) bench/run_all.py

## Take each protection out, one at a time, in a copy of the repo and check its tests then fail;
## writes docs/protections.md (10 to 15 minutes: some of the tests drive a real browser).
.PHONY: protections
protections: install-test chromium
	@if [ -z "$$COPE_TEST_BASE_URL" ]; then $(PY) -m cope_eval serve-local --prepare; fi
	$(PY) scripts/check_protections.py
