"""python -m reports collect --target aws: AWS Config and CloudFormation drift of a deployed environment read back
into records. moto answers what it implements (the recorder's status, the stacks); botocore's Stubber, which
checks every request and answer against the API's model, answers what moto does not (conformance-pack and rule
compliance, drift detection)."""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest
from botocore.stub import Stubber

from gates import provenance
from reports.aws_collect import Collector
from reports.model import Source, Status
from reports.sources import aws as aws_source

PRIMARY, SECONDARY = "us-east-1", "us-east-2"
# The calls moto does not implement: they go to a stubbed client of the same service and region.
STUBBED = {"describe_conformance_pack_compliance", "describe_compliance_by_config_rule", "describe_stacks",
           "describe_stack_resource_drifts", "get_discovered_resource_counts"}
CHECKED = dt.datetime(2026, 12, 5, 6, 0, tzinfo=dt.UTC)


class Mixed:
    """One service client: moto for what it implements, a Stubber-checked client for the rest."""

    def __init__(self, real, stubbed) -> None:
        self._real, self._stubbed = real, stubbed

    def __getattr__(self, name):
        return getattr(self._stubbed if name in STUBBED else self._real, name)


class Session:
    def __init__(self, real: boto3.Session) -> None:
        self.real, self.clients, self.stubbers = real, {}, {}

    def stub(self, service: str, region: str) -> Stubber:
        key = (service, region)
        if key not in self.stubbers:
            self.stubbers[key] = Stubber(self.real.client(service, region_name=region))
            self.stubbers[key].activate()
        return self.stubbers[key]

    def client(self, service: str, region_name: str):
        stubber = self.stub(service, region_name)
        return Mixed(self.real.client(service, region_name=region_name), stubber.client)

    def verify(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def aws(moto_aws):
    return Session(moto_aws)  # tests/conftest.py: a fresh moto account behind the run's one botocore session


def _recorder(session: Session, region: str, *, started: bool) -> None:
    config = session.real.client("config", region_name=region)
    name = f"records-staging-{'use1' if region == PRIMARY else 'use2'}"
    config.put_configuration_recorder(ConfigurationRecorder={
        "name": name, "roleARN": "arn:aws:iam::222222222222:role/aws-service-role/config.amazonaws.com/x",
        "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": region == PRIMARY}})
    if started:
        config.put_delivery_channel(DeliveryChannel={"name": name, "s3BucketName": "config-bucket"})
        config.start_configuration_recorder(ConfigurationRecorderName=name)
        # moto never delivers, so its recorder stays PENDING; AWS reports Success once a delivery has succeeded.
        from moto.config.models import config_backends
        from moto.core import DEFAULT_ACCOUNT_ID

        config_backends[DEFAULT_ACCOUNT_ID][region].recorders[name].status.last_status = "Success"


def _stack(session: Session, region: str, name: str) -> None:
    session.real.client("cloudformation", region_name=region).create_stack(StackName=name, TemplateBody=json.dumps(
        {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}))


def _pack_compliance(stubber: Stubber, short: str, pack: str, pages: list[list[tuple[str, str]]] | None) -> None:
    name = f"records-staging-{short}-{pack}"
    if pages is None:
        stubber.add_client_error("describe_conformance_pack_compliance", "NoSuchConformancePackException",
                                 f"{name} not found", expected_params={"ConformancePackName": name})
        return
    for number, page in enumerate(pages):
        answer = {"ConformancePackName": name, "ConformancePackRuleComplianceList": [
            {"ConfigRuleName": f"{rule}-conformance-pack-abcd1234", "ComplianceType": compliance}
            for rule, compliance in page]}
        if number < len(pages) - 1:
            answer["NextToken"] = f"page-{number + 1}"
        stubber.add_response("describe_conformance_pack_compliance", answer,
                             {"ConformancePackName": name, **({"NextToken": f"page-{number}"} if number else {})})


