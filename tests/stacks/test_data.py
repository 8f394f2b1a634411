from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from stacks.backup_plan import BackupPlanProps
from stacks.data import DataProps
from stacks.database import PROXY_PORT, ReplicaDatabaseProps
from stacks.keys import KeyArns


def _instance(synthesized, env, role):
    instances = synthesized.template(env, role, "data").find_resources("AWS::RDS::DBInstance")
    (resource,) = instances.values()
    return resource


def test_primary_is_multi_az_encrypted_private_and_tls_only(synthesized):
    template = synthesized.template("prod", "primary", "data")
    template.has_resource_properties(
        "AWS::RDS::DBInstance",
        {
            "Engine": "postgres",
            "EngineVersion": Match.string_like_regexp(r"^17\."),
            "DBInstanceIdentifier": "records-prod-use1",
            "MultiAZ": True,
            "StorageEncrypted": True,
            "KmsKeyId": Match.any_value(),
            "PubliclyAccessible": False,
            "EnableIAMDatabaseAuthentication": True,
            "DeletionProtection": True,
            "Port": "5433",
            "MonitoringInterval": 60,
            "EnablePerformanceInsights": True,
            "PerformanceInsightsKMSKeyId": Match.any_value(),
            "EnableCloudwatchLogsExports": ["postgresql", "upgrade"],
            "BackupRetentionPeriod": 35,
        },
    )
    template.has_resource_properties(
        "AWS::RDS::DBParameterGroup", {"Parameters": Match.object_like({"rds.force_ssl": "1"})}
    )


def test_primary_is_retained_in_prod_and_snapshotted_elsewhere(synthesized):
    assert _instance(synthesized, "prod", "primary")["DeletionPolicy"] == "Retain"
    assert _instance(synthesized, "dev", "primary")["DeletionPolicy"] == "Snapshot"


def test_credentials_come_from_a_rotated_kms_encrypted_secret_replicated_to_the_secondary(synthesized):
    template = synthesized.template("staging", "primary", "data")
    template.has_resource_properties(
        "AWS::SecretsManager::Secret",
        {
            "Name": "records/staging/db",
            "KmsKeyId": Match.any_value(),
            "ReplicaRegions": [{"Region": "us-east-2", "KmsKeyId": "alias/records-staging-data"}],
        },
    )
    template.has_resource_properties(
        "AWS::SecretsManager::RotationSchedule",
        {
            "HostedRotationLambda": Match.object_like({"RotationType": "PostgreSQLSingleUser"}),
            "RotationRules": {"ScheduleExpression": "rate(30 days)"},
        },
    )
    instance = _instance(synthesized, "staging", "primary")
    assert "MasterUserPassword" in instance["Properties"]
    assert "resolve:secretsmanager" in str(instance["Properties"]["MasterUserPassword"])


def test_no_helper_lambda_in_the_data_stack(synthesized):
    synthesized.template("prod", "primary", "data").resource_count_is("AWS::Lambda::Function", 0)


def test_proxy_pools_connections_over_tls_from_the_app_tier_only(synthesized):
    template = synthesized.template("dev", "primary", "data")
    # Password login (from the rotated secret) over TLS: the service cannot present IAM tokens.
    template.has_resource_properties(
        "AWS::RDS::DBProxy",
        {"EngineFamily": "POSTGRESQL", "RequireTLS": True, "DBProxyName": "records-dev-use1",
         "Auth": [Match.object_like({"AuthScheme": "SECRETS", "IAMAuth": "DISABLED"})]},
    )
    app_cidrs = synthesized.stacks("dev", "primary").network.app_cidrs
    peer_app_cidrs = synthesized.stacks("dev", "secondary").network.app_cidrs
    proxy_groups = template.find_resources(
        "AWS::EC2::SecurityGroup", {"Properties": {"GroupDescription": "RDS Proxy: PostgreSQL from the app tier"}}
    )
    (group,) = proxy_groups.values()
    rules = group["Properties"]["SecurityGroupIngress"]
    # This region's app tier, and the peer region's app tier over peering; nothing wider, nothing public.
    assert sorted(r["CidrIp"] for r in rules) == sorted(app_cidrs + peer_app_cidrs)
    assert all(r["CidrIp"].startswith(("10.10.", "10.11.")) and r["CidrIp"].endswith("/22") for r in rules)
    assert {(r["FromPort"], r["ToPort"]) for r in rules} == {(PROXY_PORT, PROXY_PORT)}


