"""The guards every synthesis runs, applied by one call, ``guard``.

Mutating aspects (tags, retention of production data) run first; validating aspects then report each
non-compliant construct as an error, and the nag packs judge the result with the acknowledgment registry.
The app and the tests call the same function.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk

from aspects.base import GuardRules, ValidatingAspect
from aspects.containers import LeastPrivilegeContainers
from aspects.encryption import EncryptionAtRest
from aspects.ingress import NoPublicIngress
from aspects.nag import AppliedAcknowledgment, GuardError, apply_acknowledgments, register_packs
from aspects.removal import StatefulResourcesRetained, retain_stateful_resources
from aspects.retention import MinimumLogRetention
from aspects.tags import RequiredTags, apply_tags
from aspects.tls import ListenerTls
from policies.acknowledgments import Registry
from stacks.config import REGION_ROLE_TAG, REQUIRED_TAG_KEYS, AppConfig
from stacks.stage import EnvironmentStage

__all__ = ["GuardError", "GuardResult", "guard"]




@dataclass(frozen=True)
class GuardResult:
    acknowledgments: list[AppliedAcknowledgment]
    registry: Registry
    # Environment -> the validating rules that ran there: the evidence generator reports each as a pass
    # unless the validation report holds an error of that rule, since CDK lists failures only.
    rules: dict[str, tuple[str, ...]]
    project: str  # named in the synth gate's record, so the evidence reads nothing but what the gates wrote


def _guard_stage(stage: EnvironmentStage, config: AppConfig) -> tuple[str, ...]:
    env = stage.env_config
    apply_tags(stage, {**config.project.tags, "Environment": env.name})
    # On every resource, not as stack tags (those reach resources only at deploy time): policies that read one
    # resource at a time, such as the checkov checks in policies/checkov, learn the region's part from it.
    for stack, role in stage.region_roles.items():
        apply_tags(stack, {REGION_ROLE_TAG: role})
    rules: list[ValidatingAspect] = [
        RequiredTags(REQUIRED_TAG_KEYS),
        EncryptionAtRest(),
        MinimumLogRetention(config.project.log_retention_floor(env)),
        NoPublicIngress(),
        ListenerTls(),
        LeastPrivilegeContainers(),
    ]
    if env.production:
        retain_stateful_resources(stage)
        rules.append(StatefulResourcesRetained())
    GuardRules.attach(stage, rules)
    return tuple(rule.rule_id for rule in rules)


def guard(
    app: cdk.App,
    config: AppConfig,
    stages: Sequence[EnvironmentStage],
    *,
    registry: Registry,
    today: dt.date | None = None,
) -> GuardResult:
    """Apply every guard to ``stages`` and register the nag packs on ``app``.

    :raise GuardError: the acknowledgment registry cannot be applied (expired or unmatched entries).
    """
    rules = {stage.node.id: _guard_stage(stage, config) for stage in stages}
    register_packs(app)
    applied = apply_acknowledgments(
        stages, registry, today or dt.date.today(), known_environments=frozenset(config.environments)
    )
    return GuardResult(acknowledgments=applied, registry=registry, rules=rules, project=config.project.name)