def _own_rules(stubber: Stubber, short: str, found: dict[str, str]) -> None:
    names = sorted(f"records-staging-{short}-{rule}" for rule in ("secret-rotation-overdue", "stack-drift"))
    stubber.add_response("describe_compliance_by_config_rule", {"ComplianceByConfigRules": [
        {"ConfigRuleName": f"records-staging-{short}-{rule}", "Compliance": {"ComplianceType": compliance}}
        for rule, compliance in found.items()]}, {"ConfigRuleNames": names})


def _drift(stubber: Stubber, stack: str, status: str, *, checked=CHECKED, resources=()) -> None:
    info = {"StackDriftStatus": status, **({"LastCheckTimestamp": checked} if checked else {})}
    stubber.add_response("describe_stacks", {"Stacks": [
        {"StackName": stack, "CreationTime": CHECKED, "StackStatus": "UPDATE_COMPLETE", "DriftInformation": info}]},
        {"StackName": stack})
    if resources:
        stubber.add_response("describe_stack_resource_drifts", {"StackResourceDrifts": [
            {"StackId": f"arn:stack/{stack}", "LogicalResourceId": logical, "ResourceType": kind,
             "StackResourceDriftStatus": status, "Timestamp": CHECKED}
            for logical, kind, status in resources]},
            {"StackName": stack, "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"]})


def _staging(session: Session) -> None:
    """us-east-1: recording; the HIPAA pack over two pages with one rule non-compliant, the NIST pack compliant;
    secret rotation overdue; the service stack drifted, the data stack in sync; an unrelated stack ignored.
    us-east-2: a recorder that is not recording; no NIST pack; no stack at all."""
    _recorder(session, PRIMARY, started=True)
    _recorder(session, SECONDARY, started=False)
    for name in ("records-staging-service-use1", "records-staging-data-use1", "other-app"):
        _stack(session, PRIMARY, name)
    config1, config2 = session.stub("config", PRIMARY), session.stub("config", SECONDARY)
    _pack_compliance(config1, "use1", "hipaa-security",
                     [[("access-keys-rotated", "COMPLIANT"), ("iam-user-no-policies-check", "INSUFFICIENT_DATA")],
                      [("s3-bucket-ssl-requests-only", "NON_COMPLIANT"), ("s3-bucket-logging-enabled", "INSUFFICIENT_DATA")]])
    _pack_compliance(config1, "use1", "nist-800-53-r5", [[("rds-storage-encrypted", "COMPLIANT")]])
    _own_rules(config1, "use1", {"secret-rotation-overdue": "NON_COMPLIANT", "stack-drift": "COMPLIANT"})
    # No IAM user exists: that rule has nothing to evaluate. Buckets exist: no data there is no data.
    config1.add_response("get_discovered_resource_counts", {"totalDiscoveredResources": 9, "resourceCounts": []},
                         {"resourceTypes": ["AWS::IAM::User"]})
    config1.add_response("get_discovered_resource_counts", {"totalDiscoveredResources": 9, "resourceCounts": [
        {"resourceType": "AWS::S3::Bucket", "count": 3}]}, {"resourceTypes": ["AWS::S3::Bucket"]})
    _pack_compliance(config2, "use2", "hipaa-security", [[("access-keys-rotated", "INSUFFICIENT_DATA")]])
    _pack_compliance(config2, "use2", "nist-800-53-r5", None)
    _own_rules(config2, "use2", {"stack-drift": "COMPLIANT"})  # the rotation rule is missing
    stacks = session.stub("cloudformation", PRIMARY)
    _drift(stacks, "records-staging-data-use1", "IN_SYNC")
    _drift(stacks, "records-staging-service-use1", "DRIFTED", resources=[("TaskRole", "AWS::IAM::Role", "MODIFIED")])


