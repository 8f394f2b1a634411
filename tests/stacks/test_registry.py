from __future__ import annotations

import pytest
from aws_cdk.assertions import Match


@pytest.mark.parametrize("role", ["primary", "secondary"])
def test_repository_scans_on_push_is_immutable_and_kms_encrypted(synthesized, role):
    synthesized.template("prod", role, "registry").has_resource_properties(
        "AWS::ECR::Repository",
        {
            "RepositoryName": "records-service",
            "ImageScanningConfiguration": {"ScanOnPush": True},
            "ImageTagMutability": "IMMUTABLE",
            "EncryptionConfiguration": {"EncryptionType": "KMS", "KmsKey": Match.any_value()},
        },
    )


def test_lifecycle_keeps_the_configured_number_of_images(synthesized):
    repository = synthesized.template("prod", "primary", "registry").find_resources("AWS::ECR::Repository")
    (resource,) = repository.values()
    assert '"countNumber":50' in resource["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"]


def test_primary_replicates_to_the_secondary_region_exactly_once(synthesized):
    primary = synthesized.template("dev", "primary", "registry")
    primary.resource_count_is("AWS::ECR::ReplicationConfiguration", 1)
    primary.has_resource_properties(
        "AWS::ECR::ReplicationConfiguration",
        {
            "ReplicationConfiguration": {
                "Rules": [
                    {
                        "Destinations": [{"Region": "us-east-2", "RegistryId": "111111111111"}],
                        "RepositoryFilters": [{"Filter": "records-service", "FilterType": "PREFIX_MATCH"}],
                    }
                ]
            }
        },
    )


def test_secondary_defines_no_replication_of_its_own(synthesized):
    # A registry holds one replication configuration; a second definition would overwrite the first.
    synthesized.template("dev", "secondary", "registry").resource_count_is("AWS::ECR::ReplicationConfiguration", 0)


def test_secondary_repository_deploys_before_primary_replication(synthesized):
    stage = synthesized.stages["dev"]
    assert stage.secondary.registry in stage.primary.registry.dependencies
