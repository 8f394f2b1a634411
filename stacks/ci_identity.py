"""GitHub Actions' identity in this account: the OIDC provider and the environment's deploy role.

The role trusts only tokens whose ``sub`` is this repository's workflow running in the GitHub environment of the
same name (``repo:<owner>/<repo>:environment:<env>``), so a job in another environment, branch or fork cannot
assume it. It can do what ``cdk deploy`` needs (assume the CDK bootstrap roles), push the service image, read the
image scan, and upload evidence, but never delete or shorten evidence. No long-lived keys exist anywhere.
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


@dataclass(frozen=True, kw_only=True)
class CiIdentityProps:
    github_owner: str
    github_repository: str
    environment: str  # the GitHub environment, named like ours
    account: str
    regions: Sequence[str]
    repository_name: str  # ECR
    image_region: str  # where CI pushes; replication copies to the other region
    evidence_bucket: s3.IBucket
    evidence_key: kms.IKey


def subject(owner: str, repository: str, environment: str) -> str:
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
                    f"{GITHUB_ISSUER}:sub": subject(props.github_owner, props.github_repository, props.environment),
                }
            },
        )
        self.deploy_role = ManagedRole(
            self,
            "DeployRole",
            assumed_by=principal,
            description=f"GitHub Actions deploys {props.environment}: CDK bootstrap roles, image push, evidence upload",
            statements=_statements(props),
        )


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
        iam.PolicyStatement(
            sid="NeverDeleteEvidence",
            effect=iam.Effect.DENY,
            actions=list(EVIDENCE_DENIED_ACTIONS),
            resources=[props.evidence_bucket.bucket_arn, evidence_objects],
        ),
    ]
