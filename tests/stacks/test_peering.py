"""Inter-region VPC peering: requested from the secondary, routed both ways for the private tiers only."""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from aws_cdk.assertions import Template

from stacks.network import APP_TIER, DATA_TIER, PUBLIC_TIER
from stacks.peer_routes import PeerRoutesProps


def _routes(template) -> list[dict]:
    return [r["Properties"] for r in template.find_resources("AWS::EC2::Route").values()
            if "VpcPeeringConnectionId" in r["Properties"]]


def _route_table_outputs(network, tier: str) -> set[str]:
    """The output names under which ``network`` publishes the route tables of ``tier`` (weak references)."""
    logical_ids = {network.resolve(s.route_table.route_table_id)["Ref"]
                   for s in network.vpc.select_subnets(subnet_group_name=tier).subnets}
    outputs = Template.from_stack(network).to_json().get("Outputs", {})
    return {name for name, output in outputs.items() if output["Value"].get("Ref") in logical_ids}


def test_connection_is_requested_from_the_secondary_vpc_to_the_primary_region(synthesized):
    (connection,) = synthesized.stage_template("prod", "peering").find_resources(
        "AWS::EC2::VPCPeeringConnection").values()
    properties = connection["Properties"]
    assert properties["PeerRegion"] == "us-east-1"
    assert properties["PeerOwnerId"] == "333333333333"
    # The primary VPC id crosses regions as a weak reference (no export lock, no custom resource).
    assert properties["PeerVpcId"]["Fn::GetStackOutput"]["StackName"] == "records-prod-network-use1"
    assert properties["PeerVpcId"]["Fn::GetStackOutput"]["Region"] == "us-east-1"


@pytest.mark.parametrize("env", ["dev", "prod"])
@pytest.mark.parametrize("side, unit", [("secondary", "peering"), ("primary", "peer_routes")])
def test_each_side_routes_its_private_tiers_to_the_peer_private_tiers_only(synthesized, env, side, unit):
    stage = synthesized.stages[env]
    local, peer = (stage.secondary, stage.primary) if side == "secondary" else (stage.primary, stage.secondary)
    routes = _routes(synthesized.stage_template(env, unit))
    destinations = {r["DestinationCidrBlock"] for r in routes}
    assert destinations == set(peer.network.private_cidrs)
    # No route is wider than the peer VPC, and none reaches the peer's public tier.
    peer_vpc = ip_network(peer.network.node.scope.env_config.regions[peer.network.region].cidr)
    peer_public = {ip_network(s.ipv4_cidr_block)
                   for s in peer.network.vpc.select_subnets(subnet_group_name=PUBLIC_TIER).subnets}
    for cidr in map(ip_network, destinations):
        assert cidr.subnet_of(peer_vpc) and cidr != peer_vpc
        assert not any(cidr.overlaps(public) for public in peer_public)
    # Every private route table of this side gets every peer subnet; public route tables get none.
    private_tables = _route_table_outputs(local.network, APP_TIER) | _route_table_outputs(local.network, DATA_TIER)
    assert len(private_tables) == 2 * len(local.network.availability_zones)  # app + data, one per AZ
    pairs = {(r["RouteTableId"]["Fn::GetStackOutput"]["OutputName"], r["DestinationCidrBlock"]) for r in routes}
    assert pairs == {(table, cidr) for table in private_tables for cidr in destinations}
    assert len(routes) == len(pairs)
    assert all(r["RouteTableId"]["Fn::GetStackOutput"]["Region"] == local.network.region for r in routes)


def test_primary_routes_use_the_connection_made_in_the_secondary(synthesized):
    routes = _routes(synthesized.stage_template("dev", "peer_routes"))
    ids = {str(r["VpcPeeringConnectionId"]["Fn::GetStackOutput"]) for r in routes}
    assert len(ids) == 1
    (connection,) = ids
    assert "records-dev-peering-use2" in connection and "us-east-2" in connection


def test_secondary_routes_use_its_own_connection(synthesized):
    template = synthesized.stage_template("dev", "peering")
    (connection_id,) = template.find_resources("AWS::EC2::VPCPeeringConnection")
    assert {str(r["VpcPeeringConnectionId"]) for r in _routes(template)} == {str({"Ref": connection_id})}


def test_peering_avoids_a_dependency_cycle_by_a_routes_stack_of_its_own(synthesized):
    stage = synthesized.stages["staging"]
    assert stage.peering in stage.peer_routes.dependencies
    assert stage.primary.network in stage.peering.dependencies
    assert stage.peer_routes not in stage.peering.dependencies


def test_peer_routes_need_the_peer_cidrs():
    with pytest.raises(ValueError, match="peer's subnet CIDRs"):
        PeerRoutesProps(vpc=None, peer_cidrs=[], peering_connection_id="pcx-1")  # type: ignore[arg-type]
