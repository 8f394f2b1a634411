"""The step library: each step calls the driver and hands its result on as a fixture. Thresholds come from
the SLO file; every measured step also records its measurement for the drill report."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from pytest_bdd import given, parsers, then, when

from ops import http_api
from ops.driver import Driver, DriverError
from ops.lab.budget import lab_budget
from ops.lab.driver import LabDriver
from ops.release import Decision, release
from ops.traffic import Traffic, Writer
from policies.resilience import load_resilience
from policies.slo import ServiceLevelObjectives

ROOT_TIMEOUT_S = 60
# DRILL_OUT: a test that runs the drills on a broken lab keeps its results away from the real ones.
OUT = Path(os.environ.get("DRILL_OUT") or Path(__file__).resolve().parents[1] / "out")
DECISIONS = OUT / "decisions"


def record(request: pytest.FixtureRequest, measurements: list[dict[str, Any]], metric: str, observed: float,
           comparison: str, threshold: float, unit: str, **context: float) -> None:
    """One measurement with its threshold and verdict; ``context`` adds what explains it (requests counted...)."""
    holds = observed <= threshold if comparison == "<=" else observed >= threshold
    measurements.append({**request.node.drill, "metric": metric, "observed": observed, "comparison": comparison,
                         "threshold": threshold, "unit": unit, "verdict": "pass" if holds else "fail", **context})


def eventually(check: Any, timeout_s: float, interval_s: float = 0.05) -> float:
    """Seconds until ``check()`` is true. :raise AssertionError: it never was within ``timeout_s``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if check():
            return time.monotonic() - started
        time.sleep(interval_s)
    raise AssertionError(f"not true within {timeout_s} s: {getattr(check, '__doc__', None) or check}")


@given("the service is up in both regions with us-east-1 active")
def service_up(driver: Driver) -> None:
    status = driver.status()
    assert status.active_region == "us-east-1", status
    assert all(region.healthy for region in status.regions.values()), status


@given("clients are writing records through the global entry point", target_fixture="writer")
def clients_writing(driver: Driver) -> Any:
    with Writer(driver.write) as writer:  # stopped however the scenario ends
        eventually(lambda: len(writer.acknowledged) >= 20, 20)
        yield writer


@given("steady traffic reaches us-east-1", target_fixture="traffic")
def steady_traffic(driver: Driver) -> Any:
    with Traffic(f"{driver.region_url('us-east-1')}/api/records?subject=drill") as traffic:
        yield traffic


@when(parsers.parse("{region} is lost"), target_fixture="lost_at")
@when(parsers.parse("{region} is taken out of service"), target_fixture="lost_at")
def region_lost(request: pytest.FixtureRequest, driver: Driver, region: str) -> float:
    lost_at = time.monotonic()
    driver.fail_region(region)
    if request.config.getoption("--target") == "aws":
        # However the scenario ends, a real environment gets its health check back (idempotent); the lab is
        # torn down instead.
        request.addfinalizer(lambda: driver.restore_region(region))
    return lost_at


@when(parsers.parse("{region} is restored"))
def region_restored(driver: Driver, region: str) -> None:
    driver.restore_region(region)


@then("the service is up in both regions")
def both_regions_up(driver: Driver) -> None:
    def healthy() -> bool:
        """every region's load balancer answers its health check"""
        driver.refresh()
        return all(region.healthy for region in driver.status().regions.values())

    eventually(healthy, driver.failover_timeout_s, interval_s=0.5)


@when("writes are paused with the read_only flag", target_fixture="stopped_at")
def writes_paused(request: pytest.FixtureRequest, driver: Driver) -> float:
    if request.config.getoption("--target") == "aws":
        # However the scenario ends, even half-way through setting it, a real environment takes writes again
        # (idempotent); the lab's reset clears it.
        request.addfinalizer(lambda: driver.set_read_only(False))
    stopped_at = time.monotonic()
    driver.set_read_only(True)
    return stopped_at


def write_refused_with_503(driver: Driver) -> bool:
    """A probe write through the global entry point is answered 503 (the lab's tests use it too)."""
    try:
        driver.write({"subject": "drill", "kind": "note", "body": "probe", "client_ref": f"probe-{time.time_ns()}"})
    except DriverError as error:
        return "HTTP 503" in str(error)
    return False


@then("every write is refused with 503 while the flag is set", target_fixture="paused_at")
def writes_refused(driver: Driver) -> float:
    """One refusal shows one server has the flag. Every server has it once its flag cache has expired, and every
    write sent before then has been answered once a request's timeout has passed too: from then on, none may be
    acknowledged."""
    # Servers re-read the flag within their cache's TTL; three of them, plus a request, is already a broken flag.
    eventually(lambda: write_refused_with_503(driver), 3 * driver.flag_ttl_s + http_api.TIMEOUT_S, interval_s=0.2)
    time.sleep(driver.flag_ttl_s + http_api.TIMEOUT_S)
    paused_at = time.monotonic()
    assert all(write_refused_with_503(driver) for _ in range(5)), "writes were acknowledged under read_only"
    return paused_at


