"""The alerts topic of one region: every alarm, event rule and budget of the region notifies it.

It has a stack of its own, deployed right after the keys, so the service, observability and edge stacks can all
publish to it without one of them owning it (the observability stack reads the service's metrics, so the topic
in either would tie them into a cycle). Consumers get ``topic_arn``, spelled from the topic's name rather than a
reference: event rules need a resolvable region and account, and a reference would give them a token.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct
from typing_extensions import Unpack

from stacks.keys import TOPIC_PUBLISHERS, imported_key
from stacks.stack_args import StackArgs


@dataclass(frozen=True, kw_only=True)
class AlertsProps:
    topic_name: str
    telemetry_key_arn: str
    emails: Sequence[str] = ()


class AlertsStack(Stack):
    def __init__(self, scope: Construct, id_: str, *, props: AlertsProps, **stack_args: Unpack[StackArgs]) -> None:
        super().__init__(scope, id_, **stack_args)
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=props.topic_name,
            display_name=props.topic_name,
            master_key=imported_key(self, "TelemetryKey", props.telemetry_key_arn),
            enforce_ssl=True,
        )
        self.topic_arn = f"arn:aws:sns:{self.region}:{self.account}:{props.topic_name}"
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AwsServicesOfThisAccountPublish",
                principals=[iam.ServicePrincipal(service) for service in TOPIC_PUBLISHERS],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            )
        )
        for email in props.emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
