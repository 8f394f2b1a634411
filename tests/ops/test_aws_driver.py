"""The AWS driver's calls, against moto where it implements the API and botocore's Stubber where it does not
(ECS service deployments). moto never evaluates health checks or shifts traffic, so these tests check which
calls are made with which arguments and how answers are read, not AWS's behaviour."""

from __future__ import annotations

import datetime as dt
import io
import json

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from ops import http_api
from ops.aws_driver import AwsDriver, AwsTarget, FlagTarget, RegionTarget
from ops.driver import DriverError

PRIMARY, SECONDARY = "us-east-1", "us-east-2"


@pytest.fixture
def aws(moto_aws):
    return moto_aws  # tests/conftest.py: a fresh moto account behind the run's one botocore session


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
                        health_check_id=health, url=f"https://{region}.example.com",
                        flags=FlagTarget(application=f"app-{region}", environment=f"env-{region}",
                                         profile=f"prof-{region}", immediate_strategy=f"now-{region}"))


@pytest.fixture
def driver(aws, monkeypatch) -> AwsDriver:
    # The global URL is CloudFront in real life; nothing here may leave the machine.
    monkeypatch.setattr(http_api, "region_serving", lambda url: PRIMARY)
    target = AwsTarget(env="dev", url="https://example.com", primary=PRIMARY,
                       regions={r: _region(aws, r) for r in (PRIMARY, SECONDARY)})
    return AwsDriver(target, aws)


def test_status_reads_the_production_target_group_and_rule_weights(driver):
    assert driver.status().active_region == PRIMARY
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


def test_verify_release_passes_only_when_every_region_runs_the_release(driver, monkeypatch, capsys):
    from ops import __main__ as ops_cli

    monkeypatch.setattr(AwsDriver, "for_environment", classmethod(lambda cls, env: driver))
    assert driver.running_image_tag(PRIMARY) == "v1"
    release = ["verify-release", "--env", "dev", "--region", PRIMARY, "--region", SECONDARY, "--image-tag"]
    assert ops_cli.main([*release, "v1"]) == 0
    assert "us-east-1, us-east-2 run v1" in capsys.readouterr().out
    driver.deploy(PRIMARY, "v2")
    assert ops_cli.main([*release, "v2"]) == 1  # us-east-2 still runs v1: not verified
    assert "us-east-2 runs v1, not v2" in capsys.readouterr().err


def test_failing_a_region_inverts_its_health_check_and_restoring_turns_it_back(driver, aws):
    route53 = aws.client("route53")
    check = driver.target.regions[PRIMARY].health_check_id

    def inverted() -> bool:
        return route53.get_health_check(HealthCheckId=check)["HealthCheck"]["HealthCheckConfig"]["Inverted"]

    driver.fail_region(PRIMARY)
    assert inverted() is True
    driver.restore_region(PRIMARY)
    assert inverted() is False


def test_the_active_region_is_the_one_answering_the_global_url(driver, monkeypatch):
    asked = []
    monkeypatch.setattr(http_api, "region_serving", lambda url: asked.append(url) or SECONDARY)
    assert driver.active_region() == SECONDARY and asked == [driver.target.url]


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


LISTED = {"cluster": "records", "service": "records",
          "status": ["PENDING", "IN_PROGRESS", "SUCCESSFUL", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS",
                     "ROLLBACK_SUCCESSFUL"]}
# Revision -> task definition; revision 9 runs task definition 6 again (a return to what 7 replaced).
TASK = {"arn:rev/6": "records:6", "arn:rev/7": "records:7", "arn:rev/8": "records:8", "arn:rev/9": "records:6"}


def _stubbed_ecs(driver, monkeypatch) -> Stubber:
    ecs = boto3.client("ecs", region_name=PRIMARY)
    real = driver._client
    monkeypatch.setattr(driver, "_client", lambda service, region: ecs if service == "ecs" else real(service, region))
    return Stubber(ecs)


