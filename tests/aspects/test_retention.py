from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs

from aspects.base import ValidatingAspect
from aspects.retention import MinimumLogRetention

judge = MinimumLogRetention(365).judge


@pytest.mark.parametrize("days, ok", [(365, True), (731, True), (90, False)])
def test_retention_floor(stack, days, ok):
    assert (judge(logs.CfnLogGroup(stack, "L", retention_in_days=days)) is None) is ok


def test_unset_retention_is_a_finding(stack):
    assert judge(logs.CfnLogGroup(stack, "L")) == "log group has no retention; set at least 365 days"


def test_token_retention_is_reported_not_passed(stack):
    param = cdk.CfnParameter(stack, "Days", type="Number")
    group = logs.CfnLogGroup(stack, "L", retention_in_days=param.value_as_number)
    MinimumLogRetention(365).visit(group)
    errors = [e.data for e in group.node.metadata if e.type == "aws:cdk:error"]
    assert errors and "cannot judge" in errors[0]


def test_base_aspect_ignores_non_resources(stack):
    class Always(ValidatingAspect):
        def judge(self, node):
            return "always"

    Always().visit(stack)
    assert not [e for e in stack.node.metadata if e.type == "aws:cdk:error"]


def test_guard_rules_run_each_rule_only_on_its_types(stack):
    from aws_cdk import aws_s3 as s3

    from aspects.base import GuardRules
    from aspects.encryption import EncryptionAtRest

    group = logs.CfnLogGroup(stack, "Short", retention_in_days=1)
    bucket = s3.CfnBucket(stack, "Plain")
    rules = GuardRules([MinimumLogRetention(365), EncryptionAtRest()])
    for node in (group, bucket):
        rules.judge(node)
    errors = {n.node.id: [e.data for e in n.node.metadata if e.type == "aws:cdk:error"] for n in (group, bucket)}
    assert [e.split("]")[0] for e in errors["Short"]] == ["[Guard-LogRetention", "[Guard-Encryption"]
    assert [e.split("]")[0] for e in errors["Plain"]] == ["[Guard-Encryption"]
