"""bench-evidence: wall time of the checkov gate over every synthesized template and of the evidence bundle.

Both are measured as `make check` pays them: a fresh process each (interpreter start-up and imports
included), best of REPEATS because noise on a shared machine only ever adds time. Targets: checkov <= 15 s,
report <= 5 s. Run after `make synth lint` (the Makefile target does).

    python tests/bench/bench_evidence.py [--repeats N] [--cdk-out cdk.out]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"bench-evidence: {' '.join(command[1:4])} exited {done.returncode}: {done.stderr[-600:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cdk-out", type=Path, default=ROOT / "cdk.out")
    options = parser.parse_args()
    templates = len(list(options.cdk_out.rglob("*.template.json")))
    if not templates:
        sys.exit(f"bench-evidence: no templates under {options.cdk_out}; run `make synth lint` first")
    python = sys.executable
    checkov = min(timed([python, "-m", "gates.checkov", str(options.cdk_out)]) for _ in range(options.repeats))
    with tempfile.TemporaryDirectory() as scratch:
        report = min(
            timed([python, "-m", "reports", "--out", f"{scratch}/out{i}", "--cdk-out", str(options.cdk_out)])
            for i in range(options.repeats)
        )
    print(f"bench-evidence: checkov {checkov:.1f} s, report {report:.1f} s, templates {templates}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