def _history(stubber: Stubber, *deployments: tuple[str, str, str, str]) -> None:
    """(arn, status, source revision, target revision), oldest first; listed newest first over two pages, as the
    API may; described for the newest and the completed one before it."""
    brief = [{"serviceDeploymentArn": arn, "status": status,
              "createdAt": dt.datetime(2026, 11, 20 + i, tzinfo=dt.UTC)} for i, (arn, status, _, _) in
             enumerate(deployments)][::-1]
    stubber.add_response("list_service_deployments", {"serviceDeployments": brief[:1], "nextToken": "p2"}, LISTED)
    stubber.add_response("list_service_deployments", {"serviceDeployments": brief[1:]}, {**LISTED, "nextToken": "p2"})
    if deployments[-1][1].startswith("ROLLBACK"):
        return
    newest = deployments[-1]
    before = next((d for d in reversed(deployments[:-1]) if d[1] == "SUCCESSFUL"), None)
    described = [d for d in (before, newest) if d is not None]
    stubber.add_response("describe_service_deployments", {"serviceDeployments": [
        {"serviceDeploymentArn": arn, "sourceServiceRevisions": [{"arn": src}] if src else [],
         "targetServiceRevision": {"arn": dst}} for arn, _, src, dst in described]},
        {"serviceDeploymentArns": [d[0] for d in described]})
    if not newest[2]:
        return
    revisions = sorted({newest[2], newest[3], *([before[2]] if before and before[2] else [])})
    stubber.add_response("describe_service_revisions", {"serviceRevisions": [
        {"serviceRevisionArn": r, "taskDefinition": f"arn:task/{TASK[r]}"} for r in revisions]},
        {"serviceRevisionArns": revisions})


def test_rollback_stops_the_release_in_progress(driver, monkeypatch):
    stubber = _stubbed_ecs(driver, monkeypatch)
    _history(stubber, ("arn:dep/1", "SUCCESSFUL", "arn:rev/6", "arn:rev/7"), ("arn:dep/2", "IN_PROGRESS", "arn:rev/7",
                                                                                "arn:rev/8"))
    stubber.add_response("stop_service_deployment", {"serviceDeploymentArn": "arn:dep/2"},
                         {"serviceDeploymentArn": "arn:dep/2", "stopType": "ROLLBACK"})
    with stubber:
        assert driver.rollback(PRIMARY) == "us-east-1: stopped the running deployment with rollback"
    stubber.assert_no_pending_responses()


def test_rollback_after_a_completed_release_returns_to_the_revision_it_replaced(driver, monkeypatch):
    stubber = _stubbed_ecs(driver, monkeypatch)
    _history(stubber, ("arn:dep/1", "SUCCESSFUL", "arn:rev/6", "arn:rev/7"), ("arn:dep/2", "SUCCESSFUL", "arn:rev/7",
                                                                                "arn:rev/8"))
    stubber.add_response("update_service", {"service": {"serviceName": "records"}},
                         {"cluster": "records", "service": "records", "taskDefinition": "arn:task/records:7"})
    with stubber:
        assert driver.rollback(PRIMARY) == "us-east-1: started a deployment back to arn:task/records:7"
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize("status", ["SUCCESSFUL", "IN_PROGRESS"])
def test_rollback_never_undoes_a_rollback_that_ran_or_is_running(driver, monkeypatch, status):
    # 6 -> 7 was the bad release, 7 -> 9 (task definition 6) its rollback: a re-run must not return to 7.
    stubber = _stubbed_ecs(driver, monkeypatch)
    _history(stubber, ("arn:dep/1", "SUCCESSFUL", "arn:rev/6", "arn:rev/7"), ("arn:dep/2", status, "arn:rev/7",
                                                                                "arn:rev/9"))
    with stubber:  # neither update_service nor stop_service_deployment is stubbed: calling one fails the test
        assert "already returns to arn:task/records:6" in driver.rollback(PRIMARY)
    stubber.assert_no_pending_responses()


def test_rollback_after_ecs_rolled_the_release_back_does_nothing(driver, monkeypatch):
    stubber = _stubbed_ecs(driver, monkeypatch)
    _history(stubber, ("arn:dep/1", "SUCCESSFUL", "arn:rev/6", "arn:rev/7"), ("arn:dep/2", "ROLLBACK_SUCCESSFUL",
                                                                                "arn:rev/7", "arn:rev/8"))
    with stubber:
        assert "ECS already rolled the newest deployment back" in driver.rollback(PRIMARY)
    stubber.assert_no_pending_responses()


