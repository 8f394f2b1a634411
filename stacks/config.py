"""Typed configuration: environments x regions, read once from cdk.json and passed down.

Every stack, guard and (later) ops tool reads its numbers from here; nothing else parses cdk.json.
Validation errors become one ``ConfigError`` line naming the key, the value and what was expected,
so a typo never reaches jsii as a stack trace.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"
REQUIRED_TAG_KEYS = ("Project", "Environment", "Owner", "DataClassification", "CostCenter")
# primary | secondary | global: which part of the two-region design a resource belongs to.
REGION_ROLE_TAG = "RegionRole"
ENV_SELECTOR_KEY = "env"
ALL_ENVIRONMENTS = "all"
_ACCOUNT = re.compile(r"^\d{12}$")
_AZ = re.compile(r"^[a-z]{2}-[a-z]+-\d[a-z]$")
# The CloudWatch Logs API accepts only these retention periods (days).
ALLOWED_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)


class ConfigError(ValueError):
    """Configuration is missing or malformed; the message is one line an operator can act on."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RegionConfig(_Frozen):
    name: str = ""
    cidr: IPv4Network
    azs: tuple[str, ...] = Field(min_length=2)

    @field_validator("azs")
    @classmethod
    def _azs_well_formed(cls, azs: tuple[str, ...]) -> tuple[str, ...]:
        for az in azs:
            if not _AZ.match(az):
                raise ValueError(f"availability zone '{az}' is not like 'us-east-1a'")
        if len(set(azs)) != len(azs):
            raise ValueError(f"availability zones repeat: {list(azs)}")
        return azs

    @model_validator(mode="after")
    def _azs_in_region(self) -> RegionConfig:
        strays = [az for az in self.azs if self.name and not az.startswith(self.name)]
        if strays:
            raise ValueError(f"availability zones {strays} are not in region {self.name}")
        if self.cidr.prefixlen > 20:
            raise ValueError(f"cidr {self.cidr} is smaller than /20; three subnet tiers need room")
        return self

    @property
    def short_name(self) -> str:
        """'us-east-1' -> 'use1', used in physical names that have length limits."""
        area, direction, number = self.name.split("-")
        return f"{area}{direction[0]}{number}"


class NetworkConfig(_Frozen):
    nat_gateways: int = Field(ge=1)


class DatabaseConfig(_Frozen):
    instance_class: str = Field(pattern=r"^[a-z0-9]+\.[a-z0-9]+$")
    allocated_storage_gib: int = Field(ge=20)
    max_allocated_storage_gib: int
    backup_retention_days: int = Field(ge=1, le=35)
    port: int = Field(ge=1150, le=65535)
    deletion_protection: bool

    @model_validator(mode="after")
    def _storage_grows(self) -> DatabaseConfig:
        if self.max_allocated_storage_gib < self.allocated_storage_gib:
            raise ValueError("max_allocated_storage_gib is below allocated_storage_gib")
        return self


class ServiceConfig(_Frozen):
    image_tag: str = Field(min_length=1)
    cpu: Literal[256, 512, 1024, 2048, 4096]
    memory_mib: int = Field(ge=512)
    desired_count: int = Field(ge=1)
    min_count: int = Field(ge=1)
    max_count: int
    deployment_strategy: Literal["BLUE_GREEN", "CANARY", "LINEAR"]
    canary_percent: float = Field(gt=0, le=100)
    bake_time_minutes: int = Field(ge=1, le=1440)
    fargate_spot: bool
    container_port: int = 8080
    requests_per_task_per_minute: int = Field(default=3000, ge=1)
    waf_rate_limit_per_5_minutes: int = Field(default=2000, ge=100)

    @model_validator(mode="after")
    def _counts_ordered(self) -> ServiceConfig:
        if not self.min_count <= self.desired_count <= self.max_count:
            raise ValueError(
                f"expected min_count <= desired_count <= max_count, got "
                f"{self.min_count} <= {self.desired_count} <= {self.max_count}"
            )
        return self


class RegistryConfig(_Frozen):
    keep_last_images: int = Field(ge=1)


