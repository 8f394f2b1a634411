"""Log groups keep events at least as long as the environment's floor."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_logs as logs

from aspects.base import Unresolvable, ValidatingAspect, resolved


class MinimumLogRetention(ValidatingAspect):
    """Ensure every log group states a retention of at least ``minimum_days``."""

    rule_id = "Guard-LogRetention"
    resource_types = frozenset({"AWS::Logs::LogGroup"})

    def __init__(self, minimum_days: int) -> None:
        self.minimum_days = minimum_days

    def judge(self, node: cdk.CfnResource) -> str | None:
        if not isinstance(node, logs.CfnLogGroup):
            return None
        days = resolved(node, node.retention_in_days)
        if days is None:
            return f"log group has no retention; set at least {self.minimum_days} days"
        if not isinstance(days, int):
            raise Unresolvable(f"retention {days!r}")
        if days < self.minimum_days:
            return f"log group keeps {days} days; the floor here is {self.minimum_days}"
        return None