def test_rollback_without_any_deployment_or_after_the_first_is_refused(driver, monkeypatch):
    stubber = _stubbed_ecs(driver, monkeypatch)
    stubber.add_response("list_service_deployments", {"serviceDeployments": []}, LISTED)
    with stubber, pytest.raises(DriverError, match="no deployment; nothing to roll back"):
        driver.rollback(PRIMARY)
    _history(stubber, ("arn:dep/1", "SUCCESSFUL", "", "arn:rev/6"))
    with stubber, pytest.raises(DriverError, match="first; nothing to roll back to"):
        driver.rollback(PRIMARY)
    stubber.assert_no_pending_responses()


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
        ("AWS::ElasticLoadBalancingV2::TargetGroup", "Green9DCBBC03", f"arn:tg/green/{short}"),
        ("AWS::AppConfig::Application", "FeatureFlagsApplication1A2B3C4D", f"app-{short}"),
        ("AWS::AppConfig::Environment", "FeatureFlagsEnvironment1A2B3C4D", f"env-{short}"),
        ("AWS::AppConfig::ConfigurationProfile", "FeatureFlagsFlagsConfigurationProfile1A2B", f"prof-{short}"),
        ("AWS::AppConfig::DeploymentStrategy", "FeatureFlagsGradual1A2B3C4D", f"slow-{short}"),
        ("AWS::AppConfig::DeploymentStrategy", "FeatureFlagsImmediate1A2B3C4D", f"now-{short}"))
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
    assert target.regions[SECONDARY].flags == FlagTarget(application="app-use2", environment="env-use2",
                                                         profile="prof-use2", immediate_strategy="now-use2")
    assert target.url == "https://dev.records.example.com"


def test_a_missing_stack_is_a_driver_error(aws):
    with pytest.raises(DriverError, match="records-dev-edge-global"):
        AwsTarget.resolve("dev", boto3.Session(region_name=PRIMARY))


SOURCE = f"records-dev-{PRIMARY}"
LATEST = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)
EARLIEST = LATEST - dt.timedelta(days=7)
WINDOW = {"DBInstanceAutomatedBackups": [{"DbiResourceId": "db-ABCDEFGHIJKL",
                                          "RestoreWindow": {"EarliestTime": EARLIEST, "LatestTime": LATEST}}]}
SOURCE_INSTANCE = {
    "DBInstanceIdentifier": SOURCE, "DBInstanceClass": "db.t4g.medium", "BackupRetentionPeriod": 7,
    "LatestRestorableTime": LATEST, "DbiResourceId": "db-ABCDEFGHIJKL", "DBSubnetGroup": {"DBSubnetGroupName": "records-data"},
    "VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-0123456789abcdef0", "Status": "active"}],
    "DBParameterGroups": [{"DBParameterGroupName": "records-pg17"}], "IAMDatabaseAuthenticationEnabled": True,
    "TagList": [{"Key": "DataClassification", "Value": "phi"}, {"Key": "aws:cloudformation:stack-name",
                                                                "Value": "records-dev-data-use1"}],
}


def _stubbed_rds(driver, monkeypatch) -> Stubber:
    rds = boto3.client("rds", region_name=PRIMARY)
    real = driver._client
    monkeypatch.setattr(driver, "_client", lambda service, region: rds if service == "rds" else real(service, region))
    driver.restore_poll_s, driver.restore_max_attempts = 0, 1
    return Stubber(rds)


