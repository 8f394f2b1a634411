"""The one way this app builds a WAF byte-match statement (path rules, the origin-verification header)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from aws_cdk import aws_wafv2 as wafv2


def byte_match(
    field: wafv2.CfnWebACL.FieldToMatchProperty,
    constraint: Literal["EXACTLY", "STARTS_WITH"],
    value: str,
    transformations: Sequence[str] = ("NONE",),
) -> wafv2.CfnWebACL.StatementProperty:
    """``transformations`` apply in order before the comparison."""
    return wafv2.CfnWebACL.StatementProperty(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=field,
            positional_constraint=constraint,
            search_string=value,
            text_transformations=[
                wafv2.CfnWebACL.TextTransformationProperty(priority=i, type=kind)
                for i, kind in enumerate(transformations)
            ],
        )
    )


def uri_path() -> wafv2.CfnWebACL.FieldToMatchProperty:
    return wafv2.CfnWebACL.FieldToMatchProperty(uri_path={})
