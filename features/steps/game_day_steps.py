"""Steps of the game day: the load gate's user mix runs while the primary region is lost, and the error budget the
event spent is judged against the share policies/slo.yaml declares."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_bdd import given, then

from features.steps.drill_steps import OUT, eventually, record
from features.steps.fault_steps import lab
from load.game_day import PROFILE, LoadRun, cost
from load.profile import load_profile
from ops.driver import Driver
from policies.slo import ServiceLevelObjectives

WARM_UP_REQUESTS = 50  # the load is running before anything is lost
AFTER_S = 2.0  # the event ends this long after writes resumed: the requests in flight at that moment count


@given("the load gate's user mix runs against the global entry point", target_fixture="load_run")
def load_runs(driver: Driver) -> Iterator[LoadRun]:
    front = lab(driver).state.front_url
    with LoadRun(front, OUT / "game-day", load_profile(PROFILE)) as run:
        eventually(lambda: len(run.requests()) >= WARM_UP_REQUESTS, 30, interval_s=0.2)
        yield run


@then("the failover cost at most the game day's share of the error budget")
def budget_spent(request: pytest.FixtureRequest, measurements: list[dict[str, Any]], slo: ServiceLevelObjectives,
                 load_run: LoadRun, lost_at: float) -> None:
    # The drill's clock is monotonic; Locust logs wall-clock starts: both are taken now to convert.
    offset = time.time() - time.monotonic()
    start, end = lost_at + offset, time.time() + AFTER_S
    time.sleep(AFTER_S + 0.5)
    spent = cost(load_run.requests(), start, end, slo)
    # The failed requests are shown beside the share they cost, not judged alone: the share is what the SLO bounds.
    record(request, measurements, "error_budget_percent", spent.share_percent, "<=",
           slo.game_day_budget_share_percent, "%", failed_requests=spent.failed, requests=spent.requests,
           bad_seconds=spent.bad_seconds, event_seconds=spent.seconds, budget_minutes=spent.budget_minutes)
    assert spent.requests, "no request of the load ran during the event: nothing was measured"
    assert spent.share_percent <= slo.game_day_budget_share_percent, spent
