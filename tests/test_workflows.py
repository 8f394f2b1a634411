"""The GitHub workflows, checked offline: actionlint (with shellcheck), the promotion graph, pinned actions,
least permissions, no secrets or event fields in scripts, and that every make target they call exists.

Each rule is a function returning problems, tested once on the real workflows and once on a broken copy, so a
rule that could never fail would show here.
"""

from __future__ import annotations

import copy
import functools
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
SETUP_ACTION = ROOT / ".github" / "actions" / "setup" / "action.yml"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
UNTRUSTED_IN_SCRIPTS = re.compile(r"\$\{\{[^}]*(github\.event\.|github\.head_ref|inputs\.|vars\.|steps\.)")
MAKE_CALL = re.compile(r"\bmake\s+((?:[a-z][\w-]*\s*)+)")


def load(name: str) -> dict[str, Any]:
    # PyYAML reads the key `on` as True; the workflow text is what GitHub reads, so put it back.
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    document["on"] = document.pop(True)
    return document


def all_workflows() -> dict[str, dict[str, Any]]:
    return {path.name: load(path.name) for path in sorted(WORKFLOWS.glob("*.yml"))}


def needs(job: Mapping[str, Any]) -> list[str]:
    value = job.get("needs", [])
    return [value] if isinstance(value, str) else list(value)


def ancestors(workflow: Mapping[str, Any], name: str) -> set[str]:
    found: set[str] = set()
    todo = needs(workflow["jobs"][name])
    while todo:
        job = todo.pop()
        if job not in found:
            found.add(job)
            todo += needs(workflow["jobs"][job])
    return found


def steps(document: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for job in document.get("jobs", {}).values():
        yield from job.get("steps", [])
    yield from document.get("runs", {}).get("steps", [])


# ---- the rules ---------------------------------------------------------------------------------------------


def promotion_problems(deploy: Mapping[str, Any]) -> list[str]:
    jobs = deploy["jobs"]
    problems = []
    for required in ("staging-load", "staging-drill"):
        if required not in needs(jobs["prod-primary"]):
            problems.append(f"prod-primary does not need {required}")
    for env in ("dev", "staging", "prod"):
        if f"{env}-primary" not in ancestors(deploy, f"{env}-secondary"):
            problems.append(f"{env}-secondary may start before {env}-primary")
    if "ci" not in ancestors(deploy, "dev-primary"):
        problems.append("dev deploys without CI's gates")
    if "dev-secondary" not in ancestors(deploy, "staging-primary"):
        problems.append("staging deploys before dev is complete")
    if "staging-primary" not in needs(jobs["staging-load"]):
        problems.append("staging-load does not verify the staging deployment")
    if "staging-secondary" not in ancestors(deploy, "staging-drill"):
        problems.append("staging-drill runs before both staging regions carry the release")
    rollback = jobs.get("staging-rollback", {})
    if not {"staging-load", "staging-drill"} <= set(needs(rollback)) or "failure()" not in str(rollback.get("if")):
        problems.append("no rollback runs when the staging verification fails")
    elif not any("python -m ops rollback" in step.get("run", "") for step in rollback.get("steps", [])):
        problems.append("the staging rollback job does not run python -m ops rollback")
    return problems


def pin_problems(document: Mapping[str, Any]) -> list[str]:
    return [
        f"{step['uses']} is not pinned to a commit SHA"
        for step in steps(document)
        if "uses" in step and not step["uses"].startswith("./") and not PINNED.match(step["uses"])
    ]


def permission_problems(name: str, workflow: Mapping[str, Any]) -> list[str]:
    problems = [] if workflow.get("permissions") == {} else [f"{name}: top-level permissions must be {{}}"]
    for job_name, job in workflow["jobs"].items():
        granted = job.get("permissions")
        if not isinstance(granted, Mapping):
            problems.append(f"{name}/{job_name}: declares no permissions of its own (or a shorthand)")
            continue
        uses_aws = "deploy-environment.yml" in job.get("uses", "") or any(
            "configure-aws-credentials" in step.get("uses", "") for step in job.get("steps", []))
        if granted.get("id-token") == "write" and not uses_aws:
            problems.append(f"{name}/{job_name}: id-token: write without an AWS role to assume")
        if uses_aws and granted.get("id-token") != "write":
            problems.append(f"{name}/{job_name}: assumes an AWS role without id-token: write")
        writes = sorted(scope for scope, level in granted.items() if level == "write" and scope != "id-token")
        allowed = {"security-events"} if job_name in ("evidence", "ci") else set()
        if name == "compliance-comment.yml":  # posts the diff; it checks out and runs nothing
            allowed.add("pull-requests")
        # GitHub's artifact attestation writes an attestation, and nothing else does.
        if any(step.get("uses", "").startswith("actions/attest-build-provenance@") for step in job.get("steps", [])):
            allowed.add("attestations")
        if set(writes) - allowed:
            problems.append(f"{name}/{job_name}: writes {writes}")
    return problems


def script_problems(document: Mapping[str, Any]) -> list[str]:
    problems = []
    for step in steps(document):
        script = step.get("run", "")
        if UNTRUSTED_IN_SCRIPTS.search(script):
            problems.append(f"step '{step.get('name', script[:40])}' expands an expression inside its script; "
                            "pass it through env")
    text = yaml.safe_dump(document)
    if "secrets." in text or re.search(r"AKIA[0-9A-Z]{16}", text):
        problems.append("a secret or an access key appears in the workflow")
    return problems


@functools.cache
def make_targets() -> frozenset[str]:
    return frozenset(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))


