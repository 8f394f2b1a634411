"""The threat model of the gates: each way a hurried or careless change once got past `make check`, made again here,
and the line the gate now fails with. docs/compliance.md ("What the gates resist, and what they do not") lists
the same holes; a new hole found later gets its test in this module.

Each test makes one change in one dev synthesis through app.main (the synth gate `make synth` runs), or edits the
templates a clean synthesis wrote before the later gates read them (cfn-lint, checkov, evidence).
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam

import app
from gates import cfn_lint as lint
from gates import checkov as checkov_gate
from gates import custody
from policies.acknowledgments import REGISTRY_FILE
from reports import __main__ as evidence
from stacks.build import add_stages
from stacks.stage import EnvironmentStage

DEV = "dev"


@dataclass(frozen=True)
class Synth:
    code: int
    outdir: Path
    stdout: str
    stderr: str


def synth(tmp_path: Path, *, change: Callable[[Sequence[EnvironmentStage]], None] | None = None,
          registry: Callable[[list[dict]], None] | None = None) -> Synth:
    """app.main over dev, after ``change`` edits the built stages and ``registry`` edits the registry's entries
    (passed as a proposed registry file, as `cdk synth -c registry=...` does)."""
    context = {"env": DEV}
    if registry:
        entries = yaml.safe_load(REGISTRY_FILE.read_text())
        registry(entries)
        proposed = tmp_path / "acknowledgments.yaml"
        proposed.write_text(yaml.safe_dump(entries))
        context["registry"] = str(proposed)
    outdir = tmp_path / "cdk.out"
    patch = pytest.MonkeyPatch()

    def changed_stages(*args, **kwargs):
        stages = add_stages(*args, **kwargs)
        if change:
            change(stages)
        return stages

    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        patch.setattr(app, "add_stages", changed_stages)
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = app.main(context=context, outdir=str(outdir))
    finally:
        patch.undo()
    return Synth(code, outdir, stdout.getvalue(), stderr.getvalue())


def failed_with(run: Synth, line: str) -> bool:
    """The synth gate failed (exit 1) and printed ``line`` as one of its lines."""
    return run.code == 1 and f"synth: {line}" in run.stderr.splitlines()


def _entry(entries: list[dict], entry_id: str) -> dict:
    (found,) = [entry for entry in entries if entry["id"] == entry_id]
    return found


# 1. A blanket acknowledgment.

def test_a_pure_wildcard_entry_is_refused(tmp_path):
    def blanket(entries):
        entries.append({**_entry(entries, "alb-public-https-ingress"), "id": "everything-is-fine", "paths": ["*"]})

    run = synth(tmp_path, registry=blanket)
    assert run.code == 2
    assert "path '*' is a blanket wildcard; name the constructs the finding is on" in run.stderr


def test_a_glob_wider_than_its_findings_fails_naming_a_construct_it_suppresses_nothing_on(tmp_path):
    def widen(entries):
        _entry(entries, "alb-public-https-ingress")["paths"] = ["*/Service-*/*/*/Resource"]

    run = synth(tmp_path, registry=widen)
    assert run.code == 1
    assert ("synth: acknowledgment 'alb-public-https-ingress' matches Service-use1/AccessLogs/LoadBalancer/Resource "
            "and ") in run.stderr
    assert "where it suppresses nothing in any environment; narrow its paths" in run.stderr


def test_a_broad_entry_cannot_take_credit_for_a_narrower_one(tmp_path):
    def overlap(entries):
        entries.append({**_entry(entries, "xray-writes-have-no-resource-scope"), "id": "any-policy-may-wildcard",
                        "paths": ["*/Service-*/*/Policy/Resource"]})

    assert failed_with(synth(tmp_path, registry=overlap), "acknowledgments 'xray-writes-have-no-resource-scope' and "
                       "'any-policy-may-wildcard' both grant AwsSolutions::AwsSolutions-IAM5[Resource::*] on "
                       "dev/Service-use1/TaskRole/Policy/Resource; one finding, one entry")


# 2. A suppression outside the registry.

KEY = "dev/Keys-use1/DataKey/Resource"
ALB_SG = "dev/Service-use1/Alb/SecurityGroup/Resource"
PLAIN = "(a plain id, which hides its finding from the report; only registry entries acknowledge)"


def _construct(stages: Sequence[EnvironmentStage], path: str) -> cdk.CfnResource:
    found = stages[0]
    for segment in path.split("/")[1:]:
        found = found.node.find_child(segment)
    return found


@pytest.mark.parametrize("where, rule, reason, line", [
    # Namespaced: CDK core suppresses it and the report lists it.
    (KEY, "AwsSolutions::AwsSolutions-KMS5", "rotation is handled elsewhere",
     f"{KEY}: AwsSolutions::AwsSolutions-KMS5 acknowledged outside the registry (it carries no registry marker)"),
    # Plain: cdk-nag drops the finding itself, so the report never shows it; the stack's metadata does.
    (KEY, "HIPAA.Security-KMSBackingKeyRotationEnabled", "handled elsewhere",
     f"{KEY}: HIPAA.Security-KMSBackingKeyRotationEnabled acknowledged outside the registry {PLAIN}"),
    # cdk-nag reads the plain prefix in any letter case.
    (KEY, "ANNOTATION::AwsSolutions-IAM5[Resource::*]", "x",
     f"{KEY}: AwsSolutions-IAM5[Resource::*] acknowledged outside the registry {PLAIN}"),
    # A registry marker copied from another entry, onto another construct or for another rule.
    (KEY, "AwsSolutions::AwsSolutions-EC23",
     "copied [ack alb-public-https-ingress; owner platform-networking; review by 2027-08-31]",
     f"{KEY}: AwsSolutions::AwsSolutions-EC23 acknowledged outside the registry (it names entry "
     f"'alb-public-https-ingress', whose paths do not match {KEY})"),
    (ALB_SG, "AwsSolutions::AwsSolutions-EC27",
     "copied [ack alb-public-https-ingress; owner platform-networking; review by 2027-08-31]",
     f"{ALB_SG}: AwsSolutions::AwsSolutions-EC27 acknowledged outside the registry (it names entry "
     "'alb-public-https-ingress', which does not grant AwsSolutions::AwsSolutions-EC27)"),
])
def test_an_acknowledgment_made_in_a_stack_fails_naming_construct_and_rule(tmp_path, where, rule, reason, line):
    def acknowledge(stages):
        cdk.Validations.of(_construct(stages, where)).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))

    run = synth(tmp_path, change=acknowledge)
    assert failed_with(run, line)
    # The later gates refuse what a failed synthesis wrote, had anyone run them anyway.
    assert lint.main([str(run.outdir)]) == 2


def test_a_stack_outside_the_guarded_stages_fails(tmp_path):
    def loose_stack(stages):
        task = ecs.FargateTaskDefinition(cdk.Stack(stages[0].node.scope, "Debug"), "Task")
        task.add_container("shell", image=ecs.ContainerImage.from_registry("busybox"), user="root")

    assert failed_with(synth(tmp_path, change=loose_stack), "[Registry] [Guard] Debug: a stack the guards do not "
                       "judge; build it inside an environment stage (stacks/stage.py)")


def test_an_acknowledgment_on_a_whole_environment_fails(tmp_path):
    def acknowledge(stages):
        cdk.Validations.of(stages[0]).acknowledge(cdk.Acknowledgment(id="AwsSolutions-IAM5", reason="all of them"))

    assert failed_with(synth(tmp_path, change=acknowledge), "[Registry] [Guard] dev: Annotation::AwsSolutions-IAM5 "
                       "acknowledged outside any stack; only the registry acknowledges, on resources")


# 3. An entry absorbs new findings.

def test_a_new_wildcard_statement_under_an_existing_entry_fails_until_the_entry_is_updated(tmp_path):
    def widen_policy(stages):
        stages[0].primary.service.node.find_child("TaskRole").policy.add_statements(
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=["*"]))

    assert failed_with(synth(tmp_path, change=widen_policy), "acknowledgment 'xray-writes-have-no-resource-scope' "
                       "suppresses 5 findings in 'dev' but accepts 4: review the new ones, then set accepts to 5")


# 4. Containers are not guarded.

def test_a_root_writable_container_fails_synthesis(tmp_path):
    def debug_container(stages):
        task = stages[0].primary.service.node.find_child("Task")
        task.add_container("debug", image=ecs.ContainerImage.from_registry("busybox"), user="root",
                           readonly_root_filesystem=False, memory_limit_mib=64, essential=False)

    run = synth(tmp_path, change=debug_container)
    assert run.code == 1
    assert ("[Guard-Containers] container 'debug' runs as root (user 'root'); container 'debug' has a writable root "
            "filesystem (set readonlyRootFilesystem)") in run.stderr


@pytest.fixture(scope="module")
def overridden_synth(tmp_path_factory) -> Synth:
    """A raw override makes the sidecar privileged and root: CDK applies it after every construct-level rule (the
    nag packs' and the aspects'), so synthesis passes and only the template shows it."""
    def override(stages):
        task = stages[0].primary.service.node.find_child("Task").node.default_child
        task.add_property_override("ContainerDefinitions.1.Privileged", True)
        task.add_property_override("ContainerDefinitions.1.User", "0")

    return synth(tmp_path_factory.mktemp("override"), change=override)


def test_a_privileged_root_container_by_raw_override_fails_checkov(overridden_synth, checkov_gate_runs, capsys):
    assert overridden_synth.code == 0
    assert checkov_gate.main([str(overridden_synth.outdir)]) == 1
    err = capsys.readouterr().err
    assert "CKV_RECORDS_ECS_2 at dev/Service-use1/Task/Resource" in err
    assert "CKV_RECORDS_ECS_2 at dev/Service-use2/Task/Resource" not in err


# 5. Templates edited after synthesis.

@pytest.fixture(scope="module")
def clean_synth(tmp_path_factory) -> Synth:
    run = synth(tmp_path_factory.mktemp("clean"))
    assert run.code == 0, run.stderr
    return run


@pytest.fixture
def edited(clean_synth, tmp_path) -> tuple[Path, Path]:
    """A copy of a clean synthesis whose service template then had its sidecar made privileged and root."""
    outdir = Path(shutil.copytree(clean_synth.outdir, tmp_path / "cdk.out"))
    (template,) = outdir.glob("assembly-dev/devServiceuse1*.template.json")
    document = json.loads(template.read_text())
    (task,) = [r for r in document["Resources"].values() if r["Type"] == "AWS::ECS::TaskDefinition"]
    task["Properties"]["ContainerDefinitions"][1] |= {"Privileged": True, "User": "0"}
    template.write_text(json.dumps(document, indent=1))
    return outdir, template


def _refusal(template: Path) -> str:
    return f"{template}: changed since synth judged it (sha256 differs); run make synth"


def test_cfn_lint_refuses_an_edited_template(edited, capsys):
    outdir, template = edited
    assert lint.main([str(outdir)]) == 2
    assert capsys.readouterr().err.strip() == f"cfn-lint: INCONCLUSIVE: {_refusal(template)}"


def test_checkov_refuses_an_edited_template(edited, capsys):
    outdir, template = edited
    assert checkov_gate.main([str(outdir)]) == 2
    assert capsys.readouterr().err.strip() == f"checkov: INCONCLUSIVE: {_refusal(template)}"


def test_the_evidence_refuses_an_edited_template(edited, tmp_path, capsys):
    outdir, template = edited
    assert evidence.main(["--cdk-out", str(outdir), "--out", str(tmp_path / "bundle"), "--require", "nag"]) == 2
    assert capsys.readouterr().err.strip() == f"evidence: INCONCLUSIVE: {_refusal(template)}"
    assert not (tmp_path / "bundle").exists()


def test_a_template_synth_never_judged_is_refused(clean_synth, tmp_path, capsys):
    outdir = Path(shutil.copytree(clean_synth.outdir, tmp_path / "cdk.out"))
    smuggled = outdir / "assembly-dev" / "devExtra.template.json"
    smuggled.write_text(json.dumps({"Resources": {}}))
    assert lint.main([str(outdir)]) == 2
    assert f"{smuggled}: not judged by synth; run make synth" in capsys.readouterr().err


def test_the_synth_record_names_every_file_synth_wrote_with_the_commit(clean_synth):
    record = json.loads((clean_synth.outdir / custody.CUSTODY_FILE).read_text())
    written = {p.relative_to(clean_synth.outdir).as_posix() for p in clean_synth.outdir.rglob("*") if p.is_file()}
    assert set(record["sha256"]) == written - {custody.CUSTODY_FILE}
    assert {"validation-report.json", "guards.json", "manifest.json", "assembly-dev/manifest.json"} < written
    assert record["commit"] and record["passed"] is True
