"""The lab's budget comes from the same model as the AWS one, with HAProxy's check parameters."""

from gates.resilience.model import Budget
from ops.lab.budget import lab_budget
from ops.lab.haproxy import CHECK_FALL, CHECK_INTERVAL_MS
from policies.resilience import load_resilience
from policies.slo import load_slo


def test_the_lab_bound_is_detection_then_promotion():
    budget = lab_budget(load_slo().for_env("dev"), load_resilience())
    assert isinstance(budget, Budget)
    detection = CHECK_INTERVAL_MS / 1000 * (CHECK_FALL + 1)
    assert [t.name for t in budget.critical_path] == ["detection", "promotion"]
    assert budget.rto_s == detection + 3 == 5.0
    assert budget.breaches() == []
