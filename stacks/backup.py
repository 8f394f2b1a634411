"""AWS Backup for the primary database: an encrypted vault and a daily plan with retention from config."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_backup as backup
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class BackupProps:
    vault_name: str
    retention_days: int


class DatabaseBackup(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, props: BackupProps, instance: rds.IDatabaseInstance, key: kms.IKey
    ) -> None:
        super().__init__(scope, id_)
        self.vault = backup.BackupVault(
            self,
            "Vault",
            backup_vault_name=props.vault_name,
            encryption_key=key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.plan = backup.BackupPlan(self, "Plan", backup_vault=self.vault)
        self.plan.add_rule(
            backup.BackupPlanRule(
                rule_name="daily",
                schedule_expression=events.Schedule.cron(hour="5", minute="0"),
                delete_after=Duration.days(props.retention_days),
                enable_continuous_backup=True,
            )
        )
        self.plan.add_selection("Database", resources=[backup.BackupResource.from_rds_database_instance(instance)])