def make_call_problems(document: Mapping[str, Any], targets: frozenset[str]) -> list[str]:
    problems = []
    for step in steps(document):
        for match in MAKE_CALL.finditer(step.get("run", "")):
            problems += [f"make {word} is no target" for word in match.group(1).split() if word not in targets]
    return problems


# ---- the real workflows ------------------------------------------------------------------------------------


def actionlint(*paths: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: apt-get install shellcheck (actionlint checks run: scripts with it)"
    return subprocess.run([binary, "-shellcheck", shellcheck, *map(str, paths)], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)


def test_actionlint_and_shellcheck_pass_every_workflow():
    result = actionlint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(list(WORKFLOWS.glob("*.yml"))) == 5


def test_actionlint_fails_an_injected_event_field_and_a_shell_bug(tmp_path):
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("on: pull_request\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n"
                   "      - run: echo \"${{ github.event.pull_request.title }}\"\n"
                   "      - run: for f in $(ls *.txt); do cat $f; done\n")
    result = actionlint(bad, cwd=tmp_path)
    assert result.returncode == 1
    assert "potentially untrusted" in result.stdout and "shellcheck reported issue" in result.stdout


def test_prod_needs_the_staging_load_gate_and_drills_and_every_region_waits_for_its_primary():
    assert promotion_problems(load("deploy.yml")) == []
    deploy = load("deploy.yml")
    # The drills fail a region over: they run after the load gate, never beside it.
    assert "staging-load" in ancestors(deploy, "staging-drill")
    assert {"ci", "dev-primary", "dev-secondary", "staging-primary", "staging-secondary", "staging-load",
            "staging-drill", "staging-evidence"} <= ancestors(deploy, "prod-secondary")


@pytest.mark.parametrize("job, dropped, problem", [
    ("prod-primary", "staging-drill", "prod-primary does not need staging-drill"),
    ("prod-primary", "staging-load", "prod-primary does not need staging-load"),
    ("staging-secondary", "staging-load", "staging-secondary may start before staging-primary"),
    ("staging-drill", "staging-secondary", "staging-drill runs before both staging regions carry the release"),
    ("dev-primary", "ci", "dev deploys without CI's gates"),
    ("staging-rollback", "staging-drill", "no rollback runs when the staging verification fails"),
])
def test_the_promotion_rules_catch_a_missing_edge(job, dropped, problem):
    deploy = copy.deepcopy(load("deploy.yml"))
    deploy["jobs"][job]["needs"] = [n for n in needs(deploy["jobs"][job]) if n != dropped]
    found = promotion_problems(deploy)
    assert (problem in found) if problem else found == []


def test_promotion_to_prod_goes_through_github_environments_the_deploy_roles_trust():
    reusable = load("deploy-environment.yml")
    job = reusable["jobs"]["deploy"]
    assert job["environment"]["name"] == "${{ inputs.environment }}"
    credentials = next(s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", ""))
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    deploy = load("deploy.yml")
    called = {job["with"]["environment"] for job in deploy["jobs"].values() if "deploy-environment" in job.get("uses", "")}
    named = {job["environment"] for job in deploy["jobs"].values() if "environment" in job}
    assert called == {"dev", "staging", "prod"} and named == {"staging"}


def test_only_one_drill_at_a_time_moves_stagings_traffic_and_each_checks_the_release_first():
    release_drill = load("deploy.yml")["jobs"]["staging-drill"]
    weekly = load("drill.yml")["jobs"]["staging"]
    assert release_drill["concurrency"] == weekly["concurrency"] == {"group": "staging-traffic",
                                                                     "cancel-in-progress": False}
    assert load("drill.yml")["concurrency"]["group"] != load("deploy.yml")["concurrency"]["group"]
    for job in ("staging-load", "staging-drill"):
        runs = [s.get("run", "") for s in load("deploy.yml")["jobs"][job]["steps"]]
        checked = next(i for i, r in enumerate(runs) if "python -m ops verify-release" in r)
        judged = next(i for i, r in enumerate(runs) if r.startswith(("make load", "make drill")))
        assert checked < judged


def bake_problems(reusable: Mapping[str, Any]) -> list[str]:
    """The canary's load must run while its deployment bakes: a job beside the deploy job (neither needs the
    other), in dev and staging, judged by ops judge-bake on the release's own image tag."""
    jobs = reusable["jobs"]
    bake = next((job for job in jobs.values()
                 if any("python -m ops judge-bake" in s.get("run", "") for s in job.get("steps", []))), None)
    if bake is None:
        return ["no job drives load during the bake"]
    name = next(n for n, job in jobs.items() if job is bake)
    problems = []
    if "deploy" in ancestors(reusable, name):
        problems.append(f"{name} runs after the deploy job: the canary has baked by then")
    if name in ancestors(reusable, "deploy"):
        problems.append(f"the deploy job waits for {name}: the load would end before the bake starts")
    condition = str(bake.get("if", ""))
    if "inputs.environment != 'prod'" not in condition or "inputs.step == 'primary'" not in condition:
        problems.append(f"{name} does not run for dev's and staging's primary step")
    at = next(i for i, s in enumerate(bake["steps"]) if "python -m ops judge-bake" in s.get("run", ""))
    run = bake["steps"][at]["run"]
    if '--image-tag "$GITHUB_SHA"' not in run or '--profile "$ENVIRONMENT"' not in run:
        problems.append(f"{name} does not judge this release with its environment's profile")
    credentials = [s for s in bake["steps"][:at] if "configure-aws-credentials" in s.get("uses", "")]
    if not credentials or credentials[-1]["with"]["role-to-assume"] != "${{ vars.AWS_OPERATOR_ROLE_ARN }}":
        problems.append(f"{name} judges without the operator role, which alone may roll a deployment back")
    return problems


def test_the_canary_is_judged_under_load_during_its_bake_not_after():
    assert bake_problems(load("deploy-environment.yml")) == []


@pytest.mark.parametrize("break_it, problem", [
    (lambda jobs: jobs["bake"].__setitem__("needs", ["deploy"]), "bake runs after the deploy job"),
    (lambda jobs: jobs["deploy"].__setitem__("needs", ["bake"]), "the deploy job waits for bake"),
    (lambda jobs: jobs["bake"].__setitem__("if", "inputs.step == 'primary'"), "does not run for dev's and"),
    (lambda jobs: jobs.pop("bake"), "no job drives load during the bake"),
    (lambda jobs: [s["with"].__setitem__("role-to-assume", "${{ vars.AWS_DEPLOY_ROLE_ARN }}")
                   for s in jobs["bake"]["steps"] if "configure-aws-credentials" in s.get("uses", "")],
     "judges without the operator role"),
])
def test_the_bake_rule_catches_load_after_the_bake_or_none(break_it, problem):
    reusable = copy.deepcopy(load("deploy-environment.yml"))
    break_it(reusable["jobs"])
    assert any(problem in found for found in bake_problems(reusable)), bake_problems(reusable)


def record_problems(reusable: Mapping[str, Any]) -> list[str]:
    """Every environment step that changed something leaves its decision in the evidence vault, failed ones too."""
    deploy = reusable["jobs"]["deploy"]["steps"]
    runs = [step.get("run", "") for step in deploy]
    at = next((i for i, run in enumerate(runs) if "python -m ops record-deployment" in run), None)
    if at is None:
        return ["the deploy job writes no deployment record"]
    problems = []
    step = deploy[at]
    if "!cancelled()" not in str(step.get("if", "")):
        problems.append("the deployment record is skipped when the deployment failed")
    outcome = str(step.get("env", {}).get("OUTCOME", ""))
    if "steps.deploy.outcome" not in outcome or "steps.smoke.outcome" not in outcome:
        problems.append("the recorded outcome does not follow the deployment and the smoke check")
    if not any("reports/collected/deployments" in run and "s3://" in run for run in runs[at:]):
        problems.append("the deployment record does not reach the evidence vault")
    return problems


def test_each_environment_step_records_its_decision_in_the_evidence_vault():
    assert record_problems(load("deploy-environment.yml")) == []


@pytest.mark.parametrize("break_it, problem", [
    (lambda steps: steps.__setitem__(slice(None), [s for s in steps if "record-deployment" not in s.get("run", "")]),
     "writes no deployment record"),
    (lambda steps: next(s for s in steps if "record-deployment" in s.get("run", "")).__setitem__("if", "success()"),
     "skipped when the deployment failed"),
    (lambda steps: steps.__setitem__(slice(None), [s for s in steps if "s3://" not in s.get("run", "")
                                                   or "deployments" not in s.get("run", "")]),
     "does not reach the evidence vault"),
])
def test_the_record_rule_catches_a_missing_or_success_only_record(break_it, problem):
    reusable = copy.deepcopy(load("deploy-environment.yml"))
    break_it(reusable["jobs"]["deploy"]["steps"])
    assert any(problem in found for found in record_problems(reusable)), record_problems(reusable)


def test_a_failed_smoke_check_rolls_the_region_back():
    job = load("deploy-environment.yml")["jobs"]["deploy"]
    rollback = next(s for s in job["steps"] if "python -m ops rollback" in s.get("run", ""))
    assert rollback["if"] == "failure() && steps.smoke.outcome == 'failure'"
    assert any(s.get("id") == "smoke" for s in job["steps"])


def test_the_image_is_gated_by_trivy_in_ci_and_by_ecr_before_each_environment_deploys():
    image = load("ci.yml")["jobs"]["image"]
    runs = " ".join(s.get("run", "") for s in image["steps"])
    trivy = [s for s in image["steps"] if s.get("uses", "").startswith("aquasecurity/trivy-action@")]
    assert {s["with"]["format"] for s in trivy} == {"json", "cyclonedx"}
    assert "python -m gates.image" in runs and "trivy image/trivy.json" in runs
    job = load("deploy-environment.yml")["jobs"]["deploy"]
    names = [s.get("name", "") for s in job["steps"]]
    assert names.index("ECR scan gate (HIGH/CRITICAL block unless acknowledged for this environment)") < \
        names.index("cdk deploy")


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml", "deploy-environment.yml", "drill.yml",
                                  "compliance-comment.yml"])
