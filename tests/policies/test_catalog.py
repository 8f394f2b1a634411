from __future__ import annotations

from pathlib import Path

import pytest

from gates.checkov import custom_check_ids
from gates.load import judge
from load.profile import load_profile
from policies import catalog
from policies.catalog import Catalog, CatalogError, Control, derive, load_catalog, load_catalogs
from policies.conformance_packs import load_packs
from policies.nag_controls import NagSourceError, normalize, pack_rules, parse_pack, rule_controls, rule_targets
from policies.slo import load_slo
from reports.kpis import KPI_NAMES
from reports.sources import aws, cfnlint, image, resilience, sbom
from stacks.naming import DRIFT_RULE, ROTATION_RULE

ISSUE_CONTROLS = {
    "NIST.800.53.R5": ["CP-4", "CP-10", "SC-5", "AU-2", "AU-9", "SC-8", "SC-13", "SC-28", "IA-5", "CM-3"],
    "HIPAA.Security": ["164.308(a)(7)(i)", "164.308(a)(7)(ii)(B)", "164.312(a)(2)(iv)", "164.312(e)(1)"],
}
ROOT = Path(__file__).resolve().parents[2]


def test_the_catalogs_match_what_the_installed_cdk_nag_cites(capsys):
    assert catalog.main([]) == 0
    assert "PASS" in capsys.readouterr().out


def test_every_nag_rule_of_both_packs_maps_to_a_control():
    catalogs = load_catalogs()
    for pack, rules in rule_controls().items():
        mapped = {rule for control in catalogs[pack].controls for rule in control.nag}
        assert mapped == set(rules)


@pytest.mark.parametrize("pack", ISSUE_CONTROLS)
def test_the_controls_the_issue_names_have_evidence_beyond_nag(pack):
    controls = {c.id: c for c in load_catalogs()[pack].controls}
    for control_id in ISSUE_CONTROLS[pack]:
        assert controls[control_id].evidence, control_id


def _existing(synthesized) -> dict[str, set[str]]:
    """What each evidence source can report, read from the code that reports it (never a typed copy)."""
    slo = load_slo().for_env("dev")
    return {
        "checkov": set(custom_check_ids()),
        "aspect": {rule for rules in synthesized.result.rules.values() for rule in rules},
        "drill": {path.stem for path in (ROOT / "features").glob("*.feature")},
        "load": {metric.metric for metric in judge({}, load_profile("local"), slo).metrics},
        "cfn-lint": {cfnlint.RULE},
        # A reference matches the rules below it: resilience:budget covers budget.rto, budget.rpo...
        "resilience": {rule.split(".")[0] for rule in resilience.RULES},
        "image": {image.RULE},
        "sbom": {sbom.RULE},
        "config": {aws.RECORDER_RULE, ROTATION_RULE, DRIFT_RULE, *(pack.name for pack in load_packs())},
        "drift": {aws.STACK_RULE},
        "delivery": set(KPI_NAMES),
    }


def _unit_target_exists(rule: str) -> bool:
    target = ROOT.joinpath(*rule.split("."))
    return target.is_dir() or target.with_suffix(".py").is_file()


def _dangling(references: list[str], existing: dict[str, set[str]]) -> list[str]:
    """The references that name a source, check, drill, test or metric the code does not have."""
    return [reference for reference in references
            for source, _, rule in [reference.partition(":")]
            if not (_unit_target_exists(rule) if source == "unit" else rule in existing.get(source, ()))]


def test_evidence_references_name_checks_drills_tests_and_metrics_that_exist(synthesized):
    existing = _existing(synthesized)
    references = [reference for pack_catalog in load_catalogs().values() for control in pack_catalog.controls
                  for reference in control.evidence]
    assert {reference.partition(":")[0] for reference in references} == {*existing, "unit"}
    assert _dangling(references, existing) == []


