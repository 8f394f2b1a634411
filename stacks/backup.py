"""An AWS Backup vault of one region, compliance-locked in production.

The primary region's vault receives the database's daily recovery points (``stacks.backup_plan``); the secondary
region's receives their copies. The vaults have stacks of their own so the copy destination exists before the
primary data stack's plan names it, without tying the two data stacks into a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_backup as backup
from constructs import Construct
from typing_extensions import Unpack

from stacks.keys import imported_key
from stacks.stack_args import StackArgs


@dataclass(frozen=True, kw_only=True)
class BackupVaultProps:
    vault_name: str
    data_key_arn: str
    min_retention_days: int  # the lock's minimum (config validates that every retention stored here meets it)
    vault_lock: bool
    vault_lock_grace_days: int


def vault_arn(region: str, account: str, vault_name: str) -> str:
    return f"arn:aws:backup:{region}:{account}:backup-vault:{vault_name}"


class BackupVaultStack(Stack):
    def __init__(self, scope: Construct, id_: str, *, props: BackupVaultProps, **stack_args: Unpack[StackArgs]) -> None:
        super().__init__(scope, id_, **stack_args)
        lock = (
            backup.LockConfiguration(
                min_retention=Duration.days(props.min_retention_days),
                changeable_for=Duration.days(props.vault_lock_grace_days),
            )
            if props.vault_lock
            else None
        )
        self.vault = backup.BackupVault(
            self,
            "Vault",
            backup_vault_name=props.vault_name,
            encryption_key=imported_key(self, "DataKey", props.data_key_arn),
            lock_configuration=lock,
            # Unlocked vaults (non-production) still refuse to delete recovery points through their policy.
            block_recovery_point_deletion=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
