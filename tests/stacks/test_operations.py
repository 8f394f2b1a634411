"""Account-level operations per environment: budget, audit trail, GitHub OIDC deploy role, evidence vault."""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from stacks.ci_identity import subject

ISSUER = "token.actions.githubusercontent.com"


def _template(synthesized, env):
    return synthesized.stage_template(env, "operations")


def _one(template, kind) -> dict:
    (resource,) = template.find_resources(kind).values()
    return resource["Properties"]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_one_budget_per_environment_with_actual_and_forecast_alerts(synthesized, config, env):
    ops = config.environments[env].operations
    budget = _one(_template(synthesized, env), "AWS::Budgets::Budget")
    data = budget["Budget"]
    assert (data["BudgetType"], data["TimeUnit"]) == ("COST", "MONTHLY")
    assert data["BudgetLimit"] == {"Amount": ops.budget_monthly_usd, "Unit": "USD"}
    assert "CostFilters" not in data  # the account is the environment: all of its spend counts
    alerts = {n["Notification"]["NotificationType"]: n for n in budget["NotificationsWithSubscribers"]}
    assert alerts["ACTUAL"]["Notification"]["Threshold"] == ops.budget_actual_alert_percent
    assert alerts["FORECASTED"]["Notification"]["Threshold"] == ops.budget_forecast_alert_percent
    account = config.environments[env].account
    for alert in alerts.values():
        assert alert["Subscribers"] == [
            {"SubscriptionType": "SNS", "Address": f"arn:aws:sns:us-east-1:{account}:records-{env}-use1-alerts"}]


def test_trail_is_multi_region_validated_encrypted_and_delivered_to_logs(synthesized, config):
    template = _template(synthesized, "prod")
    trail = _one(template, "AWS::CloudTrail::Trail")
    assert trail["TrailName"] == "records-prod"
    assert trail["IsMultiRegionTrail"] is True and trail["IncludeGlobalServiceEvents"] is True
    assert trail["EnableLogFileValidation"] is True and trail["IsLogging"] is True
    assert "KMSKeyId" in trail and "CloudWatchLogsLogGroupArn" in trail and "CloudWatchLogsRoleArn" in trail
    (selector,) = trail["EventSelectors"]
    assert selector["IncludeManagementEvents"] is True and selector["ReadWriteType"] == "All"
    assert selector["DataResources"][0]["Type"] == "AWS::S3::Object"
    assert "EvidenceVaultBucket" in str(selector["DataResources"][0]["Values"])
    buckets = template.find_resources("AWS::S3::Bucket")
    (trail_bucket,) = [b["Properties"] for k, b in buckets.items() if k.startswith("AuditBucket")]
    assert trail_bucket["LoggingConfiguration"]["LogFilePrefix"] == "trail/"
    rule = trail_bucket["LifecycleConfiguration"]["Rules"][0]
    assert rule["ExpirationInDays"] == config.environments["prod"].operations.audit_retention_days
    assert "KMSMasterKeyID" in str(trail_bucket["BucketEncryption"])


def test_cloudtrail_may_encrypt_and_deliver_for_this_trail_only(synthesized):
    template = _template(synthesized, "dev")
    trail_arn = "arn:aws:cloudtrail:us-east-1:111111111111:trail/records-dev"
    keys = [k["Properties"]["KeyPolicy"]["Statement"] for k in template.find_resources("AWS::KMS::Key").values()
            if "CloudTrail" in k["Properties"]["Description"]]
    (statements,) = keys
    by_sid = {s.get("Sid"): s for s in statements}
    encrypt = by_sid["CloudTrailEncryptsThisTrail"]
    assert encrypt["Action"] == "kms:GenerateDataKey*"
    assert encrypt["Condition"]["StringEquals"] == {"aws:SourceArn": trail_arn}
    assert encrypt["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:111111111111:trail/*"}
    assert by_sid["CloudTrailDescribesKey"]["Action"] == "kms:DescribeKey"
    writes = [s for p in template.find_resources("AWS::S3::BucketPolicy").values()
              for s in p["Properties"]["PolicyDocument"]["Statement"] if s.get("Action") == "s3:PutObject"
              and s.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}]
    (write,) = writes
    assert write["Resource"]["Fn::Join"][1][-1] == "/AWSLogs/111111111111/*"
    delivery = [p["Properties"]["PolicyDocument"]["Statement"] for k, p in template.find_resources(
        "AWS::IAM::ManagedPolicy").items() if k.startswith("AuditLogsRole")]
    ((statement,),) = delivery
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"]["Fn::GetAtt"][0].startswith("AuditLogs")
    policies = [p["Properties"]["PolicyDocument"]["Statement"] for p in template.find_resources(
        "AWS::S3::BucketPolicy").values()]
    trail_statements = [s for statements in policies for s in statements
                        if s.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}]
    assert len(trail_statements) == 2
    for statement in trail_statements:
        assert statement["Condition"]["StringEquals"] == {
            "aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/records-dev"}