def test_replica_admits_both_regions_app_tiers_on_its_port_only(synthesized):
    template = synthesized.template("prod", "secondary", "data")
    (group,) = template.find_resources(
        "AWS::EC2::SecurityGroup", {"Properties": {"GroupDescription": "PostgreSQL replica: app tier only"}}
    ).values()
    rules = group["Properties"]["SecurityGroupIngress"]
    expected = synthesized.stacks("prod", "secondary").network.app_cidrs + synthesized.stacks(
        "prod", "primary"
    ).network.app_cidrs
    assert sorted(r["CidrIp"] for r in rules) == sorted(expected)
    assert {(r["FromPort"], r["ToPort"]) for r in rules} == {(5433, 5433)}


def test_database_admits_only_proxy_and_rotation_on_its_port(synthesized):
    template = synthesized.template("dev", "primary", "data")
    ingress = template.find_resources("AWS::EC2::SecurityGroupIngress")
    assert len(ingress) == 2
    for rule in ingress.values():
        assert rule["Properties"]["FromPort"] == 5433
        assert "SourceSecurityGroupId" in rule["Properties"]
        assert "CidrIp" not in rule["Properties"]


@pytest.mark.parametrize("env, account", [("dev", "111111111111"), ("prod", "333333333333")])
def test_replica_source_is_the_primary_instance_arn_from_config(synthesized, env, account):
    synthesized.template(env, "secondary", "data").has_resource_properties(
        "AWS::RDS::DBInstance",
        {
            "SourceDBInstanceIdentifier": f"arn:aws:rds:us-east-1:{account}:db:records-{env}-use1",
            "DBInstanceIdentifier": f"records-{env}-use2",
            "KmsKeyId": Match.any_value(),
            "StorageEncrypted": Match.absent(),
            "StorageType": "gp3",
            "MultiAZ": True,
            "Port": "5433",
        },
    )


def _stack_outputs_read(node: object) -> list[dict]:
    if isinstance(node, dict):
        found = [node["Fn::GetStackOutput"]] if "Fn::GetStackOutput" in node else []
        return found + [o for value in node.values() for o in _stack_outputs_read(value)]
    if isinstance(node, list):
        return [o for item in node for o in _stack_outputs_read(item)]
    return []


@pytest.mark.parametrize("unit", ["data", "backup", "cache", "certificate", "service"])
def test_secondary_reads_no_output_from_the_primary_region(synthesized, unit):
    # Derived names, not cross-region references: the secondary must deploy (scale out, roll back, promote)
    # while the primary region is down. Only the certificate reads the zone id from us-east-1.
    reads = _stack_outputs_read(synthesized.template("dev", "secondary", unit).to_json())
    assert reads, "expected same-region weak references to the keys and network stacks"
    expected = {"us-east-1"} if unit == "certificate" else {"us-east-2"}
    assert {read["Region"] for read in reads} == expected


def test_secondary_data_deploys_after_the_primary_database(synthesized):
    stage = synthesized.stages["prod"]
    assert stage.primary.data in stage.secondary.data.dependencies
    assert stage.secondary.keys in stage.primary.data.dependencies


def test_primary_database_is_in_a_daily_backup_plan_with_configured_retention(synthesized):
    template = synthesized.template("prod", "primary", "data")
    template.has_resource_properties(
        "AWS::Backup::BackupPlan",
        {
            "BackupPlan": {
                "BackupPlanRule": [
                    Match.object_like({"Lifecycle": {"DeleteAfterDays": 35}, "TargetBackupVault": "records-prod-use1"})
                ],
                "BackupPlanName": Match.any_value(),
            }
        },
    )
    (selection,) = template.find_resources("AWS::Backup::BackupSelection").values()
    (instance_id,) = template.find_resources("AWS::RDS::DBInstance")
    resources = selection["Properties"]["BackupSelection"]["Resources"]
    assert instance_id in str(resources)
    (plan,) = template.find_resources("AWS::Backup::BackupPlan").values()
    assert plan["Properties"]["BackupPlan"]["BackupPlanRule"][0]["ScheduleExpression"] == "cron(0 5 * * ? *)"


def test_data_props_need_exactly_one_role():
    keys = KeyArns(data="arn:k", telemetry="arn:t")
    with pytest.raises(ValueError, match="exactly one of primary or replica"):
        DataProps(keys=keys)


def test_only_the_primary_has_a_backup_plan():
    plan = BackupPlanProps(vault_arn="arn:v", retention_days=7, copy_vault_arn="arn:c", copy_retention_days=7)
    replica = ReplicaDatabaseProps(
        vpc=None, client_cidrs=[], instance_identifier="r", instance_class="t4g.medium", port=5433,  # type: ignore[arg-type]
        deletion_protection=True, log_retention_days=90, source_instance_arn="arn:aws:rds:us-east-1:1:db:p",
    )
    with pytest.raises(ValueError, match="only it, has a backup plan"):
        DataProps(replica=replica, backup=plan, keys=KeyArns(data="arn:k", telemetry="arn:t"))