@when("the read_only flag is cleared", target_fixture="cleared_at")
def flag_cleared(driver: Driver) -> float:
    cleared_at = time.monotonic()
    driver.set_read_only(False)
    return cleared_at


@then("no write was acknowledged while writes were paused")
def none_acknowledged_while_paused(request: pytest.FixtureRequest, measurements: list[dict[str, Any]],
                                   writer: Writer, paused_at: float, cleared_at: float) -> None:
    during = [record_id for at, record_id, _ in writer.acknowledged if paused_at <= at < cleared_at]
    tried = [at for at, _ in writer.refused if paused_at <= at < cleared_at]
    record(request, measurements, "writes_while_paused", len(during), "<=", 0, "writes", refused=len(tried))
    assert tried, "no write was attempted while writes were paused: nothing was measured"
    assert during == [], f"{len(during)} writes were acknowledged while read_only was set: {during[:5]}"


@when(parsers.parse("the {region} replica has replayed every acknowledged write"))
def replica_caught_up(driver: Driver, region: str) -> None:
    eventually(lambda: driver.replica_caught_up(region), driver.failover_timeout_s, interval_s=1)


@when(parsers.parse("the {region} replica is promoted"), target_fixture="promoted_at")
def replica_promoted(driver: Driver, region: str) -> float:
    driver.promote_replica(region)
    return time.monotonic()


@then(parsers.parse("traffic moves to {region}"))
def traffic_moves(request: pytest.FixtureRequest, driver: Driver, measurements: list[dict[str, Any]],
                  slo: ServiceLevelObjectives, region: str) -> None:
    seconds = eventually(lambda: driver.active_region() == region, driver.failover_timeout_s, interval_s=0.2)
    if request.node.drill["feature"] == "traffic_failover":
        # How long health checks, DNS and the edge take to move traffic: the part of the RTO nobody can hurry.
        metric = "failover_seconds" if region != "us-east-1" else "failback_seconds"
        record(request, measurements, metric, round(seconds, 2), "<=", slo.rto_minutes * 60, "s")


@then(parsers.parse("writes resume in {region} within the RTO"))
def writes_resume(request: pytest.FixtureRequest, driver: Driver, measurements: list[dict[str, Any]],
                  slo: ServiceLevelObjectives, lost_at: float, region: str) -> None:
    # A planned switchover is unavailable for writes from the moment they stop, not from the primary's exit.
    if "stopped_at" in request.fixturenames:
        lost_at = min(lost_at, request.getfixturevalue("stopped_at"))
    def written_in_region() -> bool:
        try:
            return driver.read(driver.write({"subject": "drill", "kind": "note", "body": "resume",
                                             "client_ref": f"resume-{time.time_ns()}"}), region=region) is not None
        except DriverError:
            return False

    eventually(written_in_region, slo.rto_minutes * 60)
    rto_s = round(time.monotonic() - lost_at, 2)
    record(request, measurements, "rto_seconds", rto_s, "<=", slo.rto_minutes * 60, "s")
    if isinstance(driver, LabDriver) and request.node.drill["feature"] == "failover":
        # The budget model (gates.resilience) with the lab's parameters must bound what the lab measures; if it
        # does not, the model behind the AWS budget is wrong too.
        bound = request.config.getoption("--rto-model-seconds") or lab_budget(slo, load_resilience()).rto_s
        record(request, measurements, "rto_vs_model_seconds", rto_s, "<=", bound, "s")
        assert rto_s <= bound, f"the lab's RTO {rto_s} s exceeds its own budget model's {bound} s"
    assert rto_s <= slo.rto_minutes * 60


def missing_writes(driver: Driver, writer: Writer, region: str) -> list[tuple[float, int]]:
    """Acknowledged writes the region does not hold as written: an id the promoted database handed out again
    to a newer record does not count as present."""
    missing = []
    for at, record_id, client_ref in writer.acknowledged:
        found = driver.read(record_id, region=region)
        if found is None or found.get("client_ref") != client_ref:
            missing.append((at, record_id))
    return missing


