"""The database's daily AWS Backup plan: recovery points in this region's vault, copies in the other region's."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_backup as backup
from aws_cdk import aws_events as events
from aws_cdk import aws_rds as rds
from constructs import Construct

SCHEDULE = events.Schedule.cron(hour="5", minute="0")  # UTC: after the nightly batch, before US business hours


@dataclass(frozen=True, kw_only=True)
class BackupPlanProps:
    vault_arn: str
    retention_days: int
    copy_vault_arn: str  # in the other region, named by configuration
    copy_retention_days: int


class DatabaseBackupPlan(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, props: BackupPlanProps, instance: rds.IDatabaseInstance
    ) -> None:
        super().__init__(scope, id_)
        self.plan = backup.BackupPlan(
            self, "Plan", backup_vault=backup.BackupVault.from_backup_vault_arn(self, "Vault", props.vault_arn)
        )
        self.plan.add_rule(
            backup.BackupPlanRule(
                rule_name="daily",
                schedule_expression=SCHEDULE,
                delete_after=Duration.days(props.retention_days),
                copy_actions=[
                    backup.BackupPlanCopyActionProps(
                        destination_backup_vault=backup.BackupVault.from_backup_vault_arn(
                            self, "CopyVault", props.copy_vault_arn
                        ),
                        delete_after=Duration.days(props.copy_retention_days),
                    )
                ],
            )
        )
        self.plan.add_selection("Database", resources=[backup.BackupResource.from_rds_database_instance(instance)])
