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