class DnsConfig(_Frozen):
    """The environment's public zone and the Route 53 health checks that drive regional failover."""

    hosted_zone_id: str | None = Field(default=None, pattern=r"^Z[A-Z0-9]{1,31}$")  # unset: the app creates it
    health_check_path: str = Field(default="/health", pattern=r"^/[\w./-]*$")
    health_check_interval_seconds: Literal[10, 30] = 30  # the only intervals Route 53 offers
    health_check_failure_threshold: int = Field(default=3, ge=1, le=10)


class CdnConfig(_Frozen):
    allowed_countries: tuple[str, ...] = Field(min_length=1)  # ISO 3166-1 alpha-2; viewers elsewhere get 403
    static_ttl_seconds: int = Field(default=300, ge=1, le=86400)
    # Which origin-verification secret CloudFront sends; the load balancers accept both (stacks.origin_verify).
    active_origin_secret: Literal["a", "b"] = "a"

    @field_validator("allowed_countries")
    @classmethod
    def _country_codes(cls, countries: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in countries if not re.fullmatch(r"[A-Z]{2}", c)]
        if bad:
            raise ValueError(f"country codes {bad} are not ISO 3166-1 alpha-2 like 'US'")
        return countries


class CacheConfig(_Frozen):
    node_type: str = Field(pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")
    nodes: int = Field(ge=1, le=6)  # primary plus read replicas, spread over the region's AZs
    port: int = Field(default=6380, ge=1024, le=65535)  # not 6379: AwsSolutions-AEC5 wants a non-default port


class BackupConfig(_Frozen):
    retention_days: int = Field(ge=1)  # in the primary region's vault
    copy_retention_days: int = Field(ge=1)  # of the copy in the secondary region's vault
    vault_lock: bool  # compliance-mode lock: nobody, root included, deletes a recovery point early
    vault_lock_grace_days: int = Field(default=3, ge=3)  # after this the lock is immutable
    # Its own number, not the retentions: a compliance lock cannot change after the grace period, while the
    # retentions may grow. Both retentions must stay at or above it, or backups and copies would fail.
    vault_lock_min_retention_days: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _retention_within_lock(self) -> BackupConfig:
        if not self.vault_lock:
            return self
        shortest = min(self.retention_days, self.copy_retention_days)
        if shortest < self.vault_lock_min_retention_days:
            raise ValueError(
                f"retention_days {self.retention_days} / copy_retention_days {self.copy_retention_days} fall "
                f"below vault_lock_min_retention_days {self.vault_lock_min_retention_days}; the locked vault "
                "would refuse them"
            )
        return self


class OperationsConfig(_Frozen):
    budget_monthly_usd: int = Field(ge=1)
    budget_actual_alert_percent: int = Field(default=80, ge=1, le=1000)
    budget_forecast_alert_percent: int = Field(default=100, ge=1, le=1000)
    trace_sampling_percent: float = Field(ge=0, le=100)  # X-Ray sampling rule, after one request per second
    audit_retention_days: int = Field(ge=90)  # CloudTrail logs in S3
    evidence_retention_days: int = Field(ge=1)  # Object Lock compliance retention of evidence bundles
    # The rotation runbooks' interval (cache token, origin secrets); AWS Config flags a secret older than this.
    secret_rotation_days: int = Field(default=90, ge=1, le=365)
    # Who the alerts topics notify (each address confirms its subscription once); a pager's email ingest works.
    alert_emails: tuple[str, ...] = ()

    @field_validator("alert_emails")
    @classmethod
    def _emails(cls, emails: tuple[str, ...]) -> tuple[str, ...]:
        bad = [e for e in emails if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", e)]
        if bad:
            raise ValueError(f"alert_emails {bad} are not email addresses")
        return emails


class GithubConfig(_Frozen):
    """Where CI runs: deploy roles trust only this repository's workflows in the matching GitHub environment."""

    owner: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}$")
    repository: str = Field(pattern=r"^[A-Za-z0-9._-]{1,100}$")
    # GitHub's immutable subject claims (repositories created from July 2026, or opted in) carry the numeric
    # ids: "repo:<owner>@<owner_id>/<repo>@<repository_id>:...". Give both to trust that form.
    owner_id: int | None = Field(default=None, gt=0)
    repository_id: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _ids_together(self) -> GithubConfig:
        if (self.owner_id is None) != (self.repository_id is None):
            raise ValueError("github.owner_id and github.repository_id go together (the immutable subject claim)")
        return self


class EnvironmentConfig(_Frozen):
    name: str = ""
    account: str
    production: bool
    domain_name: str = Field(pattern=r"^[a-z0-9.-]+\.[a-z]{2,}$")
    log_retention_days: int = Field(ge=1)
    regions: Mapping[str, RegionConfig]
    network: NetworkConfig
    database: DatabaseConfig
    service: ServiceConfig
    registry: RegistryConfig
    dns: DnsConfig = DnsConfig()
    cache: CacheConfig
    backup: BackupConfig
    operations: OperationsConfig

    @field_validator("account")
    @classmethod
    def _account_is_twelve_digits(cls, account: str) -> str:
        if not _ACCOUNT.match(account):
            raise ValueError(f"account '{account}' is not 12 digits")
        return account

    @field_validator("log_retention_days")
    @classmethod
    def _retention_allowed(cls, days: int) -> int:
        if days not in ALLOWED_RETENTION_DAYS:
            raise ValueError(f"{days} is not a retention CloudWatch accepts: {sorted(ALLOWED_RETENTION_DAYS)}")
        return days

    @model_validator(mode="after")
    def _nat_per_az_at_most(self) -> EnvironmentConfig:
        for region in self.regions.values():
            if self.network.nat_gateways > len(region.azs):
                raise ValueError(
                    f"nat_gateways {self.network.nat_gateways} exceeds the {len(region.azs)} AZs of {region.name}"
                )
        return self

    @model_validator(mode="after")
    def _production_is_resilient(self) -> EnvironmentConfig:
        if not self.production:
            return self
        if self.cache.nodes < 2:
            raise ValueError(f"production needs cache.nodes >= 2 for Multi-AZ failover, got {self.cache.nodes}")
        if not self.backup.vault_lock:
            raise ValueError("production needs backup.vault_lock: true")
        if not self.operations.alert_emails:
            raise ValueError("production needs operations.alert_emails: alarms nobody receives protect nothing")
        if self.operations.audit_retention_days < 365:
            raise ValueError("production keeps audit logs at least 365 days (operations.audit_retention_days)")
        return self


class ProjectConfig(_Frozen):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,20}$")
    primary_region: str
    secondary_region: str
    repository_name: str
    tags: Mapping[str, str]
    cdn: CdnConfig
    github: GithubConfig
    # Pinned: a moving tag would change every task on the next deploy without a diff in this repository.
    adot_image: str = Field(pattern=r"^[\w./-]+:v\d+\.\d+\.\d+$")
    # Required in cdk.json: the checkov log policy (policies/checkov) reads the same two numbers from there.
    min_log_retention_days: int = Field(ge=1)
    min_log_retention_days_production: int = Field(ge=1)

    def log_retention_floor(self, env: EnvironmentConfig) -> int:
        """The shortest log retention the guards accept in ``env``."""
        return self.min_log_retention_days_production if env.production else self.min_log_retention_days

    @model_validator(mode="after")
    def _tags_complete(self) -> ProjectConfig:
        missing = [k for k in REQUIRED_TAG_KEYS if k != "Environment" and not self.tags.get(k)]
        if missing:
            raise ValueError(f"project.tags lacks {missing}")
        return self