def test_every_workflow_has_least_permissions_pins_and_no_injection(name):
    workflow = load(name)
    assert permission_problems(name, workflow) == []
    assert pin_problems(workflow) == []
    assert script_problems(workflow) == []
    assert make_call_problems(workflow, make_targets()) == []
    if not {"workflow_call", "workflow_run"} & set(workflow["on"]) or "pull_request" in workflow["on"]:
        assert "concurrency" in workflow


def test_the_compliance_diff_runs_read_only_and_only_its_comment_job_may_write():
    diff = load("ci.yml")["jobs"]["compliance-diff"]
    assert diff["permissions"] == {"contents": "read"} and "github.event_name == 'pull_request'" in diff["if"]
    commands = " ".join(step.get("run", "") for step in diff["steps"])
    assert "PYTHONPATH=base-src .venv/bin/python -m reports diff base-evidence/evidence.json" in commands
    assert "GITHUB_STEP_SUMMARY" in commands
    # The base evidence is only restored in a pull request; only main's evidence job saves it.
    uses = [step.get("uses", "").split("@")[0] for step in diff["steps"]]
    assert "actions/cache/restore" in uses and "actions/cache" not in uses and "actions/cache/save" not in uses
    (save,) = [s for s in load("ci.yml")["jobs"]["evidence"]["steps"] if "actions/cache/save@" in s.get("uses", "")]
    assert "github.event_name != 'pull_request'" in save["if"]
    # The artifact the comment workflow downloads is the one the diff uploads.
    (upload,) = [s for s in diff["steps"] if "upload-artifact@" in s.get("uses", "")]
    comment = load("compliance-comment.yml")
    (job,) = comment["jobs"].values()
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    (download,) = [s for s in job["steps"] if "download-artifact@" in s.get("uses", "")]
    assert download["with"]["name"] == upload["with"]["name"]
    script = " ".join(step.get("run", "") for step in job["steps"])
    # The pull request is looked up from the event, never read from the artifact; only the bot's comment is edited.
    assert "HEAD_SHA" in script and ".pr" not in script and 'github-actions[bot]' in script
    # It runs none of the pull request's code: no checkout, no make, no python.
    assert not any("checkout" in step.get("uses", "") or "make " in step.get("run", "")
                   or "python" in step.get("run", "") for step in job["steps"])