def test_restore_creates_a_private_instance_like_its_source_at_the_time_asked(driver, monkeypatch):
    stubber = _stubbed_rds(driver, monkeypatch)
    to_time = LATEST - dt.timedelta(minutes=30)
    stubber.add_response("describe_db_instances", {"DBInstances": [SOURCE_INSTANCE]},
                         {"DBInstanceIdentifier": SOURCE})
    stubber.add_response("describe_db_instance_automated_backups", WINDOW, {"DbiResourceId": "db-ABCDEFGHIJKL"})
    stubber.add_response("restore_db_instance_to_point_in_time", {"DBInstance": {"DBInstanceIdentifier": "r1"}}, {
        "SourceDBInstanceIdentifier": SOURCE, "TargetDBInstanceIdentifier": "r1", "RestoreTime": to_time,
        "DBInstanceClass": "db.t4g.medium", "DBSubnetGroupName": "records-data",
        "VpcSecurityGroupIds": ["sg-0123456789abcdef0"], "DBParameterGroupName": "records-pg17",
        "EnableIAMDatabaseAuthentication": True, "PubliclyAccessible": False, "MultiAZ": False,
        "DeletionProtection": False, "CopyTagsToSnapshot": True,
        "Tags": [{"Key": "DataClassification", "Value": "phi"},
                 {"Key": "Purpose", "Value": f"point-in-time restore of {SOURCE}"},
                 {"Key": "RestoredTo", "Value": to_time.isoformat()}]})
    available = {"DBInstances": [{"DBInstanceIdentifier": "r1", "DBInstanceStatus": "available",
                                  "Endpoint": {"Address": "r1.abc.us-east-1.rds.amazonaws.com", "Port": 5433}}]}
    stubber.add_response("describe_db_instances", available, {"DBInstanceIdentifier": "r1"})  # the waiter
    stubber.add_response("describe_db_instances", available, {"DBInstanceIdentifier": "r1"})
    with stubber:
        restored = driver.restore_database(PRIMARY, to_time, "r1")
    stubber.assert_no_pending_responses()
    assert (restored.name, restored.endpoint, restored.restored_to) == (
        "r1", "r1.abc.us-east-1.rds.amazonaws.com:5433", to_time)


@pytest.mark.parametrize(("source", "message"), [
    (SOURCE_INSTANCE, "can be restored up to 2026-12-05T12:00:00\\+00:00, not 2026-12-05T12:01:00\\+00:00"),
    ({**SOURCE_INSTANCE, "BackupRetentionPeriod": 0}, "keeps no automated backups"),
])
def test_a_time_the_backups_do_not_cover_is_refused_before_any_restore(driver, monkeypatch, source, message):
    stubber = _stubbed_rds(driver, monkeypatch)
    stubber.add_response("describe_db_instances", {"DBInstances": [source]}, {"DBInstanceIdentifier": SOURCE})
    with stubber, pytest.raises(DriverError, match=message):
        driver.restore_database(PRIMARY, LATEST + dt.timedelta(minutes=1), "r1")
    stubber.assert_no_pending_responses()  # and nothing else was called: no restore was started
    with pytest.raises(DriverError, match="has no time zone; give it in UTC"):
        driver.restore_database(PRIMARY, LATEST.replace(tzinfo=None), "r1")


@pytest.mark.parametrize(("window", "message"), [
    (WINDOW, "automated backups cover from 2026-11-28T12:00:00\\+00:00, not 2026-11-27T12:00:00\\+00:00"),
    ({"DBInstanceAutomatedBackups": []}, "automated backups cover no restore window"),
])
def test_a_time_before_the_restore_window_points_to_the_backup_vaults(driver, monkeypatch, window, message):
    stubber = _stubbed_rds(driver, monkeypatch)
    stubber.add_response("describe_db_instances", {"DBInstances": [SOURCE_INSTANCE]}, {"DBInstanceIdentifier": SOURCE})
    stubber.add_response("describe_db_instance_automated_backups", window, {"DbiResourceId": "db-ABCDEFGHIJKL"})
    with stubber, pytest.raises(DriverError, match=message + ".*restore from an AWS Backup recovery point"):
        driver.restore_database(PRIMARY, EARLIEST - dt.timedelta(days=1), "r1")
    stubber.assert_no_pending_responses()


