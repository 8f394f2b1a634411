"""Application secrets other than the database credentials, generated once in the primary region and replicated
to the secondary under that region's data key alias.

Consumers in both regions name a secret, never its ARN: CloudFormation dynamic references and the service resolve
the name locally, so the secondary keeps working, and keeps deploying, while us-east-1 is down.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import RemovalPolicy, SecretValue, Stack
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from typing_extensions import Unpack

from stacks.keys import imported_key
from stacks.stack_args import StackArgs

# Letters and digits only: valid as an ElastiCache AUTH token and as an HTTP header value.
GENERATED_LENGTH = 64


@dataclass(frozen=True, kw_only=True)
class GeneratedSecret:
    id_: str  # construct id
    name: str
    field: str  # the JSON key holding the generated value
    description: str

    def value(self) -> SecretValue:
        """A dynamic reference by name, resolved by CloudFormation in the consumer's region."""
        return SecretValue.secrets_manager(self.name, json_field=self.field)


@dataclass(frozen=True, kw_only=True)
class AppSecretsProps:
    secrets: Sequence[GeneratedSecret]
    data_key_arn: str
    replica_region: str
    replica_key_alias: str  # the replica region resolves its own alias; its key ARN is unknown here


class AppSecretsStack(Stack):
    def __init__(self, scope: Construct, id_: str, *, props: AppSecretsProps, **stack_args: Unpack[StackArgs]) -> None:
        super().__init__(scope, id_, **stack_args)
        key = imported_key(self, "DataKey", props.data_key_arn)
        self.secrets = {spec.name: self._secret(spec, key, props) for spec in props.secrets}

    def _secret(self, spec: GeneratedSecret, key: object, props: AppSecretsProps) -> secretsmanager.Secret:
        secret = secretsmanager.Secret(
            self,
            spec.id_,
            secret_name=spec.name,
            description=spec.description,
            encryption_key=key,  # type: ignore[arg-type]
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({}),
                generate_string_key=spec.field,
                exclude_punctuation=True,
                password_length=GENERATED_LENGTH,
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
        resource = secret.node.default_child
        assert isinstance(resource, secretsmanager.CfnSecret)
        # Set on the L1: the L2's replica option would render this region's key ARN for the other region.
        resource.replica_regions = [
            secretsmanager.CfnSecret.ReplicaRegionProperty(
                region=props.replica_region, kms_key_id=props.replica_key_alias
            )
        ]
        return secret
