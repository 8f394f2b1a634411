"""The keyword arguments every stack of a stage is created with (``EnvironmentStage._stack_args``), typed so that
each stack passes them on to ``cdk.Stack`` as checked arguments rather than an untyped dict."""

from __future__ import annotations

from typing import TypedDict

import aws_cdk as cdk


class StackArgs(TypedDict):
    env: cdk.Environment
    stack_name: str
    description: str
    termination_protection: bool