def test_a_refused_restore_and_one_that_never_becomes_available_name_what_failed(driver, monkeypatch):
    stubber = _stubbed_rds(driver, monkeypatch)
    stubber.add_response("describe_db_instances", {"DBInstances": [SOURCE_INSTANCE]}, {"DBInstanceIdentifier": SOURCE})
    stubber.add_response("describe_db_instance_automated_backups", WINDOW)
    stubber.add_client_error("restore_db_instance_to_point_in_time", "DBInstanceAlreadyExists", "r1 exists")
    stubber.add_response("describe_db_instances", {"DBInstances": [SOURCE_INSTANCE]}, {"DBInstanceIdentifier": SOURCE})
    stubber.add_response("describe_db_instance_automated_backups", WINDOW)
    stubber.add_response("restore_db_instance_to_point_in_time", {"DBInstance": {"DBInstanceIdentifier": "r2"}})
    stubber.add_response("describe_db_instances", {"DBInstances": [
        {"DBInstanceIdentifier": "r2", "DBInstanceStatus": "creating"}]}, {"DBInstanceIdentifier": "r2"})
    with stubber:
        with pytest.raises(DriverError, match="restore_db_instance_to_point_in_time: .*r1 exists"):
            driver.restore_database(PRIMARY, LATEST, "r1")
        with pytest.raises(DriverError, match="us-east-1: r2 did not become available"):
            driver.restore_database(PRIMARY, LATEST, "r2")


def _stubbed_appconfig(driver, monkeypatch) -> dict[str, Stubber]:
    clients = {region: boto3.client("appconfig", region_name=region) for region in (PRIMARY, SECONDARY)}
    real = driver._client
    monkeypatch.setattr(driver, "_client",
                        lambda service, region: clients[region] if service == "appconfig" else real(service, region))
    monkeypatch.setattr(driver, "flag_poll_s", 0)
    return {region: Stubber(client) for region, client in clients.items()}


def _body(document) -> StreamingBody:
    raw = json.dumps(document).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


def _deployed(stubber, region, *, deployments, content=None):
    """What the environment shows: ``deployments`` newest first as (number, profile, state, version)."""
    ids = {"ApplicationId": f"app-{region}", "EnvironmentId": f"env-{region}"}
    stubber.add_response("list_deployments", {"Items": [
        {"DeploymentNumber": n, "ConfigurationProfileId": p, "State": st, "ConfigurationVersion": v,
         "ConfigurationName": "flags"} for n, p, st, v in deployments]}, ids)
    if content is not None:
        version = next(int(v) for _, p, st, v in deployments if st == "COMPLETE" and p == f"prof-{region}")
        stubber.add_response("get_hosted_configuration_version", {"Content": _body(content)},
                             {"ApplicationId": f"app-{region}", "ConfigurationProfileId": f"prof-{region}",
                              "VersionNumber": version})


def _deploys(stubber, region, written, *, states=("DEPLOYING", "COMPLETE"), version=8):
    ids = {"ApplicationId": f"app-{region}", "ConfigurationProfileId": f"prof-{region}"}
    stubber.add_response("create_hosted_configuration_version", {"VersionNumber": version, **ids},
                         {**ids, "Content": json.dumps(written).encode(), "ContentType": "application/json",
                          "Description": ANY})
    stubber.add_response("start_deployment", {"DeploymentNumber": 5},
                         {**ids, "EnvironmentId": f"env-{region}", "DeploymentStrategyId": f"now-{region}",
                          "ConfigurationVersion": str(version), "Description": ANY})
    for state in states:
        stubber.add_response("get_deployment", {"State": state}, {"ApplicationId": f"app-{region}",
                                                                   "EnvironmentId": f"env-{region}",
                                                                   "DeploymentNumber": 5})


