"""``python -m load``: run the load gate and print the verdict. Exit 0 pass, 1 fail, 2 inconclusive/could not run.

    python -m load                                   the local service (PostgreSQL + gunicorn started here)
    python -m load --host https://staging.records.example.com --profile staging
    python -m load --workers 2                       Locust master + 2 worker processes on loopback
    python -m load --judge-only load/out --profile staging   judge what a Locust master elsewhere wrote
"""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from pathlib import Path

from gates.load import Verdict
from load.gate import GateError, Run, evaluate, run_locust
from load.profile import ProfileError, load_profile
from load.target import local_service
from policies.slo import SloError, load_slo

EXIT = {"pass": 0, "fail": 1, "inconclusive": 2}
LOCAL_ENVIRONMENTS = ("dev",)
OUT = Path(__file__).resolve().parent / "out"


def _table(verdict: Verdict) -> str:
    lines = [f"{'metric':<16}{'endpoint':<12}{'threshold':>12}{'observed':>12}  status"]
    for m in verdict.metrics:
        observed = "-" if m.observed is None else f"{m.observed:g}"
        lines.append(f"{m.metric:<16}{m.endpoint:<12}{m.comparison + ' ' + format(m.threshold, 'g'):>12}"
                     f"{observed:>12}  {m.status}{'  (' + m.note + ')' if m.note else ''}")
    return "\n".join(lines)


def summary(verdict: Verdict) -> str:
    total = verdict.total
    failures = 100 * total.failures / total.requests if total.requests else 0.0
    return (f"load-gate: verdict {verdict.verdict.upper()}, requests {total.requests}, rps {total.rps:.1f}, "
            f"p95 {total.p95_ms:g} ms, p99 {total.p99_ms:g} ms, failures {failures:.2f}%")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="local", help="name under load/profiles or a YAML path")
    parser.add_argument("--host", help="target URL; default: start the local service")
    parser.add_argument("--workers", type=int, default=0, help="Locust worker processes (0: one local runner)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--flags-file", type=Path, help="service flags for the local service (fault injection)")
    parser.add_argument("--judge-only", type=Path, metavar="DIR",
                        help="do not run Locust: judge the stats a master already wrote into DIR")
    args = parser.parse_args(argv)
    try:
        profile = load_profile(args.profile)
        slo = load_slo().for_env(profile.environment)
    except (ProfileError, SloError) as error:
        print(f"load-gate: INCONCLUSIVE: {error}", file=sys.stderr)
        return 2
    host = args.host or profile.host
    if not host and profile.environment not in LOCAL_ENVIRONMENTS and not args.judge_only:
        print(f"load-gate: INCONCLUSIVE: profile '{args.profile}' judges {profile.environment}; give its --host "
              "(only a dev profile may start the local service)", file=sys.stderr)
        return 2
    profile_ref = str(Path(args.profile).resolve()) if Path(args.profile).suffix else args.profile
    args.out = args.out.resolve()  # Locust runs from the repository root
    try:
        if args.judge_only:
            run = Run(host=host or "(external run)", out=args.judge_only, workers=args.workers, started=0, ended=0)
        else:
            target = nullcontext(host) if host else local_service(args.out, flags_file=args.flags_file)
            args.out.mkdir(parents=True, exist_ok=True)
            with target as url:
                run = run_locust(profile, url, args.out, workers=args.workers, profile_ref=profile_ref)
        verdict = evaluate(run, profile, slo, environment=profile.environment)
    except GateError as error:
        print(f"load-gate: INCONCLUSIVE: {error}", file=sys.stderr)
        return 2
    print(_table(verdict))
    for reason in verdict.reasons:
        print(f"  - {reason}")
    print(summary(verdict))
    return EXIT[verdict.verdict]


if __name__ == "__main__":
    sys.exit(main())
