"""Which controls each cdk-nag rule cites, read from the installed cdk-nag itself.

cdk-nag ties rules to controls only in prose: each pack's ``info`` text ends with ``(Control IDs: ...)``.
The Python package ships the packs' JavaScript inside its jsii tarball, so the mapping is parsed from there
(the same text the validation report carries) instead of being retyped into the catalogs, and a cdk-nag
upgrade that changes a mapping shows up as a difference in ``policies/controls/*.yaml``.
"""

from __future__ import annotations

import importlib.util
import re
import tarfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CONTROL_PACKS = {"HIPAA.Security": "hipaa-security.js", "NIST.800.53.R5": "nist-800-53-r5.js"}
# AwsSolutions cites no controls; its rules are still evidence (and their findings must reach the report).
PACK_SOURCES = {**CONTROL_PACKS, "AwsSolutions": "aws-solutions.js"}
_APPLY_RULE = re.compile(r"this\.applyRule\(\{(?P<body>.*?)\}\);", re.DOTALL)
_INFO = re.compile(r"""info:\s*(?P<q>['"])(?P<text>(?:\\.|(?!(?P=q)).)*)(?P=q)""", re.DOTALL)
_RULE = re.compile(r"rule:\s*(?P<service>[a-z0-9]+)_1\.(?P<name>\w+)")
_SUFFIX = re.compile(r"ruleSuffixOverride:\s*'(?P<suffix>[^']+)'")
# cdk-nag groups rules by service folder (rules/rds/...); a rule can only flag resources of its service, so an
# environment without any such resource gives it nothing to judge.
SERVICE_TYPES = {
    "apigw": ("AWS::ApiGateway::", "AWS::ApiGatewayV2::"), "appsync": ("AWS::AppSync::",),
    "autoscaling": ("AWS::AutoScaling::",), "cloud9": ("AWS::Cloud9::",), "cloudfront": ("AWS::CloudFront::",),
    "cloudtrail": ("AWS::CloudTrail::",), "cloudwatch": ("AWS::CloudWatch::", "AWS::Logs::"),
    "codebuild": ("AWS::CodeBuild::",), "cognito": ("AWS::Cognito::",), "dms": ("AWS::DMS::",),
    "documentdb": ("AWS::DocDB::",), "dynamodb": ("AWS::DynamoDB::", "AWS::DAX::"), "ec2": ("AWS::EC2::",),
    "ecr": ("AWS::ECR::",), "ecs": ("AWS::ECS::",), "efs": ("AWS::EFS::",), "eks": ("AWS::EKS::",),
    "elasticache": ("AWS::ElastiCache::",), "elasticbeanstalk": ("AWS::ElasticBeanstalk::",),
    "elb": ("AWS::ElasticLoadBalancing::", "AWS::ElasticLoadBalancingV2::"), "emr": ("AWS::EMR::",),
    "eventbridge": ("AWS::Events::",), "glue": ("AWS::Glue::",), "iam": ("AWS::IAM::",),
    "kinesis": ("AWS::Kinesis::", "AWS::KinesisFirehose::", "AWS::KinesisAnalytics"), "kms": ("AWS::KMS::",),
    "lambda": ("AWS::Lambda::",), "lex": ("AWS::Lex::",), "mediastore": ("AWS::MediaStore::",),
    "msk": ("AWS::MSK::",), "mwaa": ("AWS::MWAA::",), "neptune": ("AWS::Neptune::",),
    "opensearch": ("AWS::OpenSearchService::", "AWS::Elasticsearch::"), "quicksight": ("AWS::QuickSight::",),
    "rds": ("AWS::RDS::",), "redshift": ("AWS::Redshift::",), "s3": ("AWS::S3::",),
    "sagemaker": ("AWS::SageMaker::",), "secretsmanager": ("AWS::SecretsManager::",), "sns": ("AWS::SNS::",),
    "sqs": ("AWS::SQS::",), "stepfunctions": ("AWS::StepFunctions::",), "timestream": ("AWS::Timestream::",),
    "vpc": ("AWS::EC2::",), "waf": ("AWS::WAFv2::", "AWS::WAF::", "AWS::WAFRegional::"),
}
_CONTROLS = re.compile(r"\(Control IDs?: (?P<ids>[^)]*(?:\([^)]*\)[^)]*)*)\)\.?\s*$")


class NagSourceError(RuntimeError):
    """The installed cdk-nag does not look as expected; the message names what is missing."""


def _tarball() -> Path:
    # Located, not imported: importing cdk_nag starts a jsii kernel (a Node process) for nothing.
    spec = importlib.util.find_spec("cdk_nag")
    if spec is None or spec.origin is None:
        raise NagSourceError("cdk-nag is not installed")
    folder = Path(spec.origin).parent / "_jsii"
    found = sorted(folder.glob("cdk-nag@*.jsii.tgz"))
    if not found:
        raise NagSourceError(f"no cdk-nag jsii tarball under {folder}")
    return found[-1]


def cdk_nag_version() -> str:
    return _tarball().name.removeprefix("cdk-nag@").removesuffix(".jsii.tgz")