def test_the_setup_action_pins_its_actions_and_caches_pip_npm_and_jsii():
    action = yaml.safe_load(SETUP_ACTION.read_text())
    assert pin_problems(action) == [] and script_problems(action) == []
    text = SETUP_ACTION.read_text()
    assert "cache: pip" in text and "~/.npm" in text and "JSII_RUNTIME_PACKAGE_CACHE_ROOT" in text


def test_the_rules_catch_tags_broad_permissions_injection_and_missing_targets():
    workflow = {"permissions": "write-all", "jobs": {"x": {
        "permissions": {"contents": "write", "id-token": "write"},
        "steps": [{"uses": "actions/checkout@v4"}, {"run": 'echo "${{ github.event.issue.title }}"'},
                  {"run": "make nonsense", "env": {"T": "${{ secrets.TOKEN }}"}}],
    }}}
    assert pin_problems(workflow) == ["actions/checkout@v4 is not pinned to a commit SHA"]
    assert permission_problems("w", workflow) == [
        "w: top-level permissions must be {}",
        "w/x: id-token: write without an AWS role to assume",
        "w/x: writes ['contents']",
    ]
    assert len(script_problems(workflow)) == 2
    assert make_call_problems(workflow, make_targets()) == ["make nonsense is no target"]
    # Writing attestations is allowed only to the job that attests.
    attesting = {"permissions": {}, "jobs": {"a": {"permissions": {"attestations": "write"}, "steps": [
        {"uses": "actions/attest-build-provenance@977bb373ede98d70efbf0b7b13af9c3d6651dc60"}]},
        "b": {"permissions": {"attestations": "write"}, "steps": [{"run": "true"}]}}}
    assert permission_problems("w", attesting) == ["w/b: writes ['attestations']"]


