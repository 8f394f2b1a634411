"""CKV_RECORDS_ECS_1: a bad build must not reach every user. ECS-native blue/green, canary or linear
deployments keep the old revision serving until the bake time ends, and the deployment alarms roll back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from _support import properties
from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult

GRADUAL_STRATEGIES = {"BLUE_GREEN", "CANARY", "LINEAR"}


class EcsServiceShiftsTrafficWithAlarmRollback(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure ECS services deploy blue/green, canary or linear with a bake time and alarm rollback",
            id="CKV_RECORDS_ECS_1",
            categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["AWS::ECS::Service"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        props = properties(conf)
        controller = props.get("DeploymentController") or {}
        # CODE_DEPLOY or EXTERNAL hand traffic shifting to something this check cannot see.
        if isinstance(controller, Mapping) and controller.get("Type", "ECS") != "ECS":
            self.evaluated_keys = ["Properties/DeploymentController/Type"]
            return CheckResult.FAILED
        deployment = props.get("DeploymentConfiguration")
        self.evaluated_keys = ["Properties/DeploymentConfiguration"]
        if not isinstance(deployment, Mapping):
            return CheckResult.FAILED
        strategy = deployment.get("Strategy")
        if not isinstance(strategy, str) or strategy not in GRADUAL_STRATEGIES:
            return CheckResult.FAILED
        bake = deployment.get("BakeTimeInMinutes")
        if not isinstance(bake, int) or bake < 1:
            return CheckResult.FAILED
        alarms = deployment.get("Alarms")
        if not isinstance(alarms, Mapping) or alarms.get("Enable") is not True or alarms.get("Rollback") is not True:
            return CheckResult.FAILED
        return CheckResult.PASSED if alarms.get("AlarmNames") else CheckResult.FAILED


check = EcsServiceShiftsTrafficWithAlarmRollback()
