# The two commands a new user needs: `make run` (start the assistant) and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
PY          := $(VENV)/bin/python
RASA        := $(VENV)/bin/rasa
STAMPS      := .stamps
SPACY_MODEL := build/spacy_en_orders
MODEL       := models/current.tar.gz
TRAIN_DATA  := config.yml $(shell find data domain -name '*.yml' 2>/dev/null)

export ORDER_DB_PATH ?= $(CURDIR)/var/orders.db
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONWARNINGS := ignore::DeprecationWarning
export PYTHONHASHSEED := 0

.PHONY: help setup setup-runtime activate-hook web browser run shell actions train db reset-db test lint typecheck unit \
        validate story-test e2e test-scale bench bench-scale bench-flood bench-training bench-smoke cross-validate nlu-report lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

# Two locks: requirements.lock is what the assistant runs on (Rasa, rasa-sdk, spaCy data,
# sqlite-utils); requirements-dev.lock adds the test, lint and type-check tools (pytest, ruff,
# mypy, Playwright, ...) at the same pins for shared packages. `make setup` installs both.
# To only run the assistant, `make setup-runtime` (or `pip install -r requirements.lock`)
# installs the runtime lock alone; `make run`, `make shell` and `make train` need no more.
$(STAMPS)/venv: requirements.lock
	@python=$$(scripts/find-python.sh) || exit 1; \
	  if [ ! -x $(PY) ]; then echo "creating $(VENV) with $$python"; $$python -m venv $(VENV); fi
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@mkdir -p $(STAMPS) && touch $@

# Its own stamp, so a new test tool does not rebuild the spaCy pipeline and retrain the model.
$(STAMPS)/dev: $(STAMPS)/venv requirements.lock requirements-dev.lock
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock -r requirements-dev.lock
	@mkdir -p $(STAMPS) && touch $@

$(SPACY_MODEL)/meta.json: scripts/build_spacy_model.py $(STAMPS)/venv
	$(PY) scripts/build_spacy_model.py

# `source .venv/bin/activate` also sets this checkout's ACTION_SERVER_TOKEN (var/secrets.env,
# created on first use; scripts/local-env.sh), so plain `rasa run`, `rasa shell` and
# `rasa run actions` work and agree. Appended once, also to a venv made before this line existed.
ACTIVATE_MARK := \# project secrets (make activate-hook)
ACTIVATE_HOOK := if [ -f "$(CURDIR)/scripts/local-env.sh" ]; then . "$(CURDIR)/scripts/local-env.sh" "$(CURDIR)"; fi  $(ACTIVATE_MARK)
activate-hook: $(STAMPS)/venv
	@grep -qF '$(ACTIVATE_MARK)' $(VENV)/bin/activate \
	  || { printf '\n%s\n' '$(ACTIVATE_HOOK)' >> $(VENV)/bin/activate && echo "$(VENV)/bin/activate: sources scripts/local-env.sh"; }

setup: setup-runtime $(STAMPS)/dev  ## create the venv (runtime + dev tools), build the spaCy pipeline and the page

setup-runtime: $(STAMPS)/venv activate-hook $(SPACY_MODEL)/meta.json web  ## the same without the test and lint tools

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm is missing (Debian: apt-get install nodejs npm)"; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error

web: web/node_modules/.package-lock.json  ## install the chat page's socket.io client and, for its tests, axe-core (npm ci)

browser:  ## install Debian's chromium for the browser test, if missing
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "error: chromium is missing: sudo apt-get install chromium"; exit 1; fi; fi

$(MODEL): $(TRAIN_DATA) $(SPACY_MODEL)/meta.json
	$(RASA) train --data data --domain domain --config config.yml --out models \
	  --fixed-model-name current

train: setup-runtime $(MODEL)  ## train a model if there is none or the data changed

db: $(STAMPS)/venv  ## create and seed the order database if missing
	$(PY) -m actions.demo_data

reset-db: $(STAMPS)/venv  ## drop the demo data and seed it again, relative to now
	$(PY) -m actions.demo_data --reset

