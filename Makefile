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

.PHONY: help setup web browser run shell actions train db reset-db test lint unit validate \
        story-test e2e test-scale bench bench-training bench-smoke cross-validate nlu-report lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

$(STAMPS)/venv: requirements.lock
	@python=$$(scripts/find-python.sh) || exit 1; \
	  if [ ! -x $(PY) ]; then echo "creating $(VENV) with $$python"; $$python -m venv $(VENV); fi
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@mkdir -p $(STAMPS) && touch $@

$(SPACY_MODEL)/meta.json: scripts/build_spacy_model.py $(STAMPS)/venv
	$(PY) scripts/build_spacy_model.py

setup: $(STAMPS)/venv $(SPACY_MODEL)/meta.json web  ## create the venv, build the spaCy pipeline and the page

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm is missing (Debian: apt-get install nodejs npm)"; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error

web: web/node_modules/.package-lock.json  ## install the chat page's socket.io client (npm ci)

browser:  ## install Debian's chromium for the browser test, if missing
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "error: chromium is missing: sudo apt-get install chromium"; exit 1; fi; fi

$(MODEL): $(TRAIN_DATA) $(SPACY_MODEL)/meta.json
	$(RASA) train --data data --domain domain --config config.yml --out models \
	  --fixed-model-name current

train: setup $(MODEL)  ## train a model if there is none or the data changed

db: $(STAMPS)/venv  ## create and seed the order database if missing
	$(PY) -m actions.store

reset-db: $(STAMPS)/venv  ## drop the demo data and seed it again, relative to now
	$(PY) -m actions.store --reset

run: train db  ## start the assistant: action server, Rasa server and the chat page (:8080)
	scripts/run.sh web

shell: train db  ## talk to the assistant in the terminal (rasa shell)
	scripts/run.sh shell

actions: setup db  ## start only the action server (port 5055)
	$(VENV)/bin/rasa run actions --actions actions --port 5055

test: setup lint unit validate train story-test e2e bench-smoke  ## run every test

lint: $(STAMPS)/venv
	$(VENV)/bin/ruff check actions channels tests scripts bench
	$(VENV)/bin/ruff format --check actions channels tests scripts bench

unit: setup  ## pytest unit tests (store, rules, identity, actions)
	$(PY) -m pytest -q tests --ignore=tests/e2e --ignore=tests/scale

validate: setup
	$(RASA) data validate --data data --domain domain --config config.yml --fail-on-warnings

story-test: train  ## Rasa test stories for every guidance path and interruption
	$(RASA) test core --model $(MODEL) --stories tests/test_stories.yml \
	  --fail-on-prediction-errors --out results/tmp/core

e2e: train browser  ## conversations, channels and the chat page against the real servers
	$(PY) -m pytest -q tests/e2e

test-scale: train  ## PostgreSQL + Redis + nginx + 2 Rasa + 2 action servers: load and faults
	$(PY) -m pytest -q tests/scale

bench: train db  ## benchmark ours vs stock rasa init: results/bench.md (about 30 minutes)
	$(PY) -m bench.run

bench-training: setup  ## only time our full training and a one-line retrain: results/training_times.json
	$(PY) -m bench.run --training-only

bench-smoke: train  ## the benchmark in seconds, so it cannot rot (no figures kept)
	$(PY) -m bench.run --smoke

cross-validate: train  ## 5-fold NLU cross-validation + the blind held-out set, report in results/
	$(PY) scripts/nlu_report.py --folds 5

nlu-report: cross-validate  ## the NLU quality report (same as cross-validate)

lock: $(STAMPS)/venv  ## regenerate requirements.lock from requirements.in
	$(VENV)/bin/uv pip compile requirements.in --python-version 3.10 \
	  --python-platform x86_64-unknown-linux-gnu -o requirements.lock

clean:  ## remove the venv, builds, models and the database
	rm -rf $(VENV) $(STAMPS) build models/*.tar.gz var results/tmp
