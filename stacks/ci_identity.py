"""GitHub Actions' identity in this account: the OIDC provider, the environment's deploy role and its operator
role.

Both roles trust only tokens whose ``sub`` is this repository's workflow running in the GitHub environment of the
same name (``repo:<owner>/<repo>:environment:<env>``, or with the owner's and repository's numeric ids when
cdk.json gives them: GitHub's immutable subject claims), so a job in another environment, branch or fork cannot
assume them. The deploy role can do what ``cdk deploy`` needs (assume the CDK bootstrap roles), push the service
image, read the image scan, and upload evidence, but never delete or shorten evidence. The operator role runs the
post-deploy drills and ``python -m ops rollback``: it reads the stacks, the ECS service and its deployments and
the load balancer, updates the project's ECS service, stops service deployments, updates health checks (the
drills invert them), deploys the service's feature flags (read_only for a switchover) and can promote the
project's replica (destructive drills, failover). No long-lived keys
exist anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.evidence_vault import EVIDENCE_PROTECTED_ACTIONS
from stacks.roles import ManagedRole

GITHUB_ISSUER = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
BOOTSTRAP_QUALIFIER = "hnb659fds"  # CDK's default; `cdk bootstrap --qualifier` would change it
BOOTSTRAP_ROLES = ("deploy", "file-publishing", "image-publishing", "lookup")
IMAGE_PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:BatchGetImage",
)
IMAGE_SCAN_ACTIONS = ("ecr:DescribeImages", "ecr:DescribeImageScanFindings")
# What "write but not delete" must rule out, even if a later policy allowed it: the vault's protected actions
# and the bucket-level ones that would undo the protection.
EVIDENCE_DENIED_ACTIONS = (
    *EVIDENCE_PROTECTED_ACTIONS, "s3:PutBucketPolicy", "s3:DeleteBucket", "s3:DeleteBucketPolicy"
)


# What the drills and a rollback read: CloudFormation resolves the stacks' physical ids, then the ECS service,
# its deployments and revisions, the load balancer rules and target health, and replica lag.
OPERATOR_READ_ACTIONS = (
    "cloudformation:DescribeStackResources",
    "ecs:DescribeServices",
    "ecs:DescribeTaskDefinition",
    "ecs:ListServiceDeployments",
    "ecs:DescribeServiceDeployments",
    "ecs:DescribeServiceRevisions",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetHealth",
    "cloudwatch:GetMetricStatistics",
    # The flags as last deployed, and how a flag deployment goes (python -m ops read-only).
    "appconfig:ListDeployments",
    "appconfig:GetDeployment",
    "appconfig:GetHostedConfigurationVersion",
    # What python -m reports collect --target aws reads back for the evidence: Config's evaluations and each
    # stack's last drift detection (the drift rule detects it; reading the result needs no resource access).
    "config:DescribeConfigurationRecorderStatus",
    "config:DescribeConfigurationRecorders",
    "config:GetDiscoveredResourceCounts",
    "config:DescribeConformancePackCompliance",
    "config:DescribeComplianceByConfigRule",
    "cloudformation:ListStacks",
    "cloudformation:DescribeStacks",
    "cloudformation:DescribeStackResourceDrifts",
)
# What they change: the ECS service (back to an earlier revision), a running deployment (stopped with rollback),
# a health check's inversion, and, in a destructive drill only, the replica (promoted).


@dataclass(frozen=True, kw_only=True)
class CiIdentityProps:
    github_owner: str
    github_repository: str
    project: str  # the Project tag the guards put on every resource; service changes are limited to it
    github_owner_id: int | None = None  # both ids set: the immutable subject claim form
    github_repository_id: int | None = None
    environment: str  # the GitHub environment, named like ours
    account: str
    regions: Sequence[str]
    repository_name: str  # ECR
    image_region: str  # where CI pushes; replication copies to the other region
    evidence_bucket: s3.IBucket
    evidence_key: kms.IKey
    evidence_signing_secret: str  # the secret's name; the key is created by hand, not by a template


def subject(owner: str, repository: str, environment: str, *, owner_id: int | None = None,
            repository_id: int | None = None) -> str:
    if owner_id is not None and repository_id is not None:
        return f"repo:{owner}@{owner_id}/{repository}@{repository_id}:environment:{environment}"
    return f"repo:{owner}/{repository}:environment:{environment}"


class CiIdentity(Construct):
    def __init__(self, scope: Construct, id_: str, *, props: CiIdentityProps) -> None:
        super().__init__(scope, id_)
        self.provider = iam.OidcProviderNative(
            self, "GithubOidc", url=f"https://{GITHUB_ISSUER}", client_ids=[AUDIENCE]
        )
        principal = iam.WebIdentityPrincipal(
            self.provider.oidc_provider_arn,
            conditions={
                "StringEquals": {
                    f"{GITHUB_ISSUER}:aud": AUDIENCE,
                    f"{GITHUB_ISSUER}:sub": subject(
                        props.github_owner, props.github_repository, props.environment,
                        owner_id=props.github_owner_id, repository_id=props.github_repository_id,
                    ),
                }
            },
        )
        self.deploy_role = ManagedRole(
            self,
            "DeployRole",
            assumed_by=principal,
            description=f"GitHub Actions deploys {props.environment}: CDK bootstrap roles, image push, evidence upload "
                        "and signing",
            statements=_statements(props),
        )
        self.operator_role = ManagedRole(
            self,
            "OperatorRole",
            assumed_by=principal,
            description=f"GitHub Actions verifies {props.environment}: DR drills, rollback of the ECS service",
            statements=_operator_statements(props),
        )


def _operator_statements(props: CiIdentityProps) -> list[iam.PolicyStatement]:
    # The account holds one environment only, so "*" here is this environment; none of the read actions, nor
    # Route 53's health checks, take a narrower resource in advance (names are generated at deploy time).
    return [
        iam.PolicyStatement(sid="ReadForDrills", actions=list(OPERATOR_READ_ACTIONS), resources=["*"]),
        # UpdateService reuses a task definition that already ran (no RegisterTaskDefinition, no iam:PassRole), so
        # the role cannot start an image or a task role the service did not have before.
        iam.PolicyStatement(
            sid="UpdateOnlyThisProjectsService",
            actions=["ecs:UpdateService"],
            resources=["*"],
            conditions={"StringEquals": {"aws:ResourceTag/Project": props.project}},
        ),
        # A service deployment is its own resource, which carries no tags; stopping one only ever rolls it back.
        iam.PolicyStatement(sid="StopDeployments", actions=["ecs:StopServiceDeployment"], resources=["*"]),
        # A planned switchover pauses writes: a new flag version, deployed (python -m ops read-only on|off).
        iam.PolicyStatement(
            sid="SetFeatureFlags",
            actions=["appconfig:CreateHostedConfigurationVersion", "appconfig:StartDeployment"],
            resources=["*"],
        ),
        iam.PolicyStatement(sid="InvertHealthChecks", actions=["route53:UpdateHealthCheck"], resources=["*"]),
        iam.PolicyStatement(
            sid="PromoteOnlyThisProjectsReplica",
            actions=["rds:PromoteReadReplica"],
            resources=["*"],
            conditions={"StringEquals": {"aws:ResourceTag/Project": props.project}},
        ),
    ]


def _statements(props: CiIdentityProps) -> list[iam.PolicyStatement]:
    account = props.account
    repositories = [f"arn:aws:ecr:{region}:{account}:repository/{props.repository_name}" for region in props.regions]
    pushed = f"arn:aws:ecr:{props.image_region}:{account}:repository/{props.repository_name}"
    evidence_objects = props.evidence_bucket.arn_for_objects("*")
    return [
        iam.PolicyStatement(
            sid="AssumeCdkBootstrapRoles",
            actions=["sts:AssumeRole", "sts:TagSession"],
            resources=[
                f"arn:aws:iam::{account}:role/cdk-{BOOTSTRAP_QUALIFIER}-{role}-role-{account}-{region}"
                for region in props.regions
                for role in BOOTSTRAP_ROLES
            ],
        ),
        # GetAuthorizationToken is account-wide by design; it has no resource to scope to.
        iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]),
        iam.PolicyStatement(sid="PushServiceImage", actions=list(IMAGE_PUSH_ACTIONS), resources=[pushed]),
        iam.PolicyStatement(sid="ReadImageScans", actions=list(IMAGE_SCAN_ACTIONS), resources=repositories),
        iam.PolicyStatement(sid="UploadEvidence", actions=["s3:PutObject"], resources=[evidence_objects]),
        iam.PolicyStatement(
            sid="EncryptEvidence",
            actions=["kms:GenerateDataKey", "kms:Decrypt"],
            resources=[props.evidence_key.key_arn],
        ),
        # Secrets Manager appends six random characters to a secret's ARN; "?" matches exactly those.
        iam.PolicyStatement(
            sid="SignEvidence",
            actions=["secretsmanager:GetSecretValue"],
            resources=[f"arn:aws:secretsmanager:{props.image_region}:{account}:secret:"
                       f"{props.evidence_signing_secret}-??????"],
        ),
        iam.PolicyStatement(
            sid="NeverDeleteEvidence",
            effect=iam.Effect.DENY,
            actions=list(EVIDENCE_DENIED_ACTIONS),
            resources=[props.evidence_bucket.bucket_arn, evidence_objects],
        ),
    ]
