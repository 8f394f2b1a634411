"""Only CloudFront may reach the load balancers: CloudFront adds a secret header, the regional WAF blocks requests
without it.

Without this, ``origin.<domain>`` and ``<region>.<domain>`` would bypass the edge WAF and the geo allowlist. Two
generated secrets (A and B) are accepted at the load balancers while CloudFront sends the active one
(``project.cdn.active_origin_secret``), so the inactive one can be rotated and then made active with no request
refused (docs/runbooks/origin-secret-rotation.md). Route 53 health checkers cannot send headers, so the health path
is exempt; it reveals only "ok".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import aws_wafv2 as wafv2

from stacks.app_secrets import GeneratedSecret
from stacks.waf_match import byte_match, uri_path

HEADER = "X-Origin-Verify"


@dataclass(frozen=True, kw_only=True)
class OriginVerify:
    accepted: Sequence[GeneratedSecret]
    exempt_path: str

    def __post_init__(self) -> None:
        if len(self.accepted) < 2:
            raise ValueError("origin verification needs two accepted secrets, so one can rotate while one is used")

    def blocks(self) -> wafv2.CfnWebACL.StatementProperty:
        """Matches what must be blocked: no accepted header value, and not the exempt path."""
        has_header = wafv2.CfnWebACL.StatementProperty(
            or_statement=wafv2.CfnWebACL.OrStatementProperty(
                statements=[_header_equals(secret) for secret in self.accepted]
            )
        )
        return wafv2.CfnWebACL.StatementProperty(
            and_statement=wafv2.CfnWebACL.AndStatementProperty(
                statements=[_not(has_header), _not(_path_is(self.exempt_path))]
            )
        )


def _not(statement: wafv2.CfnWebACL.StatementProperty) -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=statement))


def _header_equals(secret: GeneratedSecret) -> wafv2.CfnWebACL.StatementProperty:
    field = wafv2.CfnWebACL.FieldToMatchProperty(single_header={"Name": HEADER.lower()})
    return byte_match(field, "EXACTLY", secret.value().unsafe_unwrap())  # a dynamic reference, resolved at deploy


def _path_is(path: str) -> wafv2.CfnWebACL.StatementProperty:
    return byte_match(uri_path(), "EXACTLY", path)
