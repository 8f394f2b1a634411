from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from stacks.config import CDK_JSON, ConfigError, load_config, parse_config

CONTEXT = json.loads(CDK_JSON.read_text())["context"]


def context_with(path: str, value) -> dict:
    """A copy of cdk.json's context with one dotted key replaced (``None`` deletes it)."""
    ctx = copy.deepcopy(CONTEXT)
    *parents, last = path.split(".")
    node = ctx
    for key in parents:
        node = node[key]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return ctx


def test_three_environments_over_two_regions(config):
    assert sorted(config.environments) == ["dev", "prod", "staging"]
    for env in config.environments.values():
        assert sorted(env.regions) == ["us-east-1", "us-east-2"]
        assert len(env.regions["us-east-1"].azs) >= 2
    assert len(config.environments["prod"].regions["us-east-1"].azs) == 3


def test_no_cidrs_overlap_anywhere(config):
    cidrs = [r.cidr for e in config.environments.values() for r in e.regions.values()]
    assert all(not a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1 :])


def test_selecting_one_environment(config):
    assert [e.name for e in config.selected("staging")] == ["staging"]
    assert len(config.selected(None)) == len(config.selected("all")) == 3


def test_unknown_environment_is_one_clear_line(config):
    with pytest.raises(ConfigError) as error:
        config.selected("qa")
    assert str(error.value) == "unknown environment 'qa'; expected one of ['dev', 'prod', 'staging'] or 'all'"


@pytest.mark.parametrize(
    "path, value, message",
    [
        ("environments.dev.regions.us-east-1.cidr", "10.10.0.0/33", "cdk.json: environments.dev.regions.us-east-1.cidr"),
        ("environments.dev.regions.us-east-1.cidr", "10.20.0.0/16", "overlaps"),
        ("environments.dev.regions.us-east-1.cidr", "10.10.0.0/24", "smaller than /20"),
        ("environments.dev.regions.us-east-1.azs", ["us-east-2a", "us-east-2b"], "not in region us-east-1"),
        ("environments.dev.regions.us-east-1.azs", ["us-east-1a"], "at least 2 items"),
        ("environments.dev.regions.us-east-1.azs", ["useast1a", "us-east-1b"], "not like 'us-east-1a'"),
        ("environments.prod.account", "12345", "account '12345' is not 12 digits"),
        ("environments.prod.log_retention_days", 100, "100 is not a retention CloudWatch accepts"),
        ("environments.prod.service.deployment_strategy", "ROLLING", "deployment_strategy"),
        ("environments.prod.service.min_count", 5, "min_count <= desired_count"),
        ("environments.prod.network.nat_gateways", 4, "exceeds the 3 AZs"),
        ("environments.prod.database.max_allocated_storage_gib", 10, "below allocated"),
        ("environments.staging.regions.us-east-2", None, "expected ['us-east-1', 'us-east-2']"),
        ("environments.staging.service.surprise", 1, "Extra inputs are not permitted"),
        ("project.tags.Owner", None, "project.tags lacks ['Owner']"),
        ("environments", None, "context.environments is missing"),
        ("environments.dev", "oops", "environments.dev is str"),
        ("environments", {}, "at least 1 item"),
        ("environments.prod.cache.nodes", 1, "production needs cache.nodes >= 2"),
        ("environments.prod.backup.vault_lock", False, "production needs backup.vault_lock: true"),
        ("environments.dev.cache.node_type", "t4g.micro", "cache.node_type"),
        ("environments.dev.backup.vault_lock_grace_days", 1, "greater than or equal to 3"),
        ("environments.dev.dns.health_check_interval_seconds", 20, "health_check_interval_seconds"),
        ("environments.dev.dns.hosted_zone_id", "not-a-zone", "hosted_zone_id"),
        ("project.cdn.allowed_countries", ["usa"], "not ISO 3166-1 alpha-2"),
        ("project.cdn", None, "project.cdn"),
        ("project.cdn.active_origin_secret", "c", "active_origin_secret"),
        ("environments.prod.operations.audit_retention_days", 180, "keeps audit logs at least 365 days"),
        ("environments.dev.operations.audit_retention_days", 30, "greater than or equal to 90"),
        ("environments.dev.operations.trace_sampling_percent", 120, "less than or equal to 100"),
        ("environments.dev.operations", None, "environments.dev.operations"),
        ("project.adot_image", "public.ecr.aws/aws-observability/aws-otel-collector:latest", "adot_image"),
        ("project.github.owner", "bad owner!", "project.github.owner"),
        ("project.github.owner_id", 123, "github.owner_id and github.repository_id go together"),
        ("environments.prod.operations.alert_emails", [], "production needs operations.alert_emails"),
        ("environments.dev.operations.alert_emails", ["not-an-address"], "are not email addresses"),
        ("environments.staging.account", "111111111111", "cdk.json: Value error, environments share accounts ['111111111111']"),
        ("environments.prod.backup.vault_lock_min_retention_days", 60, "below vault_lock_min_retention_days 60"),
        ("environments.prod.backup.retention_days", 30, "retention_days 30 / copy_retention_days 90 fall"),
    ],
)
def test_malformed_values_name_the_key(path, value, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        parse_config(context_with(path, value))


def test_account_override_from_context_or_environment(monkeypatch):
    assert parse_config(CONTEXT, {"account.prod": "999999999999"}).environments["prod"].account == "999999999999"
    monkeypatch.setenv("RECORDS_ACCOUNT_DEV", "888888888888")
    assert parse_config(CONTEXT).environments["dev"].account == "888888888888"


def test_bad_override_is_still_validated():
    with pytest.raises(ConfigError, match="not 12 digits"):
        parse_config(CONTEXT, {"account.prod": "prod-account"})


def test_missing_or_broken_cdk_json(tmp_path: Path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "cdk.json")
    broken = tmp_path / "cdk.json"
    broken.write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON at line 1"):
        load_config(broken)


def test_region_short_names(config):
    assert config.region(config.environments["dev"], "secondary").short_name == "use2"
