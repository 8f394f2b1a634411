"""The AWS Distro for OpenTelemetry collector as a sidecar: the service sends OTLP to it on localhost, it batches
spans and exports them to X-Ray with the task role's permissions.

The collector's configuration is passed inline (``AOT_CONFIG_CONTENT``) rather than one of the image's built-in
files, so what it listens on (loopback only) and exports (traces to X-Ray, nothing else) is stated and tested here.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs

OTLP_HTTP_PORT = 4318
CONTAINER_NAME = "adot-collector"
COLLECTOR_MEMORY_MIB = 128
# The collector image's own unprivileged user ("aoc", uid 10001), stated so that no image change can make it root.
COLLECTOR_USER = "10001"
# The image's health probe, which asks the health_check extension below.
COLLECTOR_HEALTH_CHECK = ("/healthcheck",)
# X-Ray's write actions have no resource-level permissions: "*" is the only resource they accept (registry entry).
XRAY_WRITE_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")


@dataclass(frozen=True, kw_only=True)
class TracingProps:
    image: str
    sampling_percent: float  # the same number as the region's X-Ray sampling rule
    service_name: str  # OTel service.name: what the X-Ray sampling rule and group select


def collector_config() -> dict[str, object]:
    return {
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": f"127.0.0.1:{OTLP_HTTP_PORT}"}}}},
        "processors": {"batch/traces": {"timeout": "1s", "send_batch_size": 50}},
        "exporters": {"awsxray": {}},
        "extensions": {"health_check": {"endpoint": "127.0.0.1:13133"}},
        "service": {
            "extensions": ["health_check"],
            "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["batch/traces"], "exporters": ["awsxray"]}},
        },
    }


def service_environment(props: TracingProps) -> dict[str, str]:
    """What the service's OpenTelemetry SDK reads: where the collector is and how much to sample.

    X-Ray sampling rules bind X-Ray-aware samplers; the OTel SDK samples by trace-id ratio instead, so both get
    the same configured number.
    """
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{OTLP_HTTP_PORT}",
        "OTEL_SERVICE_NAME": props.service_name,
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": f"{props.sampling_percent / 100:g}",
    }


def add_collector(
    definition: ecs.FargateTaskDefinition, props: TracingProps, log_group: logs.ILogGroup
) -> ecs.ContainerDefinition:
    return definition.add_container(
        CONTAINER_NAME,
        image=ecs.ContainerImage.from_registry(props.image),
        essential=False,  # losing traces must not take the service down
        user=COLLECTOR_USER,
        readonly_root_filesystem=True,
        memory_reservation_mib=64,
        memory_limit_mib=COLLECTOR_MEMORY_MIB,
        health_check=ecs.HealthCheck(command=["CMD", *COLLECTOR_HEALTH_CHECK]),
        environment={"AOT_CONFIG_CONTENT": yaml.safe_dump(collector_config(), sort_keys=True)},
        logging=ecs.LogDrivers.aws_logs(stream_prefix="adot", log_group=log_group),
    )


def xray_write_statement() -> iam.PolicyStatement:
    return iam.PolicyStatement(actions=list(XRAY_WRITE_ACTIONS), resources=["*"])
