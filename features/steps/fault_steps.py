"""Steps for the faults beyond a region loss (an app server, the database, the cache, replication) and for the
point-in-time restore. The faults are injected on the lab only: the features that use these steps are
``@lab_only`` or promote the lab's standby."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from features.steps.drill_steps import eventually, missing_writes, record
from load.game_day import p95
from ops import http_api
from ops.driver import Driver, RestoredDatabase
from ops.lab.driver import LabDriver
from ops.lab.haproxy import LOSS_DETECTED_S
from ops.traffic import Traffic, Writer
from policies.slo import ServiceLevelObjectives

# How long the steps keep watching after a fault: past every health-check window, with traffic still running.
OBSERVE_S = 2.0
RESTORE_WRITES = 10


def lab(driver: Driver) -> LabDriver:
    """The driver as the lab's: these steps inject faults only the lab can (the feature is tagged for it)."""
    if not isinstance(driver, LabDriver):
        raise AssertionError("this step injects a fault on the lab only; its feature must be @lab_only")
    return driver


# ---- an availability zone's app server ------------------------------------------------------------------------

@given(parsers.parse("{region} serves from two app servers"))
def two_app_servers(driver: Driver, region: str) -> None:
    status = driver.status().regions[region]
    driver.deploy(region, status.versions[status.live_colour])
    driver.shift_traffic(region, 50)


@when(parsers.parse("one of {region}'s app servers dies"), target_fixture="lost_at")
def app_server_lost(driver: Driver, region: str) -> float:
    lost_at = time.monotonic()
    lab(driver).lose_app_server(region)
    return lost_at


@then("no request fails beyond the health-check window")
def nothing_fails_beyond_window(request: pytest.FixtureRequest, measurements: list[dict[str, Any]],
                                traffic: Traffic, lost_at: float) -> None:
    time.sleep(LOSS_DETECTED_S + OBSERVE_S)
    samples = traffic.since(lost_at)
    failed = [sample for sample in samples if sample.failed]
    beyond = [sample for sample in failed if sample.at > lost_at + LOSS_DETECTED_S]
    record(request, measurements, "failed_beyond_window", len(beyond), "<=", 0, "requests",
           failed_in_window=len(failed) - len(beyond), requests=len(samples), window_s=LOSS_DETECTED_S)
    assert samples, "no request was sent after the loss: nothing was measured"
    assert beyond == [], beyond[:5]


# ---- the primary database restarts ----------------------------------------------------------------------------

@when(parsers.parse("the {region} database restarts"), target_fixture="restart")
def database_restarts(driver: Driver, writer: Writer, region: str) -> tuple[float, float]:
    started = time.monotonic()
    lab(driver).restart_database(region, down_s=1.0)
    return started, time.monotonic()


@then("writes are refused with 503 while it is down and resume after it")
def refused_then_resumed(request: pytest.FixtureRequest, measurements: list[dict[str, Any]],
                         slo: ServiceLevelObjectives, writer: Writer, restart: tuple[float, float]) -> None:
    started, back = restart
    eventually(lambda: any(at > back for at, _, _ in list(writer.acknowledged)), slo.evaluation_window_minutes * 60)
    resumed = min(at for at, _, _ in list(writer.acknowledged) if at > back)
    refused = [why for at, why in list(writer.refused) if started <= at <= resumed]
    other = [why for why in refused if not why.endswith("HTTP 503")]
    # Writes must come back before the 5xx alarm's window ends: a restart pages nobody.
    record(request, measurements, "recovery_seconds", round(resumed - started, 2), "<=",
           slo.evaluation_window_minutes * 60, "s", refused_writes=len(refused))
    record(request, measurements, "refusals_not_503", len(other), "<=", 0, "writes")
    assert refused, "no write was refused while the database was down: the restart was not observed"
    assert other == [], other[:5]


# ---- the cache is lost -----------------------------------------------------------------------------------------

@given(parsers.parse("reads of one record through {region} are served from its cache"), target_fixture="reads")
def cached_reads(driver: Driver, region: str) -> Iterator[Traffic]:
    record_id = driver.write({"subject": "drill", "kind": "note", "body": "cached",
                              "client_ref": f"cache-{time.time_ns()}"})
    with Traffic(f"{driver.region_url(region)}/api/records/{record_id}") as reads:
        eventually(lambda: lab(driver).cached_keys(region) > 0, 10)
        yield reads


