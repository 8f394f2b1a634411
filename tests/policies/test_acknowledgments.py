from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from policies.acknowledgments import MAX_TERM_DAYS, RegistryError, load_registry, parse_registry, path_matches
from tests.factories import acknowledgment_entry as entry

TODAY = dt.date(2026, 11, 23)


def test_the_project_registry_loads_and_is_current():
    registry = load_registry()
    assert registry.entries
    assert registry.problems(TODAY) == []
    assert len(registry.entries) <= 25


def test_every_entry_has_owner_reason_and_expiry():
    for item in load_registry().entries:
        assert item.owner and len(item.reason) >= 20 and item.expires > TODAY


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"rules": ["AwsSolutions-EC23"]}, "not namespaced"),
        ({"reason": "too short"}, "at least 20 characters"),
        ({"reason": "TODO explain why this is acceptable later"}, "vague"),
        ({"reason": "This finding is a false positive for our case"}, "vague"),
        ({"paths": []}, "at least 1 item"),
        ({"expires": "someday"}, "valid date"),
        ({"id": "Bad Id"}, "pattern"),
        ({"rules": ["Prowler::s3_bucket_default_encryption"]}, "names source 'Prowler'"),
        ({"rules": ["HIPAA.Security::NIST.800.53.R5-S3BucketLoggingEnabled"]}, "belongs to another pack"),
        ({"rules": ["checkov::CKV2_AWS_69"]}, "graph checks"),
        ({"rules": ["image::openssl"]}, "not a vulnerability id"),
        ({"rules": ["image::CVE-26-1"]}, "not a vulnerability id"),
        ({"paths": ["*"]}, "is a blanket wildcard"),
        ({"paths": ["*/Service-use1/Alb", "*/*/*"]}, "is a blanket wildcard"),
        ({"accepts": None}, "states how many findings it accepts per environment"),
        ({"accepts": 0}, "each must be at least 1"),
        ({"accepts": {"dev": 2, "prod": 0}}, "each must be at least 1"),
        ({"accepts": {}}, "each must be at least 1"),
        ({"rules": ["checkov::CKV_AWS_18"], "accepts": 1}, "this entry has no nag rules"),
        ({"environments": ["prod"], "accepts": {"dev": 1}}, "accepts names environments .'dev'. the entry does not apply to"),
        ({"rules": ["image::CVE-2026-12345", "AwsSolutions::AwsSolutions-EC23"]}, "not both"),
    ],
)
def test_malformed_entries_are_rejected_with_the_entry_named(overrides, message):
    with pytest.raises(RegistryError, match=message) as error:
        parse_registry([entry(**overrides)])
    assert "entry 0 ('" in str(error.value)


def test_image_entries_name_vulnerabilities_and_govern_no_constructs():
    registry = parse_registry([
        entry(id="zlib-overflow", rules=["image::CVE-2026-12345", "image::GHSA-jfh8-c2jp-5v3q"], paths=["zlib1g"]),
        entry(),
    ])
    image, template = registry.entries
    assert image.image_vulnerabilities == ("CVE-2026-12345", "GHSA-jfh8-c2jp-5v3q")
    assert (image.governs_constructs, image.nag_rules, image.checkov_checks) == (False, (), ())
    assert (template.governs_constructs, template.image_vulnerabilities) == (True, ())


def test_an_expired_image_entry_is_left_to_the_image_gate_but_the_review_term_still_applies():
    image = {"rules": ["image::CVE-2026-12345"], "paths": ["zlib1g"]}
    assert parse_registry([entry(**image, expires="2026-11-22")]).problems(TODAY) == []
    far = (TODAY + dt.timedelta(days=MAX_TERM_DAYS + 1)).isoformat()
    (problem,) = parse_registry([entry(**image, expires=far)]).problems(TODAY)
    assert "more than 400 days ahead" in problem


def test_duplicate_ids_are_rejected():
    with pytest.raises(RegistryError, match="repeat"):
        parse_registry([entry(), entry()])


def test_expired_entry_is_a_problem():
    registry = parse_registry([entry(expires="2026-11-22")])
    (problem,) = registry.problems(TODAY)
    assert problem.startswith("acknowledgment 'public-alb' expired on 2026-11-22 (owner platform-networking)")


def test_entry_may_not_run_past_the_review_term():
    far = TODAY + dt.timedelta(days=MAX_TERM_DAYS + 1)
    (problem,) = parse_registry([entry(expires=far.isoformat())]).problems(TODAY)
    assert "pick an earlier review date" in problem


def test_entry_can_be_limited_to_environments():
    (item,) = parse_registry([entry(environments=["prod"])]).entries
    assert item.applies_to("prod") and not item.applies_to("dev")


def test_registry_file_errors_are_clear(tmp_path: Path):
    with pytest.raises(RegistryError, match="not found"):
        load_registry(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- id: [unclosed\n")
    with pytest.raises(RegistryError, match="not valid YAML"):
        load_registry(bad)
    bad.write_text("id: not-a-list\n")
    with pytest.raises(RegistryError, match="expected a list"):
        load_registry(bad)


def test_nag_rules_and_checkov_checks_are_told_apart():
    registry = parse_registry([entry(rules=["AwsSolutions::AwsSolutions-S1", "checkov::CKV_AWS_18"])])
    (item,) = registry.entries
    assert item.nag_rules == ("AwsSolutions::AwsSolutions-S1",)
    assert item.checkov_checks == ("CKV_AWS_18",)


@pytest.mark.parametrize("pattern, path, matches", [
    ("*/Service-*/Alb/SecurityGroup/Resource", "dev/Service-use1/Alb/SecurityGroup/Resource", True),
    ("*/Service-*/Alb/SecurityGroup/Resource", "dev/Service-use1/Alb/SecurityGroup", False),
    ("*/Alb/SecurityGroup/Resource", "dev/Service-use1/Alb/SecurityGroup/Resource", False),  # * spans one id
    ("*/*/Alb", "dev/Service-use1/Alb", True),
    ("*/Service-use1", "dev/Service-use1/Alb", False),
    ("dev/Network-use?/Vpc", "dev/Network-use2/Vpc", True),
])
def test_path_globs_match_one_construct_id_per_segment(pattern, path, matches):
    # (A pattern of wildcards only is refused before it is matched: test_a_blanket_wildcard_path_is_refused.)
    assert path_matches(pattern, path) is matches
    (parsed,) = parse_registry([entry(paths=[pattern])]).entries
    assert parsed.matches(path) is matches


def test_accepts_is_one_number_for_every_environment_or_one_per_environment():
    (same, per_env) = parse_registry([entry(accepts=2), entry(id="other-entry", accepts={"prod": 3})]).entries
    assert same.accepted_in("dev") == same.accepted_in("prod") == 2
    assert per_env.accepted_in("prod") == 3 and per_env.accepted_in("dev") is None


def test_the_marker_names_entry_owner_and_review_date():
    (item,) = parse_registry([entry()]).entries
    assert item.marker == "[ack public-alb; owner platform-networking; review by 2027-03-01]"
