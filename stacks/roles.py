"""IAM roles whose permissions live in a customer-managed policy instead of CDK's inline DefaultPolicy.

HIPAA and NIST packs (IAMNoInlinePolicy) reject inline policies, and CDK grants write every permission
inline. A ``ManagedRole`` hands constructs an immutable view of the role, so their automatic grants add
nothing, and states each permission once, explicitly, in its managed policy.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_iam as iam
from constructs import Construct


class ManagedRole(Construct):
    """A role plus one customer-managed policy holding all of its permissions."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        assumed_by: iam.IPrincipal,
        statements: Sequence[iam.PolicyStatement],
        description: str,
    ) -> None:
        super().__init__(scope, id_)
        self.policy = iam.ManagedPolicy(self, "Policy", statements=list(statements), description=description)
        self.role = iam.Role(
            self, "Role", assumed_by=assumed_by, managed_policies=[self.policy], description=description
        )
        self.immutable = self.role.without_policy_updates()
