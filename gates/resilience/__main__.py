"""Judge each environment's recovery budget for the loss of its primary region against its SLO.

    python -m gates.resilience [cdk.out]

From the templates synth judged (custody checked first), ``policies/slo.yaml``, the estimates in
``policies/resilience.yaml`` and the runbooks' front matter. Writes the breakdown to ``cdk.out/resilience.json``
for the evidence (source ``resilience``), stamped with the synthesis it judged.

Exit 0 every budget fits its objectives; 1 one does not (the line names its terms, largest first); 2 an input is
missing or malformed (no assembly, no failover record, a runbook without durations...).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gates.assembly import RESILIENCE_RESULT
from gates.custody import SEAL_KEY, CustodyBroken, seal, verify
from gates.resilience import inputs
from gates.resilience.runbooks import RunbookError
from gates.resilience.templates import Assembly, MissingInput, budget
from gates.verdict import Verdict
from policies.resilience import ResilienceError, load_resilience
from policies.slo import SloError, load_slo
from stacks.config import CDK_JSON, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None, *, root: Path = ROOT, cdk_json: Path = CDK_JSON) -> int:
    parser = argparse.ArgumentParser(prog="python -m gates.resilience", description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", nargs="?", type=Path, default=Path("cdk.out"), help="the cloud assembly")
    outdir = parser.parse_args(argv).outdir
    # An earlier verdict must not outlive a run that could not judge: the evidence would read it.
    (outdir / RESILIENCE_RESULT).unlink(missing_ok=True)
    try:
        verify(outdir)
        config = load_config(cdk_json)
        slo = load_slo(root / inputs.SLO)
        estimates = load_resilience(root / inputs.ESTIMATES)
        project = config.project
        budgets = [budget(Assembly.read(outdir, env), slo.for_env(env), estimates, primary=project.primary_region,
                          secondary=project.secondary_region, root=root)
                   for env in config.environments]
    except (CustodyBroken, ConfigError, SloError, ResilienceError, MissingInput, RunbookError) as error:
        print(f"resilience: INCONCLUSIVE: {error}", file=sys.stderr)
        return Verdict.INCONCLUSIVE
    (outdir / RESILIENCE_RESULT).write_text(json.dumps(
        {"budgets": [b.to_json() for b in budgets], "inputs": inputs.digests(root, estimates.region_loss_runbooks),
         SEAL_KEY: seal(outdir)}, indent=1))
    breaches = [f"{b.env} {breach}" for b in budgets for breach in b.breaches()]
    verdict = Verdict.of(failed=bool(breaches), judged=bool(budgets))
    shown = "; ".join(b.summary() for b in budgets)
    detail = f" [exceeded: {' | '.join(breaches)}]" if breaches else ""
    print(f"resilience: {verdict.name}: {shown}{detail}")
    return verdict


if __name__ == "__main__":
    sys.exit(main())
