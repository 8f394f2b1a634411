"""The lab's own recovery budget, from the same model as the templates' (``gates.resilience.model``): HAProxy's
checks stand in for Route 53's, ``pg_ctl promote`` for the replica's promotion, and nobody has to be paged. The
failover drill's measured RTO must stay within it: a lab slower than its own model means the model (or the lab)
is wrong, and then the budget computed for AWS cannot be trusted either."""

from __future__ import annotations

from gates.resilience.model import Budget, Term
from ops.lab.haproxy import CHECK_FALL, CHECK_INTERVAL_MS, LOSS_DETECTED_S
from policies.resilience import ResilienceEstimates
from policies.slo import ServiceLevelObjectives


def lab_budget(slo: ServiceLevelObjectives, estimates: ResilienceEstimates) -> Budget:
    interval_s = CHECK_INTERVAL_MS / 1000
    detection = Term("detection", LOSS_DETECTED_S,
                     f"front HAProxy check every {interval_s:g} s × {CHECK_FALL} failures + one interval in flight")
    promotion = Term("promotion", estimates.lab.promotion_seconds.seconds, "pg_ctl promote (policies/resilience.yaml)",
                     "writes")
    return Budget(env="lab", rto_terms=(detection, promotion), rpo_terms=(), rto_objective_s=slo.rto_minutes * 60,
                  rpo_objective_s=slo.rpo_minutes * 60)
