from __future__ import annotations

import aws_cdk as cdk
import pytest


@pytest.fixture
def stack() -> cdk.Stack:
    """A bare stack in a fresh app: judges are pure functions, so no synthesis is needed (a test that does
    synthesize it skips CDK's template validator, which is not what these tests are about)."""
    return cdk.Stack(cdk.App(builtin_cloud_formation_validation=False), "Fixture", env=cdk.Environment(account="111111111111", region="us-east-1"))