def test_read_only_is_deployed_at_once_in_every_region_keeping_the_other_flags(driver, monkeypatch):
    stubbers = _stubbed_appconfig(driver, monkeypatch)
    latency = {"read_only": {"enabled": False}, "inject_latency": {"enabled": True, "ms": 300}}
    # The newest deployment is of another profile, the one before it rolled back: version 7 is what runs.
    _deployed(stubbers[PRIMARY], PRIMARY, content=latency, deployments=[
        (9, "other-profile", "COMPLETE", "1"), (8, f"prof-{PRIMARY}", "ROLLED_BACK", "8"),
        (7, f"prof-{PRIMARY}", "COMPLETE", "7")])
    _deploys(stubbers[PRIMARY], PRIMARY, {**latency, "read_only": {"enabled": True}})
    _deployed(stubbers[SECONDARY], SECONDARY, deployments=[])  # nothing deployed yet: the defaults
    _deploys(stubbers[SECONDARY], SECONDARY, {"read_only": {"enabled": True},
                                              "inject_latency": {"enabled": False, "ms": 0}})
    with stubbers[PRIMARY], stubbers[SECONDARY]:
        driver.set_read_only(True)
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize("state", ["ROLLED_BACK", "ROLLING_BACK"])
def test_a_flag_deployment_that_rolls_back_is_a_driver_error(driver, monkeypatch, state):
    stubbers = _stubbed_appconfig(driver, monkeypatch)
    _deployed(stubbers[PRIMARY], PRIMARY, deployments=[])
    _deploys(stubbers[PRIMARY], PRIMARY, {"read_only": {"enabled": False},
                                          "inject_latency": {"enabled": False, "ms": 0}}, states=(state,))
    with stubbers[PRIMARY], pytest.raises(DriverError, match=f"us-east-1: AppConfig deployment 5 .* was {state}"):
        driver.set_read_only(False)


def test_the_read_only_command_says_why_it_failed_and_exits_1(driver, monkeypatch, capsys):
    from ops import __main__ as ops_cli

    stubbers = _stubbed_appconfig(driver, monkeypatch)
    monkeypatch.setattr(AwsDriver, "for_environment", classmethod(lambda cls, env: driver))
    stubbers[PRIMARY].add_client_error("list_deployments", "AccessDeniedException", "not allowed")
    with stubbers[PRIMARY]:
        assert ops_cli.main(["read-only", "on", "--target", "aws", "--env", "dev"]) == 1
    assert "read-only on failed: list_deployments: " in capsys.readouterr().err


def test_a_flag_deployment_that_never_completes_times_out(driver, monkeypatch):
    stubbers = _stubbed_appconfig(driver, monkeypatch)
    monkeypatch.setattr(driver, "flag_timeout_s", -1)
    _deployed(stubbers[PRIMARY], PRIMARY, deployments=[])
    _deploys(stubbers[PRIMARY], PRIMARY, {"read_only": {"enabled": True},
                                          "inject_latency": {"enabled": False, "ms": 0}}, states=("BAKING",))
    with stubbers[PRIMARY], pytest.raises(DriverError, match="still BAKING"):
        driver.set_read_only(True)


def test_an_unreadable_deployed_version_is_refused_before_anything_is_written(driver, monkeypatch):
    stubbers = _stubbed_appconfig(driver, monkeypatch)
    _deployed(stubbers[PRIMARY], PRIMARY, content=["not", "flags"],
              deployments=[(3, f"prof-{PRIMARY}", "COMPLETE", "3")])
    with stubbers[PRIMARY], pytest.raises(DriverError, match="version 3 is unreadable"):
        driver.set_read_only(True)
    stubbers[PRIMARY].assert_no_pending_responses()


EVERY_STATUS = {"cluster": "records", "service": "records", "status": [
    "PENDING", "IN_PROGRESS", "SUCCESSFUL", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL",
    "STOP_REQUESTED", "STOPPED", "ROLLBACK_FAILED"]}


def _release_history(stubber, newest_status, image):
    stubber.add_response("list_service_deployments", {"serviceDeployments": [
        {"serviceDeploymentArn": "arn:dep/1", "status": "SUCCESSFUL", "createdAt": dt.datetime(2026, 12, 1, tzinfo=dt.UTC)},
        {"serviceDeploymentArn": "arn:dep/2", "status": newest_status,
         "createdAt": dt.datetime(2026, 12, 5, tzinfo=dt.UTC)}]}, EVERY_STATUS)
    stubber.add_response("describe_service_deployments", {"serviceDeployments": [
        {"serviceDeploymentArn": "arn:dep/2", "targetServiceRevision": {"arn": "arn:rev/8"}}]},
        {"serviceDeploymentArns": ["arn:dep/2"]})
    stubber.add_response("describe_service_revisions", {"serviceRevisions": [
        {"serviceRevisionArn": "arn:rev/8", "taskDefinition": "arn:task/records:8"}]},
        {"serviceRevisionArns": ["arn:rev/8"]})
    stubber.add_response("describe_task_definition", {"taskDefinition": {"containerDefinitions": [
        {"name": "otel", "image": "collector:v1"}, {"name": "web", "image": image}]}},
        {"taskDefinition": "arn:task/records:8"})