def test_a_reference_to_something_deleted_is_caught(synthesized):
    existing = _existing(synthesized)
    present = ["aspect:Guard-Tags", "drill:failover", "load:p99_ms", "unit:tests.stacks.test_keys",
               f"cfn-lint:{cfnlint.RULE}", f"image:{image.RULE}", f"sbom:{sbom.RULE}"]
    deleted = ["aspect:Guard-Firewall", "drill:meteor_strike", "load:p42_ms", "unit:tests.stacks.test_mainframe",
               "checkov:CKV_RECORDS_999", "cfn-lint:E9999", "pentest:annual", "image:cves", "sbom:packages"]
    assert _dangling(present + deleted, existing) == deleted


def test_controls_without_evidence_are_gaps():
    gaps = {c.id for c in load_catalogs()["NIST.800.53.R5"].gaps()}
    assert "AT-2" in gaps and "CP-4" not in gaps


def test_drift_is_reported_and_rewritten(tmp_path, monkeypatch, capsys):
    path = tmp_path / "hipaa-security.yaml"
    current = catalog.CATALOG_FILES["HIPAA.Security"].read_text()
    path.write_text(current.replace("  - HIPAA.Security-RDSStorageEncrypted\n", "", 1))
    monkeypatch.setattr(catalog, "NAG_CATALOG_FILES", {"HIPAA.Security": path})
    assert catalog.main([]) == 1
    assert "run python -m policies.catalog --write" in capsys.readouterr().out
    assert catalog.main(["--write"]) == 0 and path.read_text() == current


def test_a_control_cdk_nag_newly_cites_needs_a_title():
    base = Catalog(framework="t", reference="r", nag_pack="NIST.800.53.R5", derived_from="x",
                   controls=(Control(id="SC-8", title="Transmission Confidentiality and Integrity"),))
    derived = derive(base, {"NIST.800.53.R5-New": ("SC-8(1)", "ZZ-99a")}, "9.9.9")
    new = [c for c in derived.controls if c.id == "ZZ-99"][0]
    assert new.title == "" and new.cited_as == ("ZZ-99a",) and derived.controls[0].cited_as == ("SC-8(1)",)
    with pytest.raises(ValueError, match="title"):
        Catalog.model_validate(derived.model_dump())


def test_pack_sources_without_control_ids_are_refused():
    source = "this.applyRule({ info: 'The bucket is open.', rule: s3_1.S3Open, node: node });"
    with pytest.raises(NagSourceError, match="no '\\(Control IDs"):
        parse_pack(source, "X")
    with pytest.raises(NagSourceError, match="no rules"):
        parse_pack("", "X")


def test_cited_ids_are_normalized():
    assert normalize(" 164.312(e)(1") == "164.312(e)(1)"
    source = """this.applyRule({ info: "It's open - (Control IDs: 164.312(a)(1), 164.312(e)(1)).", rule: s3_1.Open });"""
    (rule,) = parse_pack(source, "HIPAA.Security").values()
    assert (rule.id, rule.service, rule.controls) == ("HIPAA.Security-Open", "s3", ("164.312(a)(1)", "164.312(e)(1)"))
    assert rule.resource_type_prefixes == ("AWS::S3::",)


def test_rule_ids_follow_the_suffix_override_and_unknown_services_are_refused():
    source = "this.applyRule({ ruleSuffixOverride: 'EB1', info: 'No VPC.', rule: elasticbeanstalk_1.EBVpc });"
    assert list(parse_pack(source, "AwsSolutions", cites_controls=False)) == ["AwsSolutions-EB1"]
    with pytest.raises(NagSourceError, match="service folder 'bedrock'"):
        parse_pack("this.applyRule({ info: 'x - (Control ID: A-1).', rule: bedrock_1.Guard });", "X")


def test_every_pack_rule_is_placed_in_a_service():
    rules = pack_rules()
    assert {pack: len(r) for pack, r in rules.items()} == {"HIPAA.Security": 90, "NIST.800.53.R5": 85,
                                                          "AwsSolutions": 131}


