"""CKV_RECORDS_ECR_2: the secondary region can only start the service from images it already holds, so
every registry replication rule must send images to at least one literal destination region (a rule without
repository filters replicates every repository, which also does)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from _support import properties
from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult


class RegistryReplicatesToAnotherRegion(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure ECR replication rules copy images to a named destination region",
            id="CKV_RECORDS_ECR_2",
            categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["AWS::ECR::ReplicationConfiguration"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["Properties/ReplicationConfiguration/Rules"]
        configuration = properties(conf).get("ReplicationConfiguration")
        rules = configuration.get("Rules") if isinstance(configuration, Mapping) else None
        if not isinstance(rules, list) or not rules:
            return CheckResult.FAILED
        for rule in rules:
            destinations = rule.get("Destinations") if isinstance(rule, Mapping) else None
            if not isinstance(destinations, list) or not destinations:
                return CheckResult.FAILED
            if not all(isinstance(d, Mapping) and isinstance(d.get("Region"), str) for d in destinations):
                return CheckResult.FAILED
        return CheckResult.PASSED


check = RegistryReplicatesToAnotherRegion()
