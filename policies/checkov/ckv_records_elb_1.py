"""CKV_RECORDS_ELB_1: PHI crosses the load balancer, so a listener either terminates TLS 1.2 or newer (the
named AWS policies whose minimum is 1.2 or 1.3) or only redirects to HTTPS. checkov's CKV_AWS_103 accepts a
listener without a policy name; this check does not."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from _support import properties
from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult

# ELBSecurityPolicy-TLS13-1-2-2021-06, -TLS13-1-3-2021-06, -TLS-1-2-Ext-2018-06, -FS-1-2-Res-2020-10, ...
TLS12_OR_NEWER = re.compile(r"^ELBSecurityPolicy-(TLS13-1-[23]|TLS-1-2|FS-1-2)(-[A-Za-z0-9]+)*$")
ENCRYPTED_PROTOCOLS = {"HTTPS", "TLS"}


def _redirects_to_https(action: object) -> bool:
    if not isinstance(action, Mapping) or action.get("Type") != "redirect":
        return False
    redirect = action.get("RedirectConfig")
    return isinstance(redirect, Mapping) and redirect.get("Protocol") == "HTTPS"


class ListenerTls12OrRedirect(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure load balancer listeners use a TLS 1.2+ security policy or only redirect to HTTPS",
            id="CKV_RECORDS_ELB_1",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["AWS::ElasticLoadBalancingV2::Listener"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        props = properties(conf)
        protocol = props.get("Protocol")
        if not isinstance(protocol, str):  # computed: cannot tell what the listener speaks
            self.evaluated_keys = ["Properties/Protocol"]
            return CheckResult.FAILED
        if protocol in ENCRYPTED_PROTOCOLS:
            self.evaluated_keys = ["Properties/SslPolicy"]
            policy = props.get("SslPolicy")
            modern = isinstance(policy, str) and TLS12_OR_NEWER.match(policy) is not None
            return CheckResult.PASSED if modern else CheckResult.FAILED
        self.evaluated_keys = ["Properties/Protocol", "Properties/DefaultActions"]
        actions = props.get("DefaultActions")
        if isinstance(actions, list) and actions and all(_redirects_to_https(a) for a in actions):
            return CheckResult.PASSED
        return CheckResult.FAILED


check = ListenerTls12OrRedirect()