@pytest.mark.parametrize(("image", "found"), [
    ("111111111111.dkr.ecr.us-east-1.amazonaws.com/records-service:abc123", ("arn:dep/2", "IN_PROGRESS")),
    ("111111111111.dkr.ecr.us-east-1.amazonaws.com/records-service:abc123@sha256:00", ("arn:dep/2", "IN_PROGRESS")),
    ("111111111111.dkr.ecr.us-east-1.amazonaws.com/records-service:older", None),  # the release has not started
])
def test_the_release_deployment_is_the_newest_one_rolling_out_its_image_tag(driver, monkeypatch, image, found):
    stubber = _stubbed_ecs(driver, monkeypatch)
    _release_history(stubber, "IN_PROGRESS", image)
    with stubber:
        assert driver.release_deployment(PRIMARY, "abc123") == found
    stubber.assert_no_pending_responses()


def test_no_deployment_at_all_is_no_release_deployment(driver, monkeypatch):
    stubber = _stubbed_ecs(driver, monkeypatch)
    stubber.add_response("list_service_deployments", {"serviceDeployments": []}, EVERY_STATUS)
    with stubber:
        assert driver.release_deployment(PRIMARY, "abc123") is None


def test_a_flag_set_in_one_region_only_says_where_it_changed(driver, monkeypatch):
    stubbers = _stubbed_appconfig(driver, monkeypatch)
    _deployed(stubbers[PRIMARY], PRIMARY, deployments=[])
    _deploys(stubbers[PRIMARY], PRIMARY, {"read_only": {"enabled": True}, "inject_latency": {"enabled": False, "ms": 0}})
    stubbers[SECONDARY].add_client_error("list_deployments", "AccessDeniedException", "not allowed")
    with stubbers[PRIMARY], stubbers[SECONDARY], pytest.raises(
            DriverError, match="not allowed; whether it changed in us-east-2 is unknown; read_only is already on in us-east-1$"):
        driver.set_read_only(True)


def test_an_answer_without_the_release_deployments_parts_is_a_driver_error(driver, monkeypatch):
    stubber = _stubbed_ecs(driver, monkeypatch)
    stubber.add_response("list_service_deployments", {"serviceDeployments": [
        {"serviceDeploymentArn": "arn:dep/2", "status": "IN_PROGRESS",
         "createdAt": dt.datetime(2026, 12, 5, tzinfo=dt.UTC)}]}, EVERY_STATUS)
    stubber.add_response("describe_service_deployments", {"serviceDeployments": []},
                         {"serviceDeploymentArns": ["arn:dep/2"]})
    with stubber, pytest.raises(DriverError, match="arn:dep/2 names no target revision"):
        driver.release_deployment(PRIMARY, "abc123")


@pytest.mark.parametrize(("pages", "settled"), [(1, True), (5, False)])
def test_a_rollback_has_settled_when_no_deployment_runs_or_rolls_back(driver, monkeypatch, pages, settled):
    stubber = _stubbed_ecs(driver, monkeypatch)
    monkeypatch.setattr(driver, "settle_poll_s", 0)
    running = {"cluster": "records", "service": "records", "status": [
        "PENDING", "IN_PROGRESS", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "STOP_REQUESTED"]}
    for _ in range(pages):
        stubber.add_response("list_service_deployments", {"serviceDeployments": [
            {"serviceDeploymentArn": "arn:dep/3", "status": "ROLLBACK_IN_PROGRESS",
             "createdAt": dt.datetime(2026, 12, 5, tzinfo=dt.UTC)}]}, running)
    stubber.add_response("list_service_deployments", {"serviceDeployments": []}, running)
    ticks = iter(range(0, 10_000, 100))
    monkeypatch.setattr("ops.aws_driver.time.monotonic", lambda: next(ticks))
    with stubber:
        assert driver.wait_settled(PRIMARY, timeout_s=250) is settled
