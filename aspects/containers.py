"""ECS containers run least-privileged: a non-root user, a read-only root filesystem, never privileged and no added
Linux capabilities, a hard memory limit, and a health check on every container the task depends on or that takes
traffic.

None of the three nag packs and none of checkov's CloudFormation checks look at container definitions, so without
this rule a root, writable or privileged container passes every gate. ``policies/checkov`` holds the same rule
for templates (CKV_RECORDS_ECS_2), which also catches a template edited after synthesis.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ecs as ecs

from aspects.base import Unresolvable, ValidatingAspect, resolved

ROOT_NAME = "root"
# Properties a container's least privilege rests on: a token there cannot be judged.
JUDGED_KEYS = ("user", "readonlyRootFilesystem", "privileged", "memory", "essential", "healthCheck", "linuxParameters")


def root_user(user: object) -> bool:
    """Whether a container ``User`` (``uid``, ``uid:gid``, ``name`` or ``name:group``) runs as root. A numeric user
    is read as a number, as the container runtime reads it: ``00`` and ``+0`` are uid 0 too."""
    name = str(user).split(":", 1)[0].strip()
    if name.lstrip("+-").isdigit():
        return int(name) == 0
    return name == ROOT_NAME


def _intrinsic(value: object) -> bool:
    return isinstance(value, Mapping) and any(key == "Ref" or str(key).startswith("Fn::") for key in value)


def container_problems(container: Mapping[str, Any]) -> list[str]:
    """What a container definition (the template's camelCase keys, as CDK resolves them) lacks."""
    problems = []
    user = container.get("user")
    if user is None or str(user).strip() == "":
        problems.append("sets no user, so it runs as the image's default (often root)")
    elif root_user(user):
        problems.append(f"runs as root (user {user!r})")
    if container.get("readonlyRootFilesystem") is not True:
        problems.append("has a writable root filesystem (set readonlyRootFilesystem)")
    if container.get("privileged") is True:
        problems.append("is privileged")
    added = ((container.get("linuxParameters") or {}).get("capabilities") or {}).get("add")
    if added:
        problems.append(f"adds Linux capabilities {list(added)}")
    if not container.get("memory"):
        problems.append("has no hard memory limit (memory)")
    takes_traffic = bool(container.get("portMappings"))
    if (container.get("essential", True) or takes_traffic) and not (container.get("healthCheck") or {}).get("command"):
        problems.append("has no container health check, and the task depends on it")
    return problems


class LeastPrivilegeContainers(ValidatingAspect):
    """Ensure every container of every ECS task definition runs as a non-root user with a read-only root
    filesystem, unprivileged, under a hard memory limit, and with a health check where the task depends on it."""

    rule_id = "Guard-Containers"
    resource_types = frozenset({"AWS::ECS::TaskDefinition"})

    def judge(self, node: cdk.CfnResource) -> str | None:
        if not isinstance(node, ecs.CfnTaskDefinition):
            return None
        containers = resolved(node, node.container_definitions)
        if not isinstance(containers, list):
            raise Unresolvable(f"container definitions {containers!r}")
        if not containers:
            return "defines no containers"
        found = []
        for container in containers:
            if not isinstance(container, Mapping) or _intrinsic(container):
                raise Unresolvable(f"container definition {container!r}")
            for key in JUDGED_KEYS:
                if _intrinsic(container.get(key)):
                    raise Unresolvable(f"{key} {container[key]!r} of container {container.get('name', '?')!r}")
            name = container.get("name", "?")
            found += [f"container {name!r} {problem}" for problem in container_problems(container)]
        return "; ".join(found) or None
