"""The AWS driver's calls, against moto where it implements the API and botocore's Stubber where it does not
(ECS service deployments). moto never evaluates health checks or shifts traffic, so these tests check which
calls are made with which arguments and how answers are read, not AWS's behaviour."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ops.aws_driver import AwsDriver, AwsTarget, RegionTarget
from ops.driver import DriverError

PRIMARY, SECONDARY = "us-east-1", "us-east-2"


@pytest.fixture
def aws(monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", PRIMARY)
    with mock_aws():
        yield boto3.Session(region_name=PRIMARY)


def _region(session: boto3.Session, region: str) -> RegionTarget:
    ec2, elbv2, ecs = (session.client(s, region_name=region) for s in ("ec2", "elbv2", "ecs"))
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{region}{z}")["Subnet"]
               ["SubnetId"] for i, z in enumerate("ab")]
    lb = elbv2.create_load_balancer(Name=f"alb-{region}", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    groups = {c: elbv2.create_target_group(Name=f"{c}-{region}", Protocol="HTTP", Port=8080, VpcId=vpc,
                                           TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
              for c in ("blue", "green")}
    listener = elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}])["Listeners"][0]["ListenerArn"]
    rule = elbv2.create_rule(ListenerArn=listener, Priority=1, Conditions=[
        {"Field": "path-pattern", "Values": ["/*"]}], Actions=[{"Type": "forward", "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": groups["blue"], "Weight": 100},
                             {"TargetGroupArn": groups["green"], "Weight": 0}]}}])["Rules"][0]["RuleArn"]
    ecs.create_cluster(clusterName="records")
    task = ecs.register_task_definition(family="records", containerDefinitions=[
        {"name": "web", "image": "111111111111.dkr.ecr.us-east-1.amazonaws.com/records-service:v1", "memory": 512},
        {"name": "otel", "image": "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3", "memory": 128}])
    ecs.create_service(cluster="records", serviceName="records", desiredCount=1,
                       taskDefinition=task["taskDefinition"]["taskDefinitionArn"],
                       loadBalancers=[{"targetGroupArn": groups["blue"], "containerName": "web",
                                       "containerPort": 8080}])
    health = session.client("route53").create_health_check(CallerReference=region, HealthCheckConfig={
        "Type": "HTTPS", "FullyQualifiedDomainName": f"{region}.example.com", "Port": 443,
        "ResourcePath": "/health"})["HealthCheck"]["Id"]
    return RegionTarget(region=region, cluster="records", service="records", container="web",
                        listener_rule_arn=rule, target_groups=groups, db_instance=f"records-dev-{region}",
                        health_check_id=health, url=f"https://{region}.example.com")


@pytest.fixture
def driver(aws) -> AwsDriver:
    target = AwsTarget(env="dev", url="https://example.com", primary=PRIMARY,
                       regions={r: _region(aws, r) for r in (PRIMARY, SECONDARY)})
    return AwsDriver(target, aws)


def test_status_reads_the_production_target_group_and_rule_weights(driver):
    status = driver.status().regions[PRIMARY]
    assert status.live_colour == "blue" and status.weights == {"blue": 100, "green": 0}
    assert status.healthy is False  # no registered target answers in moto: never assumed healthy


def test_traffic_is_ecs_native_on_aws_so_manual_shifts_are_refused(driver):
    with pytest.raises(DriverError, match="ECS-native deployments shift traffic"):
        driver.shift_traffic(PRIMARY, 10)
    with pytest.raises(DriverError, match="promote"):
        driver.promote(PRIMARY)


def test_deploy_registers_the_image_tag_and_updates_the_service(driver, aws):
    assert driver.deploy(PRIMARY, "v2") == "green"
    ecs = aws.client("ecs", region_name=PRIMARY)
    service = ecs.describe_services(cluster="records", services=["records"])["services"][0]
    containers = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"][
        "containerDefinitions"]
    images = {c["name"]: c["image"] for c in containers}
    assert images["web"] == "111111111111.dkr.ecr.us-east-1.amazonaws.com/records-service:v2"
    assert images["otel"].endswith(":v0.43.3")
    with pytest.raises(DriverError, match="lab fault"):
        driver.deploy(PRIMARY, "v3", healthy=False)


def test_failing_a_region_inverts_its_health_check_and_moves_the_active_region(driver, aws):
    assert driver.active_region() == PRIMARY
    driver.fail_region(PRIMARY)
    route53 = aws.client("route53")
    check = driver.target.regions[PRIMARY].health_check_id
    assert route53.get_health_check(HealthCheckId=check)["HealthCheck"]["HealthCheckConfig"]["Inverted"] is True
    assert driver.active_region() == SECONDARY
    driver.restore_region(PRIMARY)
    assert driver.active_region() == PRIMARY


def test_promote_replica_promotes_the_named_instance(driver, aws, monkeypatch):
    # moto accepts the call but keeps the replica linked, so the request itself is what is checked.
    rds = boto3.client("rds", region_name=SECONDARY)
    stubber = Stubber(rds)
    replica = f"records-dev-{SECONDARY}"
    stubber.add_response("promote_read_replica", {"DBInstance": {"DBInstanceIdentifier": replica}},
                         {"DBInstanceIdentifier": replica})
    real = driver._client
    monkeypatch.setattr(driver, "_client", lambda service, region: rds if service == "rds" else real(service, region))
    stubber.add_client_error("promote_read_replica", "InvalidDBInstanceState", "already a primary")
    with stubber:
        driver.promote_replica(SECONDARY)
        with pytest.raises(DriverError, match="promote_read_replica: .*already a primary"):
            driver.promote_replica(SECONDARY)
    stubber.assert_no_pending_responses()


def test_replica_lag_must_be_zero_in_the_latest_datapoint(driver, aws):
    assert driver.replica_caught_up(SECONDARY) is False  # no data is no evidence
    cloudwatch = aws.client("cloudwatch", region_name=SECONDARY)
    now = dt.datetime.now(dt.UTC)
    dimensions = [{"Name": "DBInstanceIdentifier", "Value": f"records-dev-{SECONDARY}"}]
    cloudwatch.put_metric_data(Namespace="AWS/RDS", MetricData=[
        {"MetricName": "ReplicaLag", "Dimensions": dimensions, "Timestamp": now - dt.timedelta(minutes=2),
         "Value": 4.0}])
    assert driver.replica_caught_up(SECONDARY) is False
    cloudwatch.put_metric_data(Namespace="AWS/RDS", MetricData=[
        {"MetricName": "ReplicaLag", "Dimensions": dimensions, "Timestamp": now - dt.timedelta(seconds=30),
         "Value": 0.0}])
    assert driver.replica_caught_up(SECONDARY) is True


def test_rollback_stops_the_deployment_in_progress(driver, monkeypatch):
    ecs = boto3.client("ecs", region_name=PRIMARY)
    stubber = Stubber(ecs)
    arn = "arn:aws:ecs:us-east-1:111111111111:service-deployment/records/records/abc"
    stubber.add_response("list_service_deployments", {"serviceDeployments": [{"serviceDeploymentArn": arn}],
                                                      "nextToken": "page-2"},
                         {"cluster": "records", "service": "records", "status": ["PENDING", "IN_PROGRESS"]})
    stubber.add_response("list_service_deployments", {"serviceDeployments": []},
                         {"cluster": "records", "service": "records", "status": ["PENDING", "IN_PROGRESS"],
                          "nextToken": "page-2"})
    stubber.add_response("stop_service_deployment", {"serviceDeploymentArn": arn},
                         {"serviceDeploymentArn": arn, "stopType": "ROLLBACK"})
    real = driver._client
    monkeypatch.setattr(driver, "_client", lambda service, region: ecs if service == "ecs" else real(service, region))
    with stubber:
        driver.rollback(PRIMARY)
    stubber.assert_no_pending_responses()


LISTED = {"cluster": "records", "service": "records"}


def _stubbed_ecs(driver, monkeypatch) -> Stubber:
    ecs = boto3.client("ecs", region_name=PRIMARY)
    real = driver._client
    monkeypatch.setattr(driver, "_client", lambda service, region: ecs if service == "ecs" else real(service, region))
    return Stubber(ecs)


def _completed_pair(stubber: Stubber, newest_goes_to: str) -> None:
    """Two completed deployments: 6 -> 7 (older), then 7 -> ``newest_goes_to``."""
    older, newer = "arn:dep/older", "arn:dep/newer"
    stubber.add_response("list_service_deployments", {"serviceDeployments": []},
                         {**LISTED, "status": ["PENDING", "IN_PROGRESS"]})
    stubber.add_response("list_service_deployments", {"serviceDeployments": [
        {"serviceDeploymentArn": newer, "createdAt": dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)},
        {"serviceDeploymentArn": older, "createdAt": dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)},
    ]}, {**LISTED, "status": ["SUCCESSFUL"]})
    stubber.add_response("describe_service_deployments", {"serviceDeployments": [
        {"serviceDeploymentArn": older, "sourceServiceRevisions": [{"arn": "arn:rev/6"}],
         "targetServiceRevision": {"arn": "arn:rev/7"}},
        {"serviceDeploymentArn": newer, "sourceServiceRevisions": [{"arn": "arn:rev/7"}],
         "targetServiceRevision": {"arn": f"arn:rev/{newest_goes_to}"}}]}, {"serviceDeploymentArns": [older, newer]})
    revisions = sorted({"arn:rev/6", "arn:rev/7", f"arn:rev/{newest_goes_to}"})
    # Revision 9 runs task definition 6 again: a deployment back to what the older one replaced.
    task = {"arn:rev/6": "records:6", "arn:rev/7": "records:7", "arn:rev/8": "records:8", "arn:rev/9": "records:6"}
    stubber.add_response("describe_service_revisions", {"serviceRevisions": [
        {"serviceRevisionArn": r, "taskDefinition": f"arn:task/{task[r]}"} for r in revisions]},
        {"serviceRevisionArns": revisions})


def test_rollback_after_a_completed_deployment_returns_to_the_revision_it_replaced(driver, monkeypatch):
    stubber = _stubbed_ecs(driver, monkeypatch)
    _completed_pair(stubber, newest_goes_to="8")
    stubber.add_response("update_service", {"service": {"serviceName": "records"}},
                         {**LISTED, "taskDefinition": "arn:task/records:7"})
    with stubber:
        driver.rollback(PRIMARY)
    stubber.assert_no_pending_responses()


def test_rollback_does_not_undo_a_rollback_that_already_ran(driver, monkeypatch):
    # 6 -> 7 was the bad release, 7 -> 9 (task definition 6) its rollback: a re-run must not return to 7.
    stubber = _stubbed_ecs(driver, monkeypatch)
    _completed_pair(stubber, newest_goes_to="9")
    with stubber:
        driver.rollback(PRIMARY)  # no update_service stubbed: calling it would fail the test
    stubber.assert_no_pending_responses()


def test_rollback_with_nothing_running_or_completed_is_refused(driver, monkeypatch):
    stubber = _stubbed_ecs(driver, monkeypatch)
    stubber.add_response("list_service_deployments", {"serviceDeployments": []},
                         {**LISTED, "status": ["PENDING", "IN_PROGRESS"]})
    stubber.add_response("list_service_deployments", {"serviceDeployments": []}, {**LISTED, "status": ["SUCCESSFUL"]})
    with stubber, pytest.raises(DriverError, match="nothing to roll back"):
        driver.rollback(PRIMARY)


def test_rollback_after_the_first_deployment_has_nothing_to_return_to(driver, monkeypatch):
    stubber = _stubbed_ecs(driver, monkeypatch)
    stubber.add_response("list_service_deployments", {"serviceDeployments": []},
                         {**LISTED, "status": ["PENDING", "IN_PROGRESS"]})
    stubber.add_response("list_service_deployments", {"serviceDeployments": [
        {"serviceDeploymentArn": "arn:dep/1", "createdAt": dt.datetime(2026, 11, 23, tzinfo=dt.UTC)}]},
        {**LISTED, "status": ["SUCCESSFUL"]})
    stubber.add_response("describe_service_deployments", {"serviceDeployments": [
        {"serviceDeploymentArn": "arn:dep/1", "sourceServiceRevisions": []}]}, {"serviceDeploymentArns": ["arn:dep/1"]})
    with stubber, pytest.raises(DriverError, match="first; nothing to roll back to"):
        driver.rollback(PRIMARY)


def test_the_target_is_resolved_from_the_stacks_resources(aws):
    session = boto3.Session(region_name=PRIMARY)
    clients = {}

    def client(service, region_name):
        return clients.setdefault((service, region_name), boto3.client(service, region_name=region_name))

    def resources(*rows):
        return {"StackResources": [{"ResourceType": t, "LogicalResourceId": logical, "PhysicalResourceId": p,
                                    "ResourceStatus": "CREATE_COMPLETE", "Timestamp": dt.datetime.now(dt.UTC)}
                                   for t, logical, p in rows]}

    service_rows = lambda short: resources(  # noqa: E731
        ("AWS::ECS::Cluster", "ClusterEB0386A7", f"records-{short}"),
        ("AWS::ECS::Service", "ServiceD69D759B", f"arn:svc/{short}"),
        ("AWS::ElasticLoadBalancingV2::ListenerRule", "ProductionRuleD96592E2", f"arn:rule/{short}"),
        ("AWS::ElasticLoadBalancingV2::TargetGroup", "Blue10BB7880", f"arn:tg/blue/{short}"),
        ("AWS::ElasticLoadBalancingV2::TargetGroup", "Green9DCBBC03", f"arn:tg/green/{short}"))
    edge = resources(("AWS::Route53::HealthCheck", "FailoverHealthuseast1C66D7F8B", "hc-1"),
                     ("AWS::Route53::HealthCheck", "FailoverHealthuseast2ABCDEF12", "hc-2"))
    # One stubbed client per region: the primary's answers come in call order.
    primary, secondary = Stubber(client("cloudformation", PRIMARY)), Stubber(client("cloudformation", SECONDARY))
    primary.add_response("describe_stack_resources", edge, {"StackName": "records-dev-edge-global"})
    primary.add_response("describe_stack_resources", service_rows("use1"), {"StackName": "records-dev-service-use1"})
    secondary.add_response("describe_stack_resources", service_rows("use2"), {"StackName": "records-dev-service-use2"})
    session.client = client  # type: ignore[method-assign]
    with primary, secondary:
        target = AwsTarget.resolve("dev", session)
    assert target.regions[PRIMARY].target_groups == {"blue": "arn:tg/blue/use1", "green": "arn:tg/green/use1"}
    assert target.regions[SECONDARY].health_check_id == "hc-2"
    assert target.regions[SECONDARY].db_instance == "records-dev-use2"
    assert target.url == "https://dev.records.example.com"


def test_a_missing_stack_is_a_driver_error(aws):
    with pytest.raises(DriverError, match="records-dev-edge-global"):
        AwsTarget.resolve("dev", boto3.Session(region_name=PRIMARY))
