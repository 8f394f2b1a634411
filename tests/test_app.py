"""app.py's contract: one clear line and a non-zero exit for each kind of bad input."""

from __future__ import annotations

import contextlib
import io

import aws_cdk as cdk
import jsii
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from constructs import Construct, IValidation

import app
from gates import synth as gate
from policies.acknowledgments import Registry, load_registry, parse_registry
from stacks.build import add_stages
from tests.factories import stale_entry as _extra_entry

DEV = {"env": "dev"}


def _registry_plus(entry: dict) -> Registry:
    base = load_registry()
    extra = parse_registry([entry])
    return Registry(entries=base.entries + extra.entries)


def test_unknown_environment_exits_2_with_one_line(capsys):
    assert app.main(context={"env": "qa"}) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["synth: error: unknown environment 'qa'; expected one of ['dev', 'prod', 'staging'] or 'all'"]


def test_expired_acknowledgment_exits_1_naming_it(monkeypatch, capsys):
    monkeypatch.setattr(app, "load_registry", lambda: _registry_plus(_extra_entry(expires="2026-01-31")))
    monkeypatch.setattr(app, "add_stages", lambda *a, **k: [])  # expiry is judged before any construct is
    assert app.main(context=DEV) == 1
    err = capsys.readouterr().err
    assert "acknowledgment 'stale-bucket-exception' expired on 2026-01-31 (owner platform)" in err
    assert err.strip().endswith("FAIL: 1 acknowledgment problem(s)")


def test_malformed_registry_exits_2(monkeypatch, capsys):
    def broken():
        return parse_registry([_extra_entry(rules=["S1"])])

    monkeypatch.setattr(app, "load_registry", broken)
    monkeypatch.setattr(app, "add_stages", lambda *a, **k: [])  # the registry is read whatever the stages are
    assert app.main(context=DEV) == 2
    assert "not namespaced" in capsys.readouterr().err


@pytest.fixture(scope="module")
def defective_run(tmp_path_factory):
    """One dev synthesis through app.main with four defects planted: each must be reported."""
    outdir = tmp_path_factory.mktemp("defective")
    patch = pytest.MonkeyPatch()

    def add_defective_stages(*args, **kwargs):
        stages = add_stages(*args, **kwargs)
        service = stages[0].primary.service
        s3.CfnBucket(service, "Leaky")
        cdk.Tags.of(service.load_balancer).remove("Owner")
        world_ssh = ec2.SecurityGroup(service, "Bastion", vpc=service.props.vpc)
        world_ssh.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(22))
        return stages

    stderr = io.StringIO()
    try:
        patch.setattr(app, "add_stages", add_defective_stages)
        patch.setattr(app, "load_registry", lambda: _registry_plus(_extra_entry()))
        with contextlib.redirect_stderr(stderr):
            code = app.main(context=DEV, outdir=str(outdir))
    finally:
        patch.undo()  # however the run ends, later tests see the real app
    return code, outdir, stderr.getvalue()


def _report_text(outdir) -> str:
    return (outdir / "validation-report.json").read_text()


def test_defective_app_exits_1_with_a_summary(defective_run):
    code, _, stderr = defective_run
    assert code == 1
    assert stderr.strip().splitlines()[-1].startswith("synth: FAIL: environments dev, ")


def test_unencrypted_bucket_fails_synthesis(defective_run):
    report = _report_text(defective_run[1])
    assert "[Guard-Encryption] AWS::S3::Bucket: bucket_encryption is not set" in report
    assert "dev/Service-use1/Leaky" in report


def test_missing_tag_fails_synthesis(defective_run):
    assert "lacks required tags ['Owner']" in _report_text(defective_run[1])


def test_public_ssh_fails_synthesis(defective_run):
    report = _report_text(defective_run[1])
    assert "admits 0.0.0.0/0 on port 22" in report
    assert "AwsSolutions-EC23" in report


def test_unused_acknowledgment_fails_synthesis(defective_run):
    assert (
        "acknowledgment 'stale-bucket-exception' rule AwsSolutions::AwsSolutions-S1 suppressed nothing in 'dev'"
    ) in defective_run[2]


def test_clean_environment_passes_with_a_summary_line(tmp_path, capsys):
    assert app.main(context=DEV, outdir=str(tmp_path)) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith("synth: PASS: environments dev, 0 violations, 0 unused acknowledgments")
    assert "HIPAA.Security" in out[-1] and (tmp_path / "validation-report.json").exists()


def test_report_without_the_nag_packs_is_inconclusive(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(gate, "load_report", lambda _: {"pluginReports": []})
    monkeypatch.setattr(app, "add_stages", lambda *a, **k: [])
    assert app.main(context=DEV, outdir=str(tmp_path)) == 2
    assert "INCONCLUSIVE" in capsys.readouterr().err


def test_missing_report_is_inconclusive(monkeypatch, tmp_path, capsys):
    from gates.synth import ReportMissing

    def no_report(_):
        raise ReportMissing("gone")

    monkeypatch.setattr(gate, "load_report", no_report)
    monkeypatch.setattr(app, "add_stages", lambda *a, **k: [])
    assert app.main(context=DEV, outdir=str(tmp_path)) == 2
    assert "no validation report to judge" in capsys.readouterr().err


@jsii.implements(IValidation)
class _Refuses:
    def validate(self) -> list[str]:
        return ["[Guard] dev/Late/Bucket was added after the guards judged the stage"]


def test_a_construct_validation_error_exits_1_naming_the_construct(monkeypatch, tmp_path, capsys):
    """Not mistaken for the nag packs' failure (whose report is on disk): no report is written, the error says."""
    def stages_with_a_refusing_construct(cdk_app, *args, **kwargs):
        Construct(cdk_app, "Checkpoint").node.add_validation(_Refuses())
        return []

    monkeypatch.setattr(app, "add_stages", stages_with_a_refusing_construct)
    assert app.main(context=DEV, outdir=str(tmp_path)) == 1
    assert capsys.readouterr().err.splitlines() == [
        "synth: [Checkpoint] [Guard] dev/Late/Bucket was added after the guards judged the stage",
        "synth: FAIL: construct validation failed"]
