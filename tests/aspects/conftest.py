from __future__ import annotations

import aws_cdk as cdk
import pytest


@pytest.fixture
def stack() -> cdk.Stack:
    """A bare stack in a fresh app: judges are pure functions, so no synthesis is needed."""
    return cdk.Stack(cdk.App(), "Fixture", env=cdk.Environment(account="111111111111", region="us-east-1"))
