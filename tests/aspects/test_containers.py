from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecs as ecs

from aspects.containers import LeastPrivilegeContainers, container_problems, root_user

judge = LeastPrivilegeContainers().judge
APP = {"name": "web", "essential": True, "user": "10001", "readonlyRootFilesystem": True, "memory": 896,
       "portMappings": [{"containerPort": 8080}], "healthCheck": {"command": ["CMD", "python", "-m", "probe"]}}
SIDECAR = {"name": "collector", "essential": False, "user": "10001:10001", "readonlyRootFilesystem": True,
           "memory": 128}


def _task(stack, *containers: dict) -> ecs.CfnTaskDefinition:
    return ecs.CfnTaskDefinition(stack, "Task", container_definitions=[
        ecs.CfnTaskDefinition.ContainerDefinitionProperty(
            name=c["name"], image="x", essential=c.get("essential"), user=c.get("user"),
            readonly_root_filesystem=c.get("readonlyRootFilesystem"), privileged=c.get("privileged"),
            memory=c.get("memory"),
            port_mappings=[ecs.CfnTaskDefinition.PortMappingProperty(container_port=p["containerPort"])
                           for p in c.get("portMappings", [])] or None,
            health_check=ecs.CfnTaskDefinition.HealthCheckProperty(command=c["healthCheck"]["command"])
            if "healthCheck" in c else None,
        ) for c in containers])


def test_least_privileged_app_and_sidecar_comply(stack):
    assert judge(_task(stack, APP, SIDECAR)) is None


@pytest.mark.parametrize("user, root", [("0", True), ("root", True), ("0:0", True), ("root:wheel", True), ("00", True),
                                        ("+0", True), (" root", True), ("ROOT", False),
                                        ("10001", False), ("app:app", False), ("1000:0", False)])
def test_root_is_the_user_part_of_uid_or_name(user, root):
    assert root_user(user) is root


@pytest.mark.parametrize("change, problem", [
    ({"user": None}, "sets no user, so it runs as the image's default (often root)"),
    ({"user": "0"}, "runs as root (user '0')"),
    ({"readonlyRootFilesystem": None}, "has a writable root filesystem (set readonlyRootFilesystem)"),
    ({"readonlyRootFilesystem": False}, "has a writable root filesystem (set readonlyRootFilesystem)"),
    ({"privileged": True}, "is privileged"),
    ({"memory": None}, "has no hard memory limit (memory)"),
    ({"healthCheck": None}, "has no container health check, and the task depends on it"),
])
def test_each_missing_property_is_named(change, problem):
    container = {key: value for key, value in {**APP, **change}.items() if value is not None}
    assert container_problems(container) == [problem]


def test_a_container_the_task_does_not_depend_on_may_go_without_a_health_check():
    assert container_problems(SIDECAR) == []
    assert container_problems({**SIDECAR, "portMappings": [{"containerPort": 4318}]}) == [
        "has no container health check, and the task depends on it"]
    assert "has no container health check" in container_problems({**SIDECAR, "essential": True})[0]


def test_the_finding_names_each_container(stack):
    assert judge(_task(stack, APP, {**SIDECAR, "privileged": True, "user": "root"})) == (
        "container 'collector' runs as root (user 'root'); container 'collector' is privileged")


def test_an_l2_container_without_the_properties_is_a_finding(stack):
    definition = ecs.FargateTaskDefinition(stack, "Fargate")
    definition.add_container("plain", image=ecs.ContainerImage.from_registry("nginx"))
    found = judge(definition.node.default_child)
    assert found.startswith("container 'plain' sets no user") and "no hard memory limit" in found


def test_a_task_without_containers_is_a_finding(stack):
    assert judge(ecs.CfnTaskDefinition(stack, "Empty", container_definitions=[])) == "defines no containers"


def test_computed_container_definitions_are_reported_not_passed(stack):
    task = ecs.CfnTaskDefinition(stack, "Computed", container_definitions=cdk.Token.as_any(
        cdk.Fn.split(",", cdk.CfnParameter(stack, "Names").value_as_string)))
    LeastPrivilegeContainers().visit(task)
    assert any("cannot judge container definitions" in e.data for e in task.node.metadata if e.type == "aws:cdk:error")


def test_other_resources_are_not_judged(stack):
    assert judge(ecs.CfnCluster(stack, "Cluster")) is None


def test_a_computed_container_is_reported_not_passed(stack):
    names = cdk.CfnParameter(stack, "Container").value_as_string
    task = ecs.CfnTaskDefinition(stack, "Task", container_definitions=[cdk.Token.as_any(names)])
    LeastPrivilegeContainers().visit(task)
    assert any("cannot judge container definition" in e.data for e in task.node.metadata if e.type == "aws:cdk:error")


def test_added_capabilities_are_a_finding():
    assert container_problems({**APP, "linuxParameters": {"capabilities": {"add": ["SYS_PTRACE"]}}}) == [
        "adds Linux capabilities ['SYS_PTRACE']"]
    assert container_problems({**APP, "linuxParameters": {"capabilities": {"drop": ["ALL"]}}}) == []


def test_a_computed_property_of_a_container_is_reported_not_passed(stack):
    task = _task(stack, {**APP, "user": cdk.CfnParameter(stack, "User").value_as_string})
    LeastPrivilegeContainers().visit(task)
    assert any("cannot judge user {'Ref': 'User'} of container 'web'" in e.data
               for e in task.node.metadata if e.type == "aws:cdk:error")