def test_ci_runs_every_gate_the_pipeline_promises():
    jobs = load("ci.yml")["jobs"]
    commands = {name: " ".join(s["run"] for s in job["steps"] if "run" in s) for name, job in jobs.items()}
    assert commands["static"] == "make static"
    static = re.search(r"^static:.*?\n\n", (ROOT / "Makefile").read_text(), re.MULTILINE | re.DOTALL).group(0)
    assert all(tool in static for tool in ("ruff check", "mypy", "bandit", "hadolint", "actionlint"))
    assert "make unit SHARD=" in commands["unit"] and 'make synth IMAGE_TAG="$GITHUB_SHA"' in commands["synth"]
    assert commands["cfn-lint"] == "make lint make resilience" and commands["checkov"] == "make checkov"
    assert commands["drill"] == "make drill" and commands["load"] == "make load"
    assert "make coverage" in commands["coverage"]
    evidence = jobs["evidence"]
    assert "REQUIRE=nag,aspect,checkov,cfn-lint,resilience,unit,drill,load,image,sbom" in commands["evidence"]
    # The image job leaves the SBOM's provenance and hands both image sources to the evidence.
    assert "python -m gates.provenance image/sbom.cdx.json" in commands["image"]
    downloads = [s["with"]["name"] for s in evidence["steps"] if s.get("uses", "").startswith("actions/download-art")
                 and "name" in s.get("with", {})]
    assert "image-evidence" in downloads
    uploads = [s["uses"].split("@")[0] for s in evidence["steps"] if "uses" in s]
    assert "github/codeql-action/upload-sarif" in uploads and "actions/upload-artifact" in uploads
    assert set(needs(evidence)) == {"synth", "cfn-lint", "checkov", "unit", "drill", "load", "image"}