class AppConfig(_Frozen):
    project: ProjectConfig
    environments: Mapping[str, EnvironmentConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_account_per_environment(self) -> AppConfig:
        # Account-wide singletons (GitHub OIDC provider, trail, budget) are created once per environment.
        accounts = [env.account for env in self.environments.values()]
        shared = sorted({a for a in accounts if accounts.count(a) > 1})
        if shared:
            raise ValueError(f"environments share accounts {shared}; each environment needs its own account")
        return self

    @model_validator(mode="after")
    def _regions_consistent(self) -> AppConfig:
        expected = {self.project.primary_region, self.project.secondary_region}
        networks: list[tuple[str, IPv4Network]] = []
        for env in self.environments.values():
            if set(env.regions) != expected:
                raise ValueError(
                    f"environment '{env.name}' has regions {sorted(env.regions)}; expected {sorted(expected)}"
                )
            networks += [(f"{env.name}/{r.name}", r.cidr) for r in env.regions.values()]
        for i, (where, cidr) in enumerate(networks):
            for other_where, other in networks[i + 1 :]:
                if cidr.overlaps(other):
                    raise ValueError(f"cidr {cidr} of {where} overlaps {other} of {other_where}")
        return self

    def region(self, env: EnvironmentConfig, role: Literal["primary", "secondary"]) -> RegionConfig:
        name = self.project.primary_region if role == "primary" else self.project.secondary_region
        return env.regions[name]

    def selected(self, selector: str | None) -> list[EnvironmentConfig]:
        """The environments named by ``-c env=<name>``; all of them when unset or 'all'.

        :raise ConfigError: the name is not a configured environment.
        """
        if selector in (None, "", ALL_ENVIRONMENTS):
            return list(self.environments.values())
        if selector not in self.environments:
            raise ConfigError(
                f"unknown environment '{selector}'; expected one of {sorted(self.environments)} or '{ALL_ENVIRONMENTS}'"
            )
        return [self.environments[selector]]


def _with_names(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Copy mapping keys into the models' ``name`` fields so messages and stacks can name them."""
    envs = {}
    for env_name, env in (raw.get("environments") or {}).items():
        if not isinstance(env, Mapping):
            raise ConfigError(f"cdk.json: environments.{env_name} is {type(env).__name__}; expected an object")
        regions = env.get("regions")
        if isinstance(regions, Mapping):
            regions = {
                name: ({**region, "name": name} if isinstance(region, Mapping) else region)
                for name, region in regions.items()
            }
        envs[env_name] = {**env, "name": env_name, "regions": regions}
    return {**raw, "environments": envs}


def _apply_account_overrides(raw: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Real account ids come from ``-c account.<env>=...`` or ``RECORDS_ACCOUNT_<ENV>``, never from git."""
    for env_name, env in raw["environments"].items():
        from_context = overrides.get(f"account.{env_name}")
        from_environ = os.environ.get(f"RECORDS_ACCOUNT_{env_name.upper()}")
        account = from_context or from_environ
        if account:
            env["account"] = str(account)
    return raw


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    value = first.get("input")
    shown = "" if isinstance(value, (dict, list)) else f" (got {value!r})"
    if not where:  # a rule across the whole document: the message names what it compared
        return f"cdk.json: {first['msg']}"
    return f"cdk.json: {where}: {first['msg']}{shown}"


def parse_config(context: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> AppConfig:
    """Build the typed configuration from cdk.json's ``context`` block.

    :raise ConfigError: a key is missing or a value is malformed; the message names the key.
    """
    for key in ("project", "environments"):
        if key not in context:
            raise ConfigError(f"cdk.json: context.{key} is missing")
    raw = _apply_account_overrides(_with_names(context), overrides or {})
    try:
        return AppConfig.model_validate({"project": raw["project"], "environments": raw["environments"]})
    except ValidationError as error:
        raise ConfigError(_describe(error)) from None


def load_config(cdk_json: Path, overrides: Mapping[str, Any] | None = None) -> AppConfig:
    """Read and validate cdk.json.

    :raise ConfigError: the file is missing, not JSON, or its context is malformed.
    """
    try:
        document = json.loads(cdk_json.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{cdk_json}: not found; run from the repository root") from None
    except json.JSONDecodeError as error:
        raise ConfigError(f"{cdk_json}: not valid JSON at line {error.lineno}: {error.msg}") from None
    return parse_config(document.get("context") or {}, overrides)
