"""bench-synth: wall time of synthesizing every environment without and with the guards.

Each measurement is a fresh process (import, build, synth), as `make synth` pays it. The two modes alternate
and the best of REPEATS runs of each is reported: the machine is shared and noise (seen here: +-1.5 s on a
12 s synthesis) only ever adds time, so the minimum is the fairest estimate of what each mode costs. The built-in "CloudFormation Validate"
plugin runs in both modes (it is kept: cfn-lint is a gate of its own, but the validator is what fails `cdk synth`
on a template CloudFormation would reject), so the ratio isolates what our guards and the three nag packs cost.
CPU seconds are reported beside wall time; they move less when the machine is shared.

    python tests/bench/bench_synth.py [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_once(guarded: bool, outdir: str) -> dict:
    """The measured body, executed in a child process."""
    started = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    from aspects.guard import guard
    from gates.synth import conclude
    from policies.acknowledgments import load_registry
    from policies.slo import load_slo
    from stacks.build import add_stages, new_app
    from stacks.config import CDK_JSON, load_config

    imported = time.perf_counter()
    config = load_config(CDK_JSON)
    app = new_app(outdir=outdir, context={"@aws-cdk/core:failSynthOnValidationErrors": False})
    stages = add_stages(app, config, load_slo())
    result = guard(app, config, stages, registry=load_registry()) if guarded else None
    built = time.perf_counter()
    app.synth()
    synthesized = time.perf_counter()
    stacks = sum(1 for _ in Path(outdir).rglob("*.template.json"))
    counts: dict[str, int] = {}
    violations = 0
    if result is not None:
        verdict = conclude(Path(outdir), result, commit="bench")  # judged and recorded as app.py does
        counts, violations = dict(verdict.acknowledged_per_pack), len(verdict.violations)
    return {
        "import_s": imported - started,
        "build_s": built - imported,
        "synth_s": synthesized - built,
        "stacks": stacks,
        "acknowledged": counts,
        "violations": violations,
    }


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(guarded: bool) -> dict:
    with tempfile.TemporaryDirectory() as outdir:
        started, cpu_before = time.perf_counter(), _children_cpu_s()
        child = subprocess.run(
            [sys.executable, __file__, "--child", "guarded" if guarded else "unguarded", "--outdir", outdir],
            capture_output=True, text=True, check=False, cwd=ROOT,
        )
        wall = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"bench-synth: child failed ({child.returncode}): {child.stderr.strip()[-500:]}")
    result = json.loads(child.stdout.strip().splitlines()[-1])
    # CPU seconds of the child and the jsii Node process it waited for: on a shared machine another tenant's load
    # stretches wall time more than it adds CPU time.
    return {**result, "wall_s": wall, "cpu_s": _children_cpu_s() - cpu_before}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--child", choices=["guarded", "unguarded"])
    parser.add_argument("--outdir")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_once(args.child == "guarded", args.outdir)))
        return 0
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    runs: dict[str, list[dict]] = {"unguarded": [], "guarded": []}
    for _ in range(args.repeats):
        for mode in runs:
            runs[mode].append(measure(mode == "guarded"))
    best = {mode: min(r, key=lambda x: x["wall_s"]) for mode, r in runs.items()}
    print(f"{'mode':<10} {'wall s':>7} {'import':>7} {'build':>7} {'synth':>7}  runs (wall s)")
    for mode, result in best.items():
        walls = ", ".join(f"{r['wall_s']:.1f}" for r in runs[mode])
        print(f"{mode:<10} {result['wall_s']:7.1f} {result['import_s']:7.1f} {result['build_s']:7.1f} "
              f"{result['synth_s']:7.1f}  {walls}")
    guarded = best["guarded"]
    if guarded["violations"]:
        print(f"bench-synth: the guarded synthesis has {guarded['violations']} violations; fix them first")
        return 1
    for pack, count in sorted(guarded["acknowledged"].items()):
        print(f"acknowledged findings, {pack}: {count}")
    from policies.acknowledgments import load_registry

    entries = len(load_registry().entries)
    acknowledgments = sum(guarded["acknowledged"].values())
    unguarded_s, guarded_s = best["unguarded"]["wall_s"], guarded["wall_s"]
    cpu = {mode: min(r["cpu_s"] for r in results) for mode, results in runs.items()}
    print(f"templates {guarded['stacks']}, registry entries {entries}")
    print(f"cpu (best of {args.repeats}): unguarded {cpu['unguarded']:.1f} s, guarded {cpu['guarded']:.1f} s, "
          f"ratio {cpu['guarded'] / cpu['unguarded']:.2f}")
    print(
        f"bench-synth: unguarded {unguarded_s:.1f} s, guarded {guarded_s:.1f} s, "
        f"ratio {guarded_s / unguarded_s:.2f}, acknowledgments {acknowledgments}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