run: train db  ## start the assistant: action server, Rasa server and the chat page (:8080)
	scripts/run.sh web

shell: train db  ## talk to the assistant in the terminal (rasa shell)
	scripts/run.sh shell

actions: setup-runtime db  ## start only the action server (127.0.0.1:5055; this checkout's ACTION_SERVER_TOKEN, SECURITY.md)
	. scripts/local-env.sh "$(CURDIR)" && $(PY) -m actions.server --port 5055

test: setup lint typecheck unit validate train story-test e2e bench-smoke  ## run every test

lint: $(STAMPS)/dev  ## ruff: lint and formatting
	$(VENV)/bin/ruff check actions addons channels console tests scripts bench
	$(VENV)/bin/ruff format --check actions addons channels console tests scripts bench

typecheck: $(STAMPS)/dev  ## mypy (settings in pyproject.toml)
	$(VENV)/bin/mypy actions addons channels console

unit: setup  ## pytest unit tests (store, rules, identity, actions)
	$(PY) -m pytest -q tests --ignore=tests/e2e --ignore=tests/scale --ignore=tests/security

validate: setup
	$(RASA) data validate --data data --domain domain --config config.yml --fail-on-warnings

story-test: train  ## Rasa test stories for every guidance path and interruption
	$(RASA) test core --model $(MODEL) --stories tests/test_stories.yml \
	  --fail-on-prediction-errors --out results/tmp/core

e2e: $(STAMPS)/dev train browser  ## conversations, channels, the chat page and the attacks (tests/security) against the real servers
	$(PY) -m pytest -q tests/e2e tests/security

test-scale: $(STAMPS)/dev train  ## PostgreSQL + Redis + nginx + 2 Rasa + 2 action servers: load and faults
	$(PY) -m pytest -q tests/scale

bench: train db  ## benchmark ours vs stock rasa init: results/bench.md (about 30 minutes)
	$(PY) -m bench.run

bench-flood: train  ## only the p95 of ordinary buyers while one client floods maximum-size messages, / idle
	$(PY) -m bench.run --flood-only

bench-scale: $(STAMPS)/dev train  ## 1,000 conversations on the scale-out topology, then with faults: results/bench_scale.md (about 12 minutes)
	$(PY) -m bench.scale

bench-training: setup  ## only time our full training and a one-line retrain: results/training_times.json
	$(PY) -m bench.run --training-only

bench-smoke: train  ## the benchmark in seconds, so it cannot rot (no figures kept)
	$(PY) -m bench.run --smoke

cross-validate: train  ## 5-fold NLU cross-validation + the blind held-out sets, report in results/
	$(PY) scripts/nlu_report.py --folds 5
	$(PY) scripts/language_report.py $(MODEL)

nlu-report: cross-validate  ## the NLU quality report (same as cross-validate)

# The runtime lock first: the dev lock is constrained by it (-c requirements.lock). Current
# pins are kept unless an .in file asks otherwise, and a lock whose content did not change
# is left untouched: a newer requirements.lock would rebuild the spaCy pipeline and retrain.
LOCK_TARGET := --python-version 3.10 --python-platform x86_64-unknown-linux-gnu
lock: $(STAMPS)/dev  ## regenerate requirements.lock and requirements-dev.lock from the .in files
	@set -e; for name in requirements requirements-dev; do \
	  cp $$name.lock $$name.lock.new 2>/dev/null || true; \
	  $(VENV)/bin/uv pip compile --quiet $$name.in $(LOCK_TARGET) -o $$name.lock.new \
	    --custom-compile-command "uv pip compile $$name.in $(LOCK_TARGET) -o $$name.lock" \
	    || { rm -f $$name.lock.new; exit 1; }; \
	  if cmp -s $$name.lock.new $$name.lock; then rm $$name.lock.new; echo "$$name.lock: unchanged"; \
	  else mv $$name.lock.new $$name.lock; echo "$$name.lock: updated"; fi; \
	done

clean:  ## remove the venv, builds, models and the database
	rm -rf $(VENV) $(STAMPS) build models/*.tar.gz var results/tmp
