"""bench-service: the service under gunicorn vs a bare WSGI app under the same gunicorn settings, same Locust profile.

Traffic stays on 127.0.0.1, bounded by users and duration. Two phases with the same user mix:
- saturate (almost no think time): throughput of each server, and the ratio service/bare;
- paced (0.5-1.5 s think time, like real clients): latency percentiles at the given number of users.
Locust shares the 2 cores with gunicorn and PostgreSQL, so saturated latencies describe the machine, not the
service; the paced phase is the latency figure.

    python tests/bench/bench_service.py [--users 50] [--seconds 20]
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ops.gunicorn import Gunicorn  # noqa: E402
from ops.postgres import temporary_postgres  # noqa: E402

LOCUSTFILE = Path(__file__).with_name("locust_bench.py")
SEED_RECORDS = 500


def _seed(url: str) -> None:
    from sqlalchemy import create_engine

    from service.migrate import migrate
    from service.repository import create_record

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    migrate(engine)
    for i in range(SEED_RECORDS):
        create_record(engine, {"subject": f"p-{i}", "kind": "note", "body": "x" * 200})
    engine.dispose()


def _locust(host: str, users: int, seconds: int, out: Path, pacing: str) -> dict[str, dict[str, float]]:
    prefix = out / "run"
    subprocess.run(
        # Users arrive over about five seconds and the statistics restart once all are running, so the figures
        # describe steady traffic rather than the burst of every user's first request at the same instant.
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "-u", str(users),
         "-r", str(max(1, users // 5)), "--reset-stats", "-t", f"{seconds}s", "-H", host, "--csv", str(prefix),
         "--only-summary", "--exit-code-on-error", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=seconds + 120, check=True,
        env={"BENCH_MAX_ID": str(SEED_RECORDS), "BENCH_PACING": pacing, "PATH": "/usr/bin:/bin"},
    )
    rows = {}
    with (out / "run_stats.csv").open() as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"]] = {
                "requests": float(row["Request Count"]), "failures": float(row["Failure Count"]),
                "rps": float(row["Requests/s"]), "p50": float(row["50%"]), "p95": float(row["95%"]),
                "p99": float(row["99%"]),
            }
    if not rows.get("Aggregated", {}).get("requests"):
        raise SystemExit("bench-service: INCONCLUSIVE: Locust recorded no requests")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=25)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-service-"))
    results = {}
    with temporary_postgres("records-bench-") as postgres:
        url = postgres.create_database("bench", "bench-password")
        _seed(url)
        for name, app in (("service", "service.wsgi:app"), ("bare", "tests.bench.hello_wsgi:app")):
            server = Gunicorn({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"}, work / f"{name}.log", app=app).start()
            try:
                for pacing in ("saturate", "paced"):
                    (work / name / pacing).mkdir(parents=True)
                    results[(name, pacing)] = _locust(server.url, args.users, args.seconds, work / name / pacing,
                                                      pacing)
            finally:
                server.stop()

    header = f"{'server':<8} {'phase':<9} {'endpoint':<20} {'requests':>9} {'fail':>5} {'rps':>8}"
    print(f"{header} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for (name, pacing), rows in results.items():
        for endpoint in ("/health", "/api/records/[id]"):
            r = rows[endpoint]
            print(f"{name:<8} {pacing:<9} {endpoint:<20} {r['requests']:9.0f} {r['failures']:5.0f} {r['rps']:8.1f} "
                  f"{r['p50']:7.0f} {r['p95']:7.0f} {r['p99']:7.0f}")
    if any(rows["Aggregated"]["failures"] for rows in results.values()):
        print("bench-service: requests failed; the figures are not comparable")
        return 1
    saturated = {name: results[(name, "saturate")] for name in ("service", "bare")}
    health_ratio = saturated["service"]["/health"]["rps"] / saturated["bare"]["/health"]["rps"]
    read_ratio = saturated["service"]["/api/records/[id]"]["rps"] / saturated["bare"]["/api/records/[id]"]["rps"]
    read_p95 = results[("service", "paced")]["/api/records/[id]"]["p95"]
    print(f"saturated read rps ratio service/bare {read_ratio:.2f}")
    print(f"bench-service: health rps ratio {health_ratio:.2f}, read p95 {read_p95:.0f} ms at {args.users} users")
    return 0


if __name__ == "__main__":
    sys.exit(main())
