"""CKV_RECORDS_RDS_1: the secondary region can take over only if its database already holds the data, so
there it must be a read replica of a database in the primary region (cdk.json ``primary_region``, named by ARN);
in the primary, the database is the source. The region's part comes from the ``RegionRole`` tag the guards put
on every resource; without it the check cannot tell and fails."""

from __future__ import annotations

import re
from typing import Any

from _support import primary_region, properties, tag
from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult

DB_INSTANCE_ARN = re.compile(r"^arn:aws[a-z-]*:rds:(?P<region>[a-z0-9-]+):\d{12}:db:[A-Za-z][A-Za-z0-9-]*$")


class SecondaryDatabaseIsCrossRegionReplica(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure the secondary region's database is a cross-region read replica of the primary",
            id="CKV_RECORDS_RDS_1",
            categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["AWS::RDS::DBInstance"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        role = tag(conf, "RegionRole")
        source = properties(conf).get("SourceDBInstanceIdentifier")
        self.evaluated_keys = ["Properties/SourceDBInstanceIdentifier", "Properties/Tags"]
        if role == "secondary":
            arn = DB_INSTANCE_ARN.match(source) if isinstance(source, str) else None
            return CheckResult.PASSED if arn and arn["region"] == primary_region() else CheckResult.FAILED
        if role == "primary":
            return CheckResult.PASSED if source is None else CheckResult.FAILED
        return CheckResult.FAILED


check = SecondaryDatabaseIsCrossRegionReplica()