@then(parsers.parse("the acknowledged writes missing from {region} are within the RPO"))
def missing_within_rpo(request: pytest.FixtureRequest, driver: Driver, measurements: list[dict[str, Any]],
                       slo: ServiceLevelObjectives, writer: Writer, lost_at: float, promoted_at: float,
                       region: str) -> None:
    writer.__exit__(None, None, None)
    # Every write acknowledged until the promotion counts: on AWS the old primary may acknowledge writes after
    # its health check failed, and those are exactly the ones a failover loses.
    considered = [entry for entry in writer.acknowledged if entry[0] < promoted_at]
    missing = [(at, rid) for at, rid in missing_writes(driver, writer, region) if at < promoted_at]
    window_s = round(promoted_at - min(at for at, _ in missing), 3) if missing else 0.0
    # In writes, the RPO allows losing what was acknowledged within it before the promotion; more is older data.
    allowed = [at for at, _, _ in considered if at >= promoted_at - slo.rpo_minutes * 60]
    record(request, measurements, "rpo_writes", len(missing), "<=", len(allowed), "writes")
    record(request, measurements, "rpo_window_seconds", window_s, "<=", slo.rpo_minutes * 60, "s")
    assert considered, "no write was acknowledged before the promotion: nothing was measured"
    assert window_s <= slo.rpo_minutes * 60, \
        f"lost {len(missing)} acknowledged writes over {window_s} s; the RPO is {slo.rpo_minutes * 60:g} s"


@then(parsers.parse("no acknowledged write is missing from {region}"))
def nothing_missing(request: pytest.FixtureRequest, driver: Driver, measurements: list[dict[str, Any]],
                    writer: Writer, region: str) -> None:
    assert writer.acknowledged, "no write was acknowledged: nothing was measured"
    missing = missing_writes(driver, writer, region)
    record(request, measurements, "rpo_writes", len(missing), "<=", 0, "writes")
    assert missing == []


@when("a build that fails its requests is released to us-east-1", target_fixture="decision")
def bad_release(request: pytest.FixtureRequest, driver: Driver, traffic: Traffic, slo: ServiceLevelObjectives,
                measurements: list[dict[str, Any]]) -> Decision:
    decision = release(driver, "us-east-1", "v2-bad", slo=slo, traffic=traffic, healthy=False,
                       records=DECISIONS)
    # From the bad deploy to the completed rollback; ECS's alarms must roll back within one evaluation window.
    record(request, measurements, "rollback_seconds", decision.seconds, "<=", slo.evaluation_window_minutes * 60, "s")
    assert decision.seconds <= slo.evaluation_window_minutes * 60
    return decision


@then(parsers.parse("the release is rolled back because {metric} failed"))
def rolled_back(decision: Decision, metric: str) -> None:
    assert decision.verdict == "rollback" and metric in decision.reason, decision


@then(parsers.parse("the live colour takes all of {region}'s traffic again"))
def live_takes_all(driver: Driver, region: str) -> None:
    status = driver.status().regions[region]
    assert status.weights[status.live_colour] == 100, status
    # What the load balancer does, not only what it was told: every answer comes from the live colour.
    colours = {requests.get(f"{driver.region_url(region)}/version", timeout=2).json()["colour"] for _ in range(20)}
    assert colours == {status.live_colour}


@then("the decision record states the metric, threshold, observed value and window")
def decision_record(decision: Decision) -> None:
    (step,) = decision.steps
    failing = [m for m in step["measurements"] if m["verdict"] == "fail"]
    assert failing and {"metric", "threshold", "observed", "window_s", "samples"} <= set(failing[0])


@given(parsers.parse("a good build takes {percent:d} percent of {region}'s traffic"))
def good_build_partly(driver: Driver, percent: int, region: str) -> None:
    driver.deploy(region, "v2")
    driver.shift_traffic(region, percent)
    assert driver.status().regions[region].weights[driver.status().regions[region].live_colour] == 100 - percent


@when(parsers.parse("the operator runs python -m ops rollback for {region}"))
def manual_rollback(driver: Driver, region: str) -> None:
    command = [sys.executable, "-m", "ops", "rollback", "--region", region, *driver.cli_target()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=ROOT_TIMEOUT_S, check=False)
    assert done.returncode == 0, done.stderr
    driver.refresh()


@when(parsers.parse("version {version} is released to us-east-1 in steps of {steps} percent"),
      target_fixture="decision")
def good_release(request: pytest.FixtureRequest, driver: Driver, traffic: Traffic, slo: ServiceLevelObjectives,
                 measurements: list[dict[str, Any]], version: str, steps: str) -> Decision:
    started = time.monotonic()
    decision = release(driver, "us-east-1", version, slo=slo, traffic=traffic,
                       steps=[int(p) for p in steps.split(",")], records=DECISIONS)
    time.sleep(1)  # requests issued just after the promotion are part of it
    failed = [s for s in traffic.since(started) if s.failed]
    record(request, measurements, "promotion_failed_requests", len(failed), "<=", 0, "requests")
    request.node.failed_requests = failed
    return decision


@then("the release is promoted")
def promoted(decision: Decision) -> None:
    assert decision.verdict == "promote", decision


@then(parsers.parse("us-east-1 serves version {version} from the new live colour"))
def serves_version(driver: Driver, decision: Decision, version: str) -> None:
    status = driver.status().regions["us-east-1"]
    assert status.live_colour == decision.colour and status.versions[decision.colour] == version


@then("no request failed during the release")
def no_failures(request: pytest.FixtureRequest) -> None:
    assert request.node.failed_requests == []
