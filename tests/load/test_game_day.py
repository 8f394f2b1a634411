"""The game day's error-budget arithmetic, and its load is the load gate's user mix."""

from __future__ import annotations

from load.game_day import PROFILE, Cost, LoadRun, Request, cost
from load.profile import load_profile
from policies.slo import load_slo

SLO = load_slo().for_env("dev")  # 99.9 %: 43.2 minutes of budget per 30 days; p95 objective 300 ms


def second(start: float, *, failed: int = 0, latency_ms: float = 20, count: int = 10) -> list[Request]:
    return [Request(start + n / count, latency_ms, n < failed) for n in range(count)]


def test_bad_seconds_are_failures_slow_seconds_and_silent_seconds():
    requests = [*second(100), *second(101, failed=1), *second(102, latency_ms=900), *second(104)]  # 103: silent
    spent = cost(requests, 100, 105, SLO)
    assert (spent.seconds, spent.bad_seconds, spent.requests, spent.failed) == (5, 3, 40, 1)
    assert spent.budget_minutes == 43.2 and spent.share_percent == round(100 * 3 / 60 / 43.2, 3)


def test_one_slow_request_in_twenty_is_within_the_p95():
    fast, slow = second(0, count=19), [Request(0.99, 5000, False)]
    assert cost(fast + slow, 0, 1, SLO).bad_seconds == 0
    assert cost(fast + slow + [Request(0.995, 5000, False)], 0, 1, SLO).bad_seconds == 1


def test_requests_outside_the_window_do_not_count():
    spent = cost([*second(10, failed=10), *second(20)], 20, 21, SLO)
    assert (spent.requests, spent.failed, spent.bad_seconds) == (10, 0, 0)


def test_no_request_in_the_window_is_all_bad():
    spent = cost([], 0, 2, SLO)
    assert spent == Cost(requests=0, failed=0, bad_seconds=2, seconds=2, budget_minutes=43.2,
                         share_percent=round(100 * 2 / 60 / 43.2, 3))


def test_the_game_day_runs_the_load_gates_user_mix_and_never_aborts():
    game_day, gate = load_profile(PROFILE), load_profile("local")
    assert game_day.weights == gate.weights and game_day.environment == gate.environment
    assert game_day.abort_failure_percent == 100  # the failures are what the game day measures


def test_the_request_log_is_read_as_written(tmp_path):
    run = LoadRun("http://127.0.0.1:1", tmp_path, load_profile(PROFILE))
    assert run.requests() == []
    run.log.write_text("10.500,12.0,0,read\n11.000,3.5,1,write\n11.2")  # the last line is still being written
    assert run.requests() == [Request(10.5, 12.0, False), Request(11.0, 3.5, True)]

