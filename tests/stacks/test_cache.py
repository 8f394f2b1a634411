"""The regional Valkey cache: encrypted, authenticated by a replicated secret, reachable only from the service."""

from __future__ import annotations

import pytest


def _group(synthesized, env, role):
    template = synthesized.template(env, role, "cache")
    (group,) = template.find_resources("AWS::ElastiCache::ReplicationGroup").values()
    return template, group["Properties"]


@pytest.mark.parametrize("role", ["primary", "secondary"])
def test_encrypted_at_rest_with_the_data_key_and_in_transit(synthesized, role):
    _, group = _group(synthesized, "staging", role)
    assert group["Engine"] == "valkey"
    assert group["AtRestEncryptionEnabled"] is True and "KmsKeyId" in group
    assert group["TransitEncryptionEnabled"] is True and group["TransitEncryptionMode"] == "required"
    assert group["Port"] == 6380


@pytest.mark.parametrize("env, nodes", [("dev", 2), ("prod", 3)])
def test_multi_az_automatic_failover_with_configured_nodes(synthesized, env, nodes):
    _, group = _group(synthesized, env, "primary")
    assert group["NumCacheClusters"] == nodes
    assert group["MultiAZEnabled"] is True and group["AutomaticFailoverEnabled"] is True


def test_auth_token_is_a_dynamic_reference_to_the_cache_secret_by_name(synthesized):
    for role in ("primary", "secondary"):
        _, group = _group(synthesized, "prod", role)
        # Resolved by CloudFormation in each region: the secondary resolves its local replica of the secret.
        assert group["AuthToken"] == "{{resolve:secretsmanager:records/prod/cache:SecretString:token::}}"


@pytest.mark.parametrize("secret_id, name, field", [("CacheAuthToken", "records/dev/cache", "token"),
                                                     ("OriginA", "records/dev/origin-a", "value"),
                                                     ("OriginB", "records/dev/origin-b", "value")])
def test_app_secrets_are_generated_once_and_replicated_to_the_secondary(synthesized, secret_id, name, field):
    template = synthesized.stage_template("dev", "app_secrets")
    secrets = template.find_resources("AWS::SecretsManager::Secret")
    assert len(secrets) == 3
    (resource,) = [r for k, r in secrets.items() if k.startswith(secret_id)]
    properties = resource["Properties"]
    assert properties["Name"] == name and "KmsKeyId" in properties
    assert properties["GenerateSecretString"]["GenerateStringKey"] == field
    assert properties["GenerateSecretString"]["ExcludePunctuation"] is True
    assert properties["GenerateSecretString"]["PasswordLength"] == 64
    assert properties["ReplicaRegions"] == [{"Region": "us-east-2", "KmsKeyId": "alias/records-dev-data"}]
    assert resource["DeletionPolicy"] == "Retain"


def test_everything_that_resolves_an_app_secret_deploys_after_it(synthesized):
    stage = synthesized.stages["dev"]
    for stack in (stage.primary.cache, stage.secondary.cache, stage.primary.service, stage.secondary.service,
                  stage.edge):
        assert stage.app_secrets in stack.dependencies, stack.stack_name
    assert stage.secondary.keys in stage.app_secrets.dependencies
    for role in ("primary", "secondary"):
        synthesized.template("dev", role, "cache").resource_count_is("AWS::SecretsManager::Secret", 0)


def test_cache_lives_in_the_isolated_data_tier(synthesized):
    template = synthesized.template("prod", "primary", "cache")
    (subnets,) = template.find_resources("AWS::ElastiCache::SubnetGroup").values()
    network = synthesized.stacks("prod", "primary").network
    data_outputs = {network.resolve(s.subnet_id)["Ref"]
                    for s in network.vpc.select_subnets(subnet_group_name="data").subnets}
    used = {ref["Fn::GetStackOutput"]["OutputName"] for ref in subnets["Properties"]["SubnetIds"]}
    assert len(used) == len(data_outputs) == 3
    assert all("dataSubnet" in name for name in used)


def test_only_the_service_client_group_reaches_the_cache_port(synthesized):
    template, group = _group(synthesized, "dev", "primary")
    ((cache_sg_id, cache_sg),) = [(k, v) for k, v in template.find_resources("AWS::EC2::SecurityGroup").items()
                                  if v["Properties"]["GroupDescription"] == "Valkey: service tasks only"]
    assert group["SecurityGroupIds"] == [{"Fn::GetAtt": [cache_sg_id, "GroupId"]}]
    assert "SecurityGroupIngress" not in cache_sg["Properties"]  # no inline (CIDR) rules
    (client_sg_id,) = [k for k, v in template.find_resources("AWS::EC2::SecurityGroup").items()
                       if v["Properties"]["GroupDescription"] == "Cache clients: the service tasks"]
    ingress = [r["Properties"] for r in template.find_resources("AWS::EC2::SecurityGroupIngress").values()
               if r["Properties"]["GroupId"] == {"Fn::GetAtt": [cache_sg_id, "GroupId"]}]
    (rule,) = ingress
    assert rule["SourceSecurityGroupId"] == {"Fn::GetAtt": [client_sg_id, "GroupId"]}
    assert (rule["FromPort"], rule["ToPort"], rule["IpProtocol"]) == (6380, 6380, "tcp")


def test_service_tasks_wear_the_client_group_and_know_where_the_cache_is(synthesized):
    template = synthesized.template("dev", "secondary", "service")
    (service,) = template.find_resources("AWS::ECS::Service").values()
    groups = service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"]
    reads = [g["Fn::GetStackOutput"] for g in groups if isinstance(g, dict) and "Fn::GetStackOutput" in g]
    assert [(r["StackName"], r["Region"]) for r in reads] == [("records-dev-cache-use2", "us-east-2")]
    assert "ClientSg" in reads[0]["OutputName"]
    # The load balancer's rule lands on the tasks' own group, never on the cache stack's.
    (own,) = [g["Fn::GetAtt"][0] for g in groups if "Fn::GetAtt" in g]
    rules = [r["Properties"] for r in template.find_resources("AWS::EC2::SecurityGroupIngress").values()
             if r["Properties"]["GroupId"] == {"Fn::GetAtt": [own, "GroupId"]}]
    assert [(r["FromPort"], "Alb" in r["SourceSecurityGroupId"]["Fn::GetAtt"][0]) for r in rules] == [(8080, True)]
    (task,) = template.find_resources("AWS::ECS::TaskDefinition").values()
    environment = {e["Name"]: e["Value"] for e in task["Properties"]["ContainerDefinitions"][0]["Environment"]}
    assert "PrimaryEndPoint" in str(environment["CACHE_HOST"])
    assert not any("TOKEN" in name for name in environment)


