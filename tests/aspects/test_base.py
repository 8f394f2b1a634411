"""GuardRules: every resource of a stage judged once, after the mutating aspects, and nothing left unjudged."""

from __future__ import annotations

import aws_cdk as cdk
import jsii
import pytest
from aws_cdk import aws_s3 as s3

from aspects.base import GuardRules
from aspects.encryption import EncryptionAtRest
from aspects.tags import RequiredTags, apply_tags
from tests.conftest import INSPECT_CONTEXT

ENCRYPTED = s3.CfnBucket.BucketEncryptionProperty(server_side_encryption_configuration=[
    s3.CfnBucket.ServerSideEncryptionRuleProperty(
        server_side_encryption_by_default=s3.CfnBucket.ServerSideEncryptionByDefaultProperty(
            sse_algorithm="aws:kms"))])


def _errors(construct) -> list[str]:
    return [str(e.data) for e in construct.node.metadata if e.type == "aws:cdk:error"]


def test_rules_judge_every_resource_after_the_tags_are_applied():
    stage = cdk.Stage(cdk.App(context=INSPECT_CONTEXT, builtin_cloud_formation_validation=False), "dev")
    tagged, untagged = (s3.CfnBucket(cdk.Stack(stage, name), "Data") for name in ("Tagged", "Untagged"))
    apply_tags(stage, {"Owner": "records"})
    cdk.Tags.of(untagged).remove("Owner")
    GuardRules.attach(stage, [RequiredTags(["Owner"]), EncryptionAtRest()])
    stage.synth()
    # Tagged by an aspect of the stage: judged only after that aspect ran, so no false "missing tag".
    assert [e.split("]")[0] for e in _errors(tagged)] == ["[Guard-Encryption"]
    assert any("lacks required tags ['Owner']" in e for e in _errors(untagged))


def test_a_stack_added_after_the_guards_is_an_error_not_a_silent_gap():
    stage = cdk.Stage(cdk.App(context=INSPECT_CONTEXT, builtin_cloud_formation_validation=False), "dev")
    cdk.Stack(stage, "Early")
    GuardRules.attach(stage, [EncryptionAtRest()])
    late = cdk.Stack(stage, "Late")
    s3.CfnBucket(late, "Plain")
    stage.synth()
    assert _errors(late) == ["[Guard] dev/Late was added to the stage after its guards; build every stack "
                             "before calling aspects.guard.guard()"]


@jsii.implements(cdk.IAspect)
class _AddsABucketLate:
    """A mutating aspect ordered after the read-only ones: what it creates, the guards never see."""

    def __init__(self, stack: cdk.Stack) -> None:
        self.stack = stack

    def visit(self, node) -> None:
        if node.node.id == GuardRules.CHECKPOINT_ID:
            s3.CfnBucket(self.stack, "AddedByAnAspect")


def test_a_resource_an_aspect_adds_after_the_guards_judged_fails_synthesis():
    stage = cdk.Stage(cdk.App(context=INSPECT_CONTEXT, builtin_cloud_formation_validation=False), "dev")
    stack = cdk.Stack(stage, "Data")
    s3.CfnBucket(stack, "Existing", bucket_encryption=ENCRYPTED)
    GuardRules.attach(stage, [EncryptionAtRest()])
    cdk.Aspects.of(stage).add(_AddsABucketLate(stack), priority=cdk.AspectPriority.READONLY + 1)
    with pytest.raises(RuntimeError, match="dev/Data/AddedByAnAspect was added after the guards judged the stage"):
        stage.synth()


def test_a_stage_whose_resources_were_all_judged_passes_validation():
    """CDK's own version-reporting resource, added after every aspect ran (as under the CLI), is not a gap."""
    stage = cdk.Stage(cdk.App(context=INSPECT_CONTEXT, builtin_cloud_formation_validation=False,
                              analytics_reporting=True), "dev")
    s3.CfnBucket(cdk.Stack(stage, "Data"), "Existing", bucket_encryption=ENCRYPTED)
    guard_rules = GuardRules.attach(stage, [EncryptionAtRest()])
    stage.synth()
    assert len(guard_rules.judged) == 1
