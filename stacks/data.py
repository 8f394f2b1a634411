"""The regional data stack: the primary database (with its proxy and backup plan) or its cross-region replica."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Stack
from constructs import Construct
from typing_extensions import Unpack

from stacks.backup_plan import BackupPlanProps, DatabaseBackupPlan
from stacks.database import PrimaryDatabase, PrimaryDatabaseProps, ReplicaDatabase, ReplicaDatabaseProps
from stacks.keys import KeyArns, KeyRefs
from stacks.stack_args import StackArgs


@dataclass(frozen=True, kw_only=True)
class DataProps:
    primary: PrimaryDatabaseProps | None = None
    replica: ReplicaDatabaseProps | None = None
    backup: BackupPlanProps | None = None
    keys: KeyArns

    def __post_init__(self) -> None:
        if (self.primary is None) == (self.replica is None):
            raise ValueError("DataProps needs exactly one of primary or replica")
        if (self.primary is None) != (self.backup is None):
            raise ValueError("the primary database, and only it, has a backup plan")


class DataStack(Stack):
    """Exposes ``endpoint`` and ``endpoint_port``: where the service in this region connects."""

    def __init__(self, scope: Construct, id_: str, *, props: DataProps, **stack_args: Unpack[StackArgs]) -> None:
        super().__init__(scope, id_, **stack_args)
        keys = KeyRefs.imported(self, props.keys)
        database: PrimaryDatabase | ReplicaDatabase
        if props.primary is not None and props.backup is not None:
            database = PrimaryDatabase(self, "Database", props=props.primary, keys=keys)
            self.backup = DatabaseBackupPlan(self, "Backup", props=props.backup, instance=database.instance)
        else:
            assert props.replica is not None
            database = ReplicaDatabase(self, "Database", props=props.replica, keys=keys)
        self.database = database
        self.endpoint = database.endpoint
        self.endpoint_port = database.endpoint_port