def test_evidence_from_shards_names_a_missing_shard_so_unit_evidence_is_not_collected(tmp_path):
    out = tmp_path / "tests" / "out"
    out.mkdir(parents=True)
    (out / "junit-infrastructure.xml").write_text("<testsuites/>")

    def junit_argument() -> str:
        done = subprocess.run(["make", "-s", "-n", "-f", str(ROOT / "Makefile"), "evidence", "JUNIT=shards",
                               "SCREENSHOT=", f"VENV={ROOT / '.venv'}", "-o", str(ROOT / ".venv" / ".installed")],
                              cwd=tmp_path, capture_output=True,
                              text=True, timeout=60, check=True)
        return re.search(r"--junit (\S+)", done.stdout).group(1)

    assert junit_argument() == "tests/out/junit-runtime.xml"
    (out / "junit-runtime.xml").write_text("<testsuites/>")
    assert junit_argument() == "tests/out"


def _evidence_command(*variables: str) -> str:
    done = subprocess.run(["make", "-s", "-n", "-f", str(ROOT / "Makefile"), "evidence", "SCREENSHOT=", *variables,
                           f"VENV={ROOT / '.venv'}", "-o", str(ROOT / ".venv" / ".installed")],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    return " ".join(done.stdout.replace("\\\n", " ").split())  # one command, continued lines joined


def test_make_evidence_release_and_image_inputs_reach_the_generator():
    assert "--release" not in _evidence_command() and "--image-gate" not in _evidence_command()
    command = _evidence_command("RELEASE=1", "IMAGE_GATE=image/ecr-gate.json", "SBOM=elsewhere/sbom.json")
    assert "--release --image-gate image/ecr-gate.json --sbom elsewhere/sbom.json" in command


def test_the_unit_shards_hold_every_test_folder_once():
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    shards = dict(re.findall(r"^SHARD_(\w+) := (.*)$", makefile, re.MULTILINE))
    matrix = load("ci.yml")["jobs"]["unit"]["strategy"]["matrix"]["shard"]
    assert set(shards) == set(matrix)
    assert re.search(r"^UNIT_SHARDS := (.*)$", makefile, re.MULTILINE).group(1).split() == matrix
    listed = [entry for paths in shards.values() for entry in paths.split()]
    holding_tests = sorted(
        f"tests/{p.name}" for p in (ROOT / "tests").iterdir()
        if (p.is_dir() and any(p.rglob("test_*.py"))) or (p.is_file() and re.match(r"test_.*\.py$", p.name))
    )
    assert sorted(listed) == holding_tests