def _trust(synthesized, env, role: str = "CiDeployRole") -> dict:
    template = _template(synthesized, env)
    roles = template.find_resources("AWS::IAM::Role")
    (found,) = [r["Properties"] for k, r in roles.items() if k.startswith(role)]
    (statement,) = found["AssumeRolePolicyDocument"]["Statement"]
    return statement


def test_only_the_deploy_and_operator_roles_trust_github_and_in_the_same_way(synthesized):
    template = _template(synthesized, "staging")
    federated = sorted(k for k, r in template.find_resources("AWS::IAM::Role").items()
                       if "Federated" in str(r["Properties"]["AssumeRolePolicyDocument"]))
    assert len(federated) == 2
    assert federated[0].startswith("CiDeployRole") and federated[1].startswith("CiOperatorRole")
    assert _trust(synthesized, "staging", "CiOperatorRole") == _trust(synthesized, "staging")


def _operator_statements(synthesized, env) -> dict[str, dict]:
    policies = _template(synthesized, env).find_resources("AWS::IAM::ManagedPolicy")
    (policy,) = [p for k, p in policies.items() if k.startswith("CiOperatorRole")]
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def test_operator_role_reads_for_drills_and_changes_only_the_tagged_service(synthesized):
    statements = _operator_statements(synthesized, "prod")
    actions = [a for s in statements.values() for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
    assert not [a for a in actions if a.startswith(("s3:", "ecr:", "kms:", "secretsmanager:", "sts:"))
                or a.endswith(":*")]
    assert not {"ecs:RegisterTaskDefinition", "iam:PassRole"} & set(actions)
    for sid, action in (("UpdateOnlyThisProjectsService", "ecs:UpdateService"),
                        ("PromoteOnlyThisProjectsReplica", "rds:PromoteReadReplica")):
        assert statements[sid]["Action"] == action
        assert statements[sid]["Condition"] == {"StringEquals": {"aws:ResourceTag/Project": "records"}}
    reads = statements["ReadForDrills"]["Action"]
    assert all(a.split(":")[1].startswith(("Describe", "Get", "List")) for a in reads)


def test_the_github_environment_variables_are_stack_outputs(synthesized):
    outputs = _template(synthesized, "dev").find_outputs("*")
    described = {o["Description"] for o in outputs.values()}
    assert described == {"GitHub environment variable AWS_DEPLOY_ROLE_ARN",
                         "GitHub environment variable AWS_OPERATOR_ROLE_ARN",
                         "GitHub environment variable EVIDENCE_BUCKET",
                         "GitHub environment variable EVIDENCE_SIGNING_SECRET"}


def test_the_immutable_subject_claim_carries_both_ids():
    assert subject("example-health", "records-platform", "prod", owner_id=123, repository_id=456) == (
        "repo:example-health@123/records-platform@456:environment:prod")
    assert subject("example-health", "records-platform", "prod") == (
        "repo:example-health/records-platform:environment:prod")


def _admits(statement: dict, claims: dict[str, str]) -> bool:
    """A small evaluator of the trust policy's condition operators (StringEquals / StringLike) for given claims."""
    for operator, conditions in statement["Condition"].items():
        for key, expected in conditions.items():
            values = expected if isinstance(expected, list) else [expected]
            claim = claims.get(key)
            if claim is None:
                return False
            if operator == "StringEquals" and claim not in values:
                return False
            if operator == "StringLike" and not any(fnmatchcase(claim, v) for v in values):
                return False
            if operator not in ("StringEquals", "StringLike"):
                raise AssertionError(f"unexpected operator {operator}")
    return True


def _claims(environment: str, repository: str = "example-health/records-platform") -> dict[str, str]:
    return {f"{ISSUER}:aud": "sts.amazonaws.com", f"{ISSUER}:sub": f"repo:{repository}:environment:{environment}"}


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_deploy_role_trusts_only_its_own_github_environment(synthesized, env):
    statement = _trust(synthesized, env)
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert "CiGithubOidc" in str(statement["Principal"]["Federated"])  # the provider of this template
    assert _admits(statement, _claims(env))
    for other in {"dev", "staging", "prod"} - {env}:
        assert not _admits(statement, _claims(other)), f"{env} role admits the {other} environment claim"
    assert not _admits(statement, _claims(env, repository="attacker/records-platform"))
    assert not _admits(statement, {f"{ISSUER}:sub": "repo:example-health/records-platform:ref:refs/heads/main",
                                   f"{ISSUER}:aud": "sts.amazonaws.com"})
    assert not _admits(statement, {**_claims(env), f"{ISSUER}:aud": "other"})


def test_staging_role_cannot_be_assumed_with_the_prod_claim(synthesized):
    assert not _admits(_trust(synthesized, "staging"), _claims("prod"))


def test_the_native_oidc_provider_trusts_github_for_sts(synthesized):
    provider = _one(_template(synthesized, "dev"), "AWS::IAM::OIDCProvider")
    assert provider["Url"] == f"https://{ISSUER}" and provider["ClientIdList"] == ["sts.amazonaws.com"]
    template = _template(synthesized, "dev")
    assert not template.find_resources("AWS::IAM::User") and not template.find_resources("AWS::IAM::AccessKey")


def _deploy_statements(synthesized, env) -> list[dict]:
    template = _template(synthesized, env)
    policies = template.find_resources("AWS::IAM::ManagedPolicy")
    (policy,) = [p for k, p in policies.items() if k.startswith("CiDeployRole")]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_deploy_role_may_write_evidence_but_never_delete_it(synthesized):
    statements = _deploy_statements(synthesized, "prod")
    allowed = [a for s in statements if s["Effect"] == "Allow"
               for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
    assert "s3:PutObject" in allowed
    assert not [a for a in allowed if a.startswith(("s3:Delete", "s3:PutObjectRetention", "s3:Bypass"))
                or a in ("s3:*", "*")]
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention",
            "s3:PutObjectRetention"} <= set(deny["Action"])
    assert "EvidenceVaultBucket" in str(deny["Resource"])


def test_deploy_role_assumes_only_the_cdk_bootstrap_roles_of_both_regions(synthesized):
    statements = {s.get("Sid"): s for s in _deploy_statements(synthesized, "staging")}
    assumed = statements["AssumeCdkBootstrapRoles"]["Resource"]
    assert len(assumed) == 8
    assert all(r.startswith("arn:aws:iam::222222222222:role/cdk-hnb659fds-") for r in assumed)
    assert {r[-9:] for r in assumed} == {"us-east-1", "us-east-2"}
    assert statements["PushServiceImage"]["Resource"] == (
        "arn:aws:ecr:us-east-1:222222222222:repository/records-service")


def test_deploy_role_reads_only_its_own_environments_signing_key(synthesized):
    statements = {s.get("Sid"): s for s in _deploy_statements(synthesized, "staging")}
    sign = statements["SignEvidence"]
    assert sign["Action"] == "secretsmanager:GetSecretValue"
    # Exactly this secret: "?" stands for the six characters Secrets Manager appends, never "*".
    assert sign["Resource"] == ("arn:aws:secretsmanager:us-east-1:222222222222:secret:"
                                "records/staging/evidence-signing-key-??????")
    outputs = _template(synthesized, "staging").find_outputs("EvidenceSigningSecret")
    assert [o["Value"] for o in outputs.values()] == ["records/staging/evidence-signing-key"]


def test_evidence_vault_is_object_locked_in_compliance_mode_versioned_encrypted_tls_only(synthesized, config):
    template = _template(synthesized, "prod")
    buckets = template.find_resources("AWS::S3::Bucket")
    (vault_id, vault), = [(k, b["Properties"]) for k, b in buckets.items() if k.startswith("EvidenceVault")]
    days = config.environments["prod"].operations.evidence_retention_days
    assert vault["ObjectLockEnabled"] is True
    assert vault["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": days}}}
    assert vault["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "KMSMasterKeyID" in str(vault["BucketEncryption"])
    assert vault["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    assert buckets[vault_id]["DeletionPolicy"] == "Retain"
    policies = [p["Properties"] for p in template.find_resources("AWS::S3::BucketPolicy").values()
                if p["Properties"]["Bucket"] == {"Ref": vault_id}]
    (policy,) = policies
    denies = {s.get("Sid"): s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"}
    tls = [s for s in denies.values() if s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}]
    assert tls and tls[0]["Action"] == "s3:*"
    nobody = denies["NobodyDeletesOrShortensEvidence"]
    assert nobody["Principal"] == {"AWS": "*"} and "Condition" not in nobody
    assert {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectRetention",
            "s3:BypassGovernanceRetention"} <= set(nobody["Action"])


def test_the_evidence_vault_has_the_name_the_bootstrap_policy_denies_changes_to(synthesized):
    buckets = _template(synthesized, "staging").find_resources("AWS::S3::Bucket")
    (vault,) = [b for k, b in buckets.items() if k.startswith("EvidenceVault")]
    assert vault["Properties"]["BucketName"] == "records-staging-evidence-222222222222"
    guide = (Path(__file__).resolve().parents[2] / "docs" / "deployment.md").read_text()
    assert '"Resource": "arn:aws:s3:::records-staging-evidence-222222222222"' in guide