@pytest.mark.parametrize("text, message", [
    ("framework: [", "not valid YAML"),
    ("framework: t\nreference: r\nnag_pack: p\nderived_from: d\ncontrols:\n- {id: A-1, title: Xyz, evidence: [bogus]}\n",
     "evidence 'bogus'"),
    ("framework: t\nreference: r\nnag_pack: p\nderived_from: d\ncontrols:\n- {id: A-1, title: One}\n"
     "- {id: A-1, title: Two}\n", "repeat"),
])
def test_malformed_catalogs_are_refused(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(CatalogError, match=message):
        load_catalog(path)
    with pytest.raises(CatalogError, match="not found"):
        load_catalog(tmp_path / "absent.yaml")


def test_soc2_criteria_rely_on_nist_controls_the_nist_catalog_holds(monkeypatch, tmp_path):
    catalogs = catalog.load_catalogs()
    criteria = catalogs[catalog.SOC2].controls
    assert len(criteria) == 38 and {c.id for c in criteria} >= {"CC1.1", "CC6.1", "CC8.1", "A1.3", "C1.2"}
    assert catalogs[catalog.SOC2].assessment_of(criteria[0]) == "procedural"
    assert {catalogs[catalog.SOC2].assessment_of(c) for c in criteria if c.id.startswith("CC7")} == {"hybrid"}
    broken = tmp_path / "soc2-tsc.yaml"
    broken.write_text(catalog.CATALOG_FILES[catalog.SOC2].read_text().replace("  - CP-4\n", "  - CP-404\n", 1))
    monkeypatch.setattr(catalog, "CATALOG_FILES", {**catalog.CATALOG_FILES, catalog.SOC2: broken})
    with pytest.raises(catalog.CatalogError, match=r"A1.3: relies_on names \['CP-404'\]"):
        catalog.load_catalogs()


def test_a_maximum_evidence_age_on_an_automated_control_is_refused():
    with pytest.raises(ValueError, match="control SC-28 is assessed automated: max_evidence_age_days applies only"):
        Catalog(framework="t", reference="r", nag_pack="NIST.800.53.R5", derived_from="x",
                controls=(Control(id="SC-28", title="Protection at Rest", max_evidence_age_days=90),))
    # An attested control may ask for less.
    Catalog(framework="t", reference="r", nag_pack="NIST.800.53.R5", derived_from="x",
            controls=(Control(id="AT-2", title="Training", max_evidence_age_days=90),))


def test_a_rule_covers_the_types_its_code_inspects_not_its_whole_service():
    security_groups = pack_rules()["AwsSolutions"]["AwsSolutions-EC23"]
    assert security_groups.targets == {"ec2::securitygroup", "ec2::securitygroupingress"}
    assert security_groups.covers("AWS::EC2::SecurityGroup")
    assert not security_groups.covers("AWS::EC2::SubnetRouteTableAssociation")  # same service, never inspected
    eks = rule_targets("if (node instanceof aws_eks_1.CfnCluster) {} else if (node.cfnResourceType === "
                       "'Custom::AWSCDK-EKS-Cluster') {}", "X-EKS")
    assert eks == {"eks::cluster", "custom::awscdk-eks-cluster"}


def test_a_rule_whose_code_names_no_resource_type_is_refused():
    with pytest.raises(NagSourceError, match="X-Odd: no resource type found in its code"):
        rule_targets("exports.default = (node) => NagRuleCompliance.NOT_APPLICABLE;", "X-Odd")
    source = "this.applyRule({ info: 'Open - (Control IDs: A-1).', rule: s3_1.Open });"
    with pytest.raises(NagSourceError, match="HIPAA.Security-Open: no resource type"):
        parse_pack(source, "HIPAA.Security", rule_source=lambda service, rule: "// nothing here")
