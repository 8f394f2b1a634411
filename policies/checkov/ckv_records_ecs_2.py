"""CKV_RECORDS_ECS_2: every container of a task definition runs least-privileged: a user that is not root, a
read-only root filesystem, not privileged and no added Linux capabilities, a hard memory limit, and a health check
where the task depends on it.

The same rule as the Guard-Containers aspect, written again over the template (checkov loads these files in its
own virtualenv, where the aspects cannot be imported): the aspect judges constructs before synthesis ends, this
check judges the file the later gates and the deployment read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from _support import properties
from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult

ROOT_NAME = "root"


def _root(user: str) -> bool:
    """By uid as the container runtime reads a number (``00`` is uid 0 too), or by name."""
    name = user.split(":", 1)[0].strip()
    return int(name) == 0 if name.lstrip("+-").isdigit() else name == ROOT_NAME


def _least_privileged(container: Mapping[str, Any]) -> bool:
    user = container.get("User")
    if not isinstance(user, str) or not user.strip() or _root(user):
        return False
    if container.get("ReadonlyRootFilesystem") is not True or container.get("Privileged") not in (None, False):
        return False
    linux = container.get("LinuxParameters") or {}
    if not isinstance(linux, Mapping) or (linux.get("Capabilities") or {}).get("Add"):
        return False
    memory = container.get("Memory")
    if not isinstance(memory, int) or isinstance(memory, bool) or memory < 1:
        return False
    depended_on = container.get("Essential", True) is not False or bool(container.get("PortMappings"))
    health = container.get("HealthCheck")
    return not depended_on or (isinstance(health, Mapping) and bool(health.get("Command")))


class ContainersRunLeastPrivileged(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure ECS containers run as non-root, read-only, unprivileged, memory-limited and health-checked",
            id="CKV_RECORDS_ECS_2",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["AWS::ECS::TaskDefinition"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        containers = properties(conf).get("ContainerDefinitions")
        self.evaluated_keys = ["Properties/ContainerDefinitions"]
        if not isinstance(containers, list) or not containers:
            return CheckResult.FAILED
        if all(isinstance(c, Mapping) and _least_privileged(c) for c in containers):
            return CheckResult.PASSED
        return CheckResult.FAILED


check = ContainersRunLeastPrivileged()
