"""GuardRules: every resource of a stage judged once, after the mutating aspects, and nothing left unjudged."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3

from aspects.base import GuardRules
from aspects.encryption import EncryptionAtRest
from aspects.tags import RequiredTags, apply_tags
from tests.conftest import INSPECT_CONTEXT


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
