"""The container registry of one region; the primary's also replicates images to the secondary.

Both regions get a real repository (not one auto-created by replication with default settings), so scanning,
immutability, encryption and lifecycle hold where the secondary service pulls from.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ecr as ecr
from constructs import Construct
from typing_extensions import Unpack

from stacks.keys import imported_key
from stacks.stack_args import StackArgs


@dataclass(frozen=True, kw_only=True)
class RegistryProps:
    repository_name: str
    keep_last_images: int
    data_key_arn: str
    replicate_to_region: str | None  # set in the primary region only: the registry allows one configuration


class RegistryStack(Stack):
    def __init__(self, scope: Construct, id_: str, *, props: RegistryProps, **stack_args: Unpack[StackArgs]) -> None:
        super().__init__(scope, id_, **stack_args)
        self.repository = ecr.Repository(
            self,
            "Repository",
            repository_name=props.repository_name,
            image_scan_on_push=True,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            encryption=ecr.RepositoryEncryption.KMS,
            encryption_key=imported_key(self, "DataKey", props.data_key_arn),
            lifecycle_rules=[
                ecr.LifecycleRule(
                    description=f"keep the last {props.keep_last_images} images",
                    max_image_count=props.keep_last_images,
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        if props.replicate_to_region:
            ecr.CfnReplicationConfiguration(
                self,
                "Replication",
                replication_configuration=ecr.CfnReplicationConfiguration.ReplicationConfigurationProperty(
                    rules=[
                        ecr.CfnReplicationConfiguration.ReplicationRuleProperty(
                            destinations=[
                                ecr.CfnReplicationConfiguration.ReplicationDestinationProperty(
                                    region=props.replicate_to_region, registry_id=self.account
                                )
                            ],
                            repository_filters=[
                                ecr.CfnReplicationConfiguration.RepositoryFilterProperty(
                                    filter=props.repository_name, filter_type="PREFIX_MATCH"
                                )
                            ],
                        )
                    ]
                ),
            )