def test_collect_reads_compliance_and_drift_of_every_region(aws):
    _staging(aws)
    document = Collector(aws, "staging").collect()
    aws.verify()
    use1, use2 = document["regions"]
    assert use1["recorder"]["recording"] is True and use2["recorder"]["recording"] is False
    assert use1["recorder"]["records_as_designed"] and use2["recorder"]["records_as_designed"]
    assert {(r["pack"], r["rule"], r["compliance"]) for r in use1["rules"]} == {
        ("hipaa-security", "access-keys-rotated", "COMPLIANT"),
        ("hipaa-security", "iam-user-no-policies-check", "NOT_APPLICABLE"),
        ("hipaa-security", "s3-bucket-logging-enabled", "INSUFFICIENT_DATA"),
        ("hipaa-security", "s3-bucket-ssl-requests-only", "NON_COMPLIANT"),
        ("nist-800-53-r5", "rds-storage-encrypted", "COMPLIANT"),
        ("", "secret-rotation-overdue", "NON_COMPLIANT"), ("", "stack-drift", "COMPLIANT")}
    assert [s["stack"] for s in use1["stacks"]] == ["records-staging-data-use1", "records-staging-service-use1"]
    assert use1["stacks"][1]["resources"] == [{"logical_id": "TaskRole", "type": "AWS::IAM::Role",
                                               "status": "MODIFIED"}]
    assert use2["stacks"] == []


def test_the_records_pass_only_what_is_compliant_and_in_sync(aws, tmp_path):
    _staging(aws)
    path = tmp_path / "aws.json"
    path.write_text(json.dumps(Collector(aws, "staging").collect()))
    config, drift = aws_source.collect(path)
    status = {(r.where.region, r.rule): r.status for r in config.records}
    assert status[PRIMARY, "recorder"] is Status.PASS and status[SECONDARY, "recorder"] is Status.FAIL
    assert status[PRIMARY, "hipaa-security.s3-bucket-ssl-requests-only"] is Status.FAIL
    assert status[PRIMARY, "hipaa-security.access-keys-rotated"] is Status.PASS
    assert (PRIMARY, "hipaa-security.iam-user-no-policies-check") not in status  # nothing to evaluate: no record
    assert status[PRIMARY, "hipaa-security.s3-bucket-logging-enabled"] is Status.INCONCLUSIVE
    assert status[PRIMARY, "secret-rotation-overdue"] is Status.FAIL
    # No data, a missing pack and a missing rule are never a pass.
    assert status[SECONDARY, "hipaa-security.access-keys-rotated"] is Status.INCONCLUSIVE
    assert status[SECONDARY, "nist-800-53-r5.missing"] is Status.INCONCLUSIVE
    assert status[SECONDARY, "secret-rotation-overdue"] is Status.INCONCLUSIVE
    by_stack = {(r.where.region, r.where.stack): r for r in drift.records}
    assert by_stack[PRIMARY, "records-staging-data-use1"].status is Status.PASS
    drifted = by_stack[PRIMARY, "records-staging-service-use1"]
    assert drifted.status is Status.FAIL and drifted.detail["resources"][0]["logical_id"] == "TaskRole"
    assert by_stack[SECONDARY, ""].status is Status.INCONCLUSIVE
    assert config.run.collected and drift.run.collected and config.run.source is Source.CONFIG


@pytest.mark.parametrize(("status", "checked", "expected"), [
    ("IN_SYNC", CHECKED, Status.PASS),
    ("IN_SYNC", CHECKED - dt.timedelta(days=3), Status.INCONCLUSIVE),  # the drift rule stopped running
    ("NOT_CHECKED", None, Status.INCONCLUSIVE),
    ("DRIFTED", CHECKED - dt.timedelta(days=9), Status.FAIL),
])
def test_only_a_recent_detection_in_sync_passes(aws, tmp_path, status, checked, expected):
    _stack(aws, PRIMARY, "records-staging-data-use1")
    _drift(aws.stub("cloudformation", PRIMARY), "records-staging-data-use1", status, checked=checked,
           resources=[("Bucket", "AWS::S3::Bucket", "DELETED")] if status == "DRIFTED" else ())
    stacks = Collector(aws, "staging")._stacks(aws.client("cloudformation", PRIMARY))
    path = tmp_path / "aws.json"
    path.write_text(json.dumps({"env": "staging", "collected_at": (CHECKED + dt.timedelta(hours=1)).isoformat(),
                                "regions": [{"region": PRIMARY, "recorder": None, "rules": [], "stacks": stacks}]}))
    _, drift = aws_source.collect(path)
    (record,) = drift.records
    assert record.status is expected, record.title


