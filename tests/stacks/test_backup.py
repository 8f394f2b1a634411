"""AWS Backup: encrypted vaults in both regions (locked in production) and a copy of every recovery point."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match


def _vault(synthesized, env, role) -> dict:
    (vault,) = synthesized.template(env, role, "backup").find_resources("AWS::Backup::BackupVault").values()
    return vault["Properties"]


@pytest.mark.parametrize("role, name", [("primary", "records-prod-use1"), ("secondary", "records-prod-use2")])
def test_production_vaults_are_encrypted_and_compliance_locked(synthesized, config, role, name):
    vault = _vault(synthesized, "prod", role)
    assert vault["BackupVaultName"] == name and "EncryptionKeyArn" in vault
    # The lock's own configured minimum, which every retention stored there meets (config validates it).
    backup = config.environments["prod"].backup
    assert vault["LockConfiguration"] == {"MinRetentionDays": backup.vault_lock_min_retention_days,
                                          "ChangeableForDays": 3}
    assert min(backup.retention_days, backup.copy_retention_days) >= backup.vault_lock_min_retention_days


def test_non_production_vaults_are_unlocked_but_refuse_deletion(synthesized):
    vault = _vault(synthesized, "dev", "secondary")
    assert "LockConfiguration" not in vault
    (statement,) = vault["AccessPolicy"]["Statement"]
    assert statement["Effect"] == "Deny" and "backup:DeleteRecoveryPoint" in statement["Action"]


@pytest.mark.parametrize("env, account, days, copy_days", [("dev", "111111111111", 7, 7),
                                                           ("prod", "333333333333", 35, 90)])
def test_daily_recovery_points_are_copied_to_the_secondary_vault(synthesized, env, account, days, copy_days):
    (plan,) = synthesized.template(env, "primary", "data").find_resources("AWS::Backup::BackupPlan").values()
    (rule,) = plan["Properties"]["BackupPlan"]["BackupPlanRule"]
    assert rule["ScheduleExpression"] == "cron(0 5 * * ? *)"
    assert rule["TargetBackupVault"] == f"records-{env}-use1"
    assert rule["Lifecycle"] == {"DeleteAfterDays": days}
    assert rule["CopyActions"] == [
        {"DestinationBackupVaultArn": f"arn:aws:backup:us-east-2:{account}:backup-vault:records-{env}-use2",
         "Lifecycle": {"DeleteAfterDays": copy_days}}
    ]


def test_vaults_deploy_before_the_plan_that_uses_them(synthesized):
    stage = synthesized.stages["staging"]
    assert {stage.primary.backup, stage.secondary.backup} <= set(stage.primary.data.dependencies)
    synthesized.template("staging", "secondary", "data").resource_count_is("AWS::Backup::BackupPlan", 0)
    synthesized.template("staging", "primary", "data").has_resource_properties(
        "AWS::Backup::BackupSelection", {"BackupSelection": Match.object_like({"Resources": Match.any_value()})}
    )
