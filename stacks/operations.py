"""The environment's account-level operations, in us-east-1: cost budget, audit trail, CI identity, evidence vault.

Each environment is its own account, so each of these exists once per environment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import CfnOutput, Stack
from constructs import Construct
from typing_extensions import Unpack

from stacks.access_logs import access_log_sink
from stacks.audit import AuditProps, AuditTrail
from stacks.budget import BudgetProps, CostBudget
from stacks.ci_identity import CiIdentity, CiIdentityProps
from stacks.config import EnvironmentConfig, GithubConfig
from stacks.evidence_vault import EvidenceVault, EvidenceVaultProps
from stacks.keys import imported_key
from stacks.stack_args import StackArgs


def evidence_bucket_name(name_prefix: str, account: str) -> str:
    """``records-staging-evidence-222222222222``: unique (one environment per account), known before deployment."""
    return f"{name_prefix}-evidence-{account}"


@dataclass(frozen=True, kw_only=True)
class OperationsProps:
    name_prefix: str  # "<project>-<env>"
    project: str
    env: EnvironmentConfig
    github: GithubConfig
    regions: Sequence[str]  # primary first
    repository_name: str
    alerts_topic_arn: str  # this region's
    telemetry_key_arn: str  # this region's
    evidence_signing_secret: str  # name of the secret holding the evidence signing key (made by hand)


class OperationsStack(Stack):
    def __init__(self, scope: Construct, id_: str, *, props: OperationsProps, **stack_args: Unpack[StackArgs]) -> None:
        super().__init__(scope, id_, **stack_args)
        env, ops = props.env, props.env.operations
        sink = access_log_sink(self, "ServerAccessLogs", env.log_retention_days)
        self.evidence = EvidenceVault(
            self,
            "EvidenceVault",
            props=EvidenceVaultProps(
                retention_days=ops.evidence_retention_days,
                access_log_bucket=sink,
                bucket_name=evidence_bucket_name(props.name_prefix, env.account),
            ),
        )
        self.audit = AuditTrail(
            self,
            "Audit",
            props=AuditProps(
                trail_name=props.name_prefix,
                retention_days=ops.audit_retention_days,
                log_retention_days=env.log_retention_days,
                telemetry_key=imported_key(self, "TelemetryKey", props.telemetry_key_arn),
                access_log_bucket=sink,
                evidence_bucket=self.evidence.bucket,
            ),
        )
        self.budget = CostBudget(
            self,
            "Budget",
            props=BudgetProps(
                name=props.name_prefix,
                monthly_usd=ops.budget_monthly_usd,
                actual_alert_percent=ops.budget_actual_alert_percent,
                forecast_alert_percent=ops.budget_forecast_alert_percent,
                topic_arn=props.alerts_topic_arn,
            ),
        )
        self.ci = CiIdentity(
            self,
            "Ci",
            props=CiIdentityProps(
                github_owner=props.github.owner,
                github_repository=props.github.repository,
                github_owner_id=props.github.owner_id,
                github_repository_id=props.github.repository_id,
                project=props.project,
                environment=env.name,
                account=env.account,
                regions=props.regions,
                repository_name=props.repository_name,
                image_region=props.regions[0],
                evidence_bucket=self.evidence.bucket,
                evidence_key=self.evidence.key,
                evidence_signing_secret=props.evidence_signing_secret,
            ),
        )
        # What the GitHub environment's variables must hold (docs/deployment.md, "GitHub environments").
        for name, value, variable in (
            ("DeployRoleArn", self.ci.deploy_role.role.role_arn, "AWS_DEPLOY_ROLE_ARN"),
            ("OperatorRoleArn", self.ci.operator_role.role.role_arn, "AWS_OPERATOR_ROLE_ARN"),
            ("EvidenceBucketName", self.evidence.bucket.bucket_name, "EVIDENCE_BUCKET"),
            ("EvidenceSigningSecret", props.evidence_signing_secret, "EVIDENCE_SIGNING_SECRET"),
        ):
            CfnOutput(self, name, value=value, description=f"GitHub environment variable {variable}")