def test_the_command_writes_the_document_with_provenance_and_a_failure_removes_it(aws, monkeypatch, tmp_path,
                                                                                  capsys):
    _staging(aws)
    monkeypatch.setattr(boto3, "Session", lambda: aws)
    out = tmp_path / "aws.json"
    from reports.__main__ import main

    assert main(["collect", "--target", "aws", "--env", "staging", "--out", str(out)]) == 0
    assert provenance.read(out) is not None
    assert capsys.readouterr().out.startswith("collect: staging: 11 rules (2 non-compliant), 2 stacks (1 drifted)")
    # A refused call: nothing collected, and the earlier document is gone.
    aws.stub("config", PRIMARY).add_client_error("describe_conformance_pack_compliance", "AccessDeniedException")
    assert main(["collect", "--target", "aws", "--env", "staging", "--out", str(out)]) == 2
    assert not out.exists() and provenance.read(out) is None
    assert "collect: INCONCLUSIVE: describe_conformance_pack_compliance" in capsys.readouterr().err
    assert main(["collect", "--target", "aws", "--env", "nowhere", "--out", str(out)]) == 2
    assert "unknown environment 'nowhere'" in capsys.readouterr().err


def test_without_a_collection_both_sources_are_not_collected(tmp_path):
    config, drift = aws_source.collect(tmp_path / "aws.json")
    assert not config.run.collected and not drift.run.collected
    assert "python -m reports collect --target aws" in config.run.note
    (tmp_path / "empty.json").write_text(json.dumps({"env": "staging", "collected_at": CHECKED.isoformat(), "regions": []}))
    config, drift = aws_source.collect(tmp_path / "empty.json")
    assert not config.run.collected and "holds no region" in drift.run.note


@pytest.mark.parametrize(("recorder", "expected"), [
    ({"recording": True, "last_status": "Success", "records_as_designed": True}, Status.PASS),
    ({"recording": True, "last_status": "Failure", "last_error": "AccessDenied on the bucket",
      "records_as_designed": True}, Status.FAIL),
    ({"recording": True, "last_status": "Success", "records_as_designed": False}, Status.FAIL),
    ({"recording": False, "last_status": "Success", "records_as_designed": True}, Status.FAIL),
    (None, Status.INCONCLUSIVE),
])
def test_only_a_recorder_recording_everything_as_designed_passes(tmp_path, recorder, expected):
    path = tmp_path / "aws.json"
    path.write_text(json.dumps({"env": "staging", "collected_at": CHECKED.isoformat(), "regions": [
        {"region": PRIMARY, "recorder": recorder and {"name": "records-staging-use1", **recorder}, "rules": [],
         "stacks": []}]}))
    config, _ = aws_source.collect(path)
    (record,) = config.records
    assert record.status is expected, record.title


def test_a_recorder_still_discovering_proves_no_rule_not_applicable(aws):
    """Its empty counts mean nothing yet: the rule stays no data (inconclusive), and nothing asks for counts."""
    _recorder(aws, PRIMARY, started=True)
    from moto.config.models import config_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    config_backends[DEFAULT_ACCOUNT_ID][PRIMARY].recorders["records-staging-use1"].status.last_status = "Pending"
    config = aws.stub("config", PRIMARY)
    _pack_compliance(config, "use1", "hipaa-security", [[("iam-user-no-policies-check", "INSUFFICIENT_DATA")]])
    _pack_compliance(config, "use1", "nist-800-53-r5", [[("rds-storage-encrypted", "COMPLIANT")]])
    _own_rules(config, "use1", {"secret-rotation-overdue": "COMPLIANT", "stack-drift": "COMPLIANT"})
    region = Collector(aws, "staging")._region(PRIMARY, "use1")
    aws.verify()
    assert ("hipaa-security", "iam-user-no-policies-check", "INSUFFICIENT_DATA") in {
        (r["pack"], r["rule"], r["compliance"]) for r in region["rules"]}