@when(parsers.parse("the {region} cache stops"), target_fixture="cache_lost")
def cache_lost(driver: Driver, region: str) -> tuple[str, float]:
    lost_at = time.monotonic()
    lab(driver).lose_cache(region)
    return region, lost_at


@then("reads of that record keep succeeding within the latency objective")
def reads_from_database(request: pytest.FixtureRequest, driver: Driver, measurements: list[dict[str, Any]],
                        slo: ServiceLevelObjectives, reads: Traffic, cache_lost: tuple[str, float]) -> None:
    region, lost_at = cache_lost
    time.sleep(OBSERVE_S)
    samples = reads.since(lost_at)
    latency_p95 = round(p95([sample.latency_ms for sample in samples]), 1) if samples else float("inf")
    failed = [sample for sample in samples if sample.failed]
    record(request, measurements, "failed_reads", len(failed), "<=", 0, "requests", requests=len(samples))
    record(request, measurements, "read_p95_ms", latency_p95, "<=", slo.latency_p95_ms, "ms")
    assert samples and not failed and latency_p95 <= slo.latency_p95_ms
    assert lab(driver).cached_keys(region) == 0, "the cache still answers: the outage was not injected"


# ---- replication stalls -----------------------------------------------------------------------------------------

@when(parsers.parse("replication to {region} stalls for {seconds:d} seconds of writes"), target_fixture="stalled_at")
def replication_stalls(driver: Driver, writer: Writer, region: str, seconds: int) -> float:
    lab(driver).stall_replication(region)
    stalled_at = time.monotonic()
    time.sleep(seconds)
    return stalled_at


@then("the missing writes are those acknowledged after the stall")
def missing_after_stall(driver: Driver, writer: Writer, stalled_at: float, promoted_at: float) -> None:
    missing = [at for at, _ in missing_writes(driver, writer, "us-east-2") if at < promoted_at]
    assert missing, "no acknowledged write is missing: replication did not stall"
    # A write acknowledged just before the stall may still be in flight to the standby; none much earlier.
    assert min(missing) >= stalled_at - 1, "writes from before the stall are missing too"


# ---- point-in-time restore --------------------------------------------------------------------------------------

@given(parsers.parse("a base backup of the {region} database"))
def base_backup(driver: Driver, region: str) -> None:
    lab(driver).base_backup(region)


def _write_batch(driver: Driver, label: str) -> list[str]:
    refs = [f"{label}-{time.time_ns()}-{n}" for n in range(RESTORE_WRITES)]
    for ref in refs:
        http_api.write(driver.region_url("us-east-1"), {"subject": "drill", "kind": "note", "body": label,
                                                        "client_ref": ref})
    return refs


@given("writes acknowledged before a restore point", target_fixture="before_point")
def writes_before_point(driver: Driver) -> list[str]:
    return _write_batch(driver, "before")


@given("writes acknowledged after the restore point", target_fixture="after_point")
def writes_after_point(driver: Driver, before_point: list[str]) -> tuple[Any, list[str]]:
    # The point is taken from the database's clock, the one its commit times carry, with a gap on each side.
    time.sleep(0.2)
    point = lab(driver).database_time("us-east-1")
    time.sleep(0.2)
    return point, _write_batch(driver, "after")


@when(parsers.parse("the {region} database is restored to the restore point into a new instance"),
      target_fixture="restored")
def restored(request: pytest.FixtureRequest, driver: Driver, region: str,
             after_point: tuple[Any, list[str]]) -> RestoredDatabase:
    point, _ = after_point
    done = driver.restore_database(region, point, "restore-drill")
    request.addfinalizer(lambda: lab(driver).remove_restored(done))
    return done


@then("every write acknowledged before the restore point is there and none after it")
def restored_exactly(request: pytest.FixtureRequest, driver: Driver, measurements: list[dict[str, Any]],
                     slo: ServiceLevelObjectives, restored: RestoredDatabase, before_point: list[str],
                     after_point: tuple[Any, list[str]]) -> None:
    _, after = after_point
    present = lab(driver).restored_client_refs(restored, before_point + after)
    missing_before = [ref for ref in before_point if ref not in present]
    present_after = [ref for ref in after if ref in present]
    record(request, measurements, "restore_seconds", restored.seconds, "<=", slo.rto_minutes * 60, "s")
    record(request, measurements, "missing_before_point", len(missing_before), "<=", 0, "writes")
    record(request, measurements, "present_after_point", len(present_after), "<=", 0, "writes")
    assert missing_before == [] and present_after == [], (missing_before, present_after)
