"""CKV_RECORDS_LOG_1: logs hold request paths, identifiers and errors that can reveal PHI, and are the audit
trail. They are encrypted with a customer key and kept at least as long as the environment's floor
(cdk.json ``min_log_retention_days``/``_production``; 365 days in production). No retention means "never
expire", which meets the floor. The environment comes from the ``Environment`` tag; without it, the check fails."""

from __future__ import annotations

from typing import Any

from _support import log_retention_floor, properties, tag
from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult


class LogGroupEncryptedAndRetained(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure log groups are KMS-encrypted and kept at least the environment's retention floor",
            id="CKV_RECORDS_LOG_1",
            categories=[CheckCategories.LOGGING],
            supported_resources=["AWS::Logs::LogGroup"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        props = properties(conf)
        self.evaluated_keys = ["Properties/KmsKeyId", "Properties/RetentionInDays", "Properties/Tags"]
        environment = tag(conf, "Environment")
        floor = log_retention_floor(environment) if environment else None
        if floor is None or not props.get("KmsKeyId"):
            return CheckResult.FAILED
        retention = props.get("RetentionInDays")
        if retention is None:
            return CheckResult.PASSED
        return CheckResult.PASSED if isinstance(retention, int) and retention >= floor else CheckResult.FAILED


check = LogGroupEncryptedAndRetained()
