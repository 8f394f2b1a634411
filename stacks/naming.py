"""Every name that something outside a stack looks up: physical names (stacks, secrets, the database, topics) and
the construct ids whose logical ids ops tools search for. No CDK import, so ``ops/`` and ``gates/`` use the very
same functions the stacks name things with: renaming here renames both sides."""

from __future__ import annotations

import re
from dataclasses import dataclass

GLOBAL = "global"
ORIGIN_SECRET_SLOTS = ("a", "b")
SERVICE_CONTAINER = "web"  # the app container of the service's task definition
# The service's two target groups, by construct id; ECS-native blue/green swaps traffic between them.
TARGET_GROUPS = {"blue": "Blue", "green": "Green"}
# The AWS Config rules the compliance stack adds beside the conformance packs (stacks/compliance.py).
ROTATION_RULE, DRIFT_RULE = "secret-rotation-overdue", "stack-drift"
# The one resource type each of them evaluates (its scope; the collector proves "nothing to evaluate" by it).
OWN_RULE_SCOPES = {ROTATION_RULE: "AWS::SecretsManager::Secret", DRIFT_RULE: "AWS::CloudFormation::Stack"}


def health_check_id(region: str) -> str:
    """The construct id of the edge stack's Route 53 health check for ``region``."""
    return f"Health-{region}"


def logical_id_hint(construct_id: str) -> str:
    """What a construct id leaves in its CloudFormation logical id: CDK keeps letters and digits only."""
    return re.sub(r"[^A-Za-z0-9]", "", construct_id)


@dataclass(frozen=True, kw_only=True)
class Naming:
    """Physical names of one environment, derived in one place because other regions and ops tools look them
    up by name. ``short`` is a region's short name (``use1``)."""

    project: str
    env: str

    @property
    def base(self) -> str:
        return f"{self.project}-{self.env}"

    def prefix(self, short: str) -> str:
        return f"{self.base}-{short}"

    def stack_name(self, unit: str, short: str | None) -> str:
        """``short`` None: a global stack (it still deploys to the primary region)."""
        return f"{self.base}-{unit.lower()}-{short or GLOBAL}"

    @property
    def secret_name(self) -> str:
        return f"{self.project}/{self.env}/db"

    @property
    def cache_secret_name(self) -> str:
        return f"{self.project}/{self.env}/cache"

    @property
    def evidence_signing_secret_name(self) -> str:
        """The Ed25519 key that signs evidence bundles; created by hand, never by a template (docs/deployment.md)."""
        return f"{self.project}/{self.env}/evidence-signing-key"

    def origin_secret_name(self, slot: str) -> str:
        return f"{self.project}/{self.env}/origin-{slot}"

    def alerts_topic_name(self, short: str) -> str:
        return f"{self.prefix(short)}-alerts"

    def db_instance_id(self, short: str) -> str:
        return self.prefix(short)

    def db_instance_arn(self, region: str, short: str, account: str) -> str:
        return f"arn:aws:rds:{region}:{account}:db:{self.db_instance_id(short)}"

    def conformance_pack_name(self, short: str, pack: str) -> str:
        return f"{self.prefix(short)}-{pack}"

    def config_rule_name(self, short: str, rule: str) -> str:
        return f"{self.prefix(short)}-{rule}"