def normalize(control: str) -> str:
    """cdk-nag prints one id with a missing parenthesis (``164.312(e)(1``)."""
    control = control.strip()
    return control + ")" * (control.count("(") - control.count(")"))


@dataclass(frozen=True)
class NagRule:
    id: str  # as the validation report names it: HIPAA.Security-RDSStorageEncrypted, AwsSolutions-EB1
    service: str  # cdk-nag's rule folder: rds, s3, ...
    controls: tuple[str, ...]
    # The resource types the rule's code inspects (its `instanceof Cfn...` checks), as type_key gives them; empty
    # when only the pack was read, and then the service's types stand in.
    targets: frozenset[str] = frozenset()

    @property
    def resource_type_prefixes(self) -> tuple[str, ...]:
        return SERVICE_TYPES[self.service]

    def covers(self, resource_type: str) -> bool:
        """Whether the rule judges resources of this CloudFormation type."""
        if self.targets:
            return type_key(resource_type) in self.targets
        return resource_type.startswith(self.resource_type_prefixes)


def type_key(resource_type: str) -> str:
    """``AWS::EC2::SecurityGroup`` -> ``ec2::securitygroup``: the form a rule's ``aws_ec2_1.CfnSecurityGroup`` maps
    to (CDK names each module after its CloudFormation namespace, lower case)."""
    parts = resource_type.lower().split("::")
    return "::".join(parts[1:]) if parts[0] == "aws" else "::".join(parts)


_INSTANCE_OF = re.compile(r"instanceof aws_(?P<module>[a-z0-9]+)_1\.Cfn(?P<name>\w+)")
_CUSTOM_TYPE = re.compile(r"cfnResourceType\s*===?\s*'(?P<type>Custom::[^']+)'")


def rule_targets(source: str, rule: str) -> frozenset[str]:
    """The resource types a rule's compiled JavaScript inspects.

    :raise NagSourceError: none found (a rule this module cannot read would count as judging nothing).
    """
    found = {f"{m['module']}::{m['name'].lower()}" for m in _INSTANCE_OF.finditer(source)}
    found |= {type_key(m["type"]) for m in _CUSTOM_TYPE.finditer(source)}
    if not found:
        raise NagSourceError(f"{rule}: no resource type found in its code (no instanceof Cfn... check)")
    return frozenset(found)


def parse_pack(source: str, pack: str, *, cites_controls: bool = True,
               rule_source: Callable[[str, str], str] | None = None) -> dict[str, NagRule]:
    """Rule id -> rule, with the control ids its message cites, and with ``rule_source`` (service, rule name ->
    the rule's JavaScript) the resource types it inspects.

    :raise NagSourceError: a rule without a control list (in a pack that cites them), a rule of a service this
        module cannot place, or a pack without rules.
    """
    rules: dict[str, NagRule] = {}
    for call in _APPLY_RULE.finditer(source):
        body = call["body"]
        info, rule = _INFO.search(body), _RULE.search(body)
        if not info or not rule:
            raise NagSourceError(f"{pack}: an applyRule call without info or rule: {body[:120]!r}")
        suffix = _SUFFIX.search(body)
        rule_id = f"{pack}-{suffix['suffix'] if suffix else rule['name']}"
        if rule["service"] not in SERVICE_TYPES:
            raise NagSourceError(f"{rule_id}: service folder '{rule['service']}' has no resource types here")
        controls = _CONTROLS.search(info["text"].replace("\\'", "'"))
        if cites_controls and not controls:
            raise NagSourceError(f"{rule_id}: no '(Control IDs: ...)' in {info['text'][:160]!r}")
        cited = tuple(dict.fromkeys(normalize(c) for c in controls["ids"].split(",") if c.strip())) if controls else ()
        targets = (rule_targets(rule_source(rule["service"], rule["name"]), rule_id) if rule_source
                   else frozenset())
        rules[rule_id] = NagRule(id=rule_id, service=rule["service"], controls=cited, targets=targets)
    if not rules:
        raise NagSourceError(f"{pack}: no rules found in the pack source")
    return rules


@cache
def pack_rules() -> Mapping[str, Mapping[str, NagRule]]:
    """Pack -> rule id -> rule, for the three packs the guards register."""
    with tarfile.open(_tarball()) as archive:
        def read(member: str) -> str:
            try:
                found = archive.extractfile(f"package/lib/{member}")
            except KeyError:
                found = None
            if found is None:
                raise NagSourceError(f"{member} is not in {_tarball().name}")
            return found.read().decode()

        return {
            pack: parse_pack(read(f"packs/{name}"), pack, cites_controls=pack in CONTROL_PACKS,
                             rule_source=lambda service, rule: read(f"rules/{service}/{rule}.js"))
            for pack, name in PACK_SOURCES.items()
        }


def rule_controls() -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    """Pack -> rule id -> cited control ids, for the packs the catalogs cover."""
    return {pack: {rule.id: rule.controls for rule in pack_rules()[pack].values()} for pack in CONTROL_PACKS}
