"""Encryption at rest on every resource type that stores data (see ``aspects.stateful``)."""

from __future__ import annotations

import aws_cdk as cdk

from aspects.base import ValidatingAspect, resource_type
from aspects.stateful import STATEFUL_TYPES, encryption_gap


class EncryptionAtRest(ValidatingAspect):
    """Ensure every resource that stores data encrypts it at rest."""

    rule_id = "Guard-Encryption"
    resource_types = STATEFUL_TYPES

    def judge(self, node: cdk.CfnResource) -> str | None:
        gap = encryption_gap(node)
        return f"{resource_type(node)}: {gap}" if gap else None
