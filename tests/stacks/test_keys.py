from __future__ import annotations

import pytest


@pytest.mark.parametrize("role", ["primary", "secondary"])
def test_customer_keys_rotate_yearly_under_env_aliases(synthesized, role):
    template = synthesized.template("staging", role, "keys")
    template.resource_count_is("AWS::KMS::Key", 2)
    for key in template.find_resources("AWS::KMS::Key").values():
        assert key["Properties"]["EnableKeyRotation"] is True
        assert key["Properties"]["RotationPeriodInDays"] == 365
    aliases = {a["Properties"]["AliasName"] for a in template.find_resources("AWS::KMS::Alias").values()}
    assert aliases == {"alias/records-staging-data", "alias/records-staging-telemetry"}


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
@pytest.mark.parametrize("role", ["primary", "secondary"])
def test_keys_are_retained_in_every_environment(synthesized, env, role):
    keys = synthesized.template(env, role, "keys").find_resources("AWS::KMS::Key")
    assert len(keys) == 2
    assert {key["DeletionPolicy"] for key in keys.values()} == {"Retain"}


def test_telemetry_key_admits_cloudwatch_logs_of_its_own_region_only(synthesized):
    keys = synthesized.template("prod", "secondary", "keys").find_resources("AWS::KMS::Key")
    statements = [s for k in keys.values() for s in k["Properties"]["KeyPolicy"]["Statement"]]
    logs = [s for s in statements if s["Principal"].get("Service") == "logs.us-east-2.amazonaws.com"]
    assert len(logs) == 1
    assert logs[0]["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == "arn:aws:logs:us-east-2:333333333333:*"
