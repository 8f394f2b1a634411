"""The Driver protocol on the local lab: HAProxy weights for ECS traffic shifting, the front HAProxy's health
checks for Route 53 failover, ``pg_ctl promote`` for ``promote_read_replica``."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import psycopg

from ops import http_api
from ops.driver import DriverError, RegionStatus, Status
from ops.gunicorn import wait_until_ok
from ops.lab.haproxy import DETECTION_S, Haproxy, HaproxyError, Server
from ops.lab.topology import PRIMARY, LabState, _alive, _stop_pids, down, start_service, up
from ops.postgres import LocalPostgres, PostgresError


@dataclass(frozen=True)
class LabReset:
    how: Literal["repaired", "rebuilt"]
    why: str = ""

    def __str__(self) -> str:
        return f"{self.how} ({self.why})" if self.why else self.how


class LabDriver:
    # Ten times what the health checks need to notice: slower than that is a broken lab, not a busy machine
    # (and a drill on a lab that cannot fail over fails after this long, not after minutes).
    failover_timeout_s = 10 * DETECTION_S

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.state = LabState.read(directory)

    def _balancer(self, region: str) -> Haproxy:
        found = self.state.regions[region]
        return Haproxy(region, found.balancer_port, self.directory, self._servers(region))

    def _servers(self, region: str) -> list[Server]:
        found = self.state.regions[region]
        return [Server(colour, int(found.services[colour]["port"]), weight=found.weights[colour])
                for colour in ("blue", "green")]

    def _database(self, region: str) -> LocalPostgres:
        root = Path(self.state.postgres_roots[region])
        return LocalPostgres(root=root, port=self.state.regions[region].database_port)

    def status(self) -> Status:
        regions = {}
        for name, region in self.state.regions.items():
            healthy = _alive(region.balancer_pid)
            if healthy:
                try:
                    healthy = "UP" in self._balancer(name).server_states().values()
                except HaproxyError:
                    healthy = False
            regions[name] = RegionStatus(name, healthy, region.live, dict(region.weights),
                                         {c: str(s["version"]) for c, s in region.services.items()})
        return Status(active_region=self.active_region(), regions=regions)

    def deploy(self, region: str, version: str, *, healthy: bool = True) -> str:
        found = self.state.regions[region]
        colour = found.idle
        if found.weights[colour]:
            raise DriverError(f"{region}: {colour} still takes {found.weights[colour]} % of traffic; roll back first")
        _stop_pids([int(found.services[colour]["pid"])])
        # A bad build (healthy=False) starts and answers /health, but every database call is refused.
        try:
            gunicorn = start_service(self.directory, self._database(region), region, colour, version,
                                     bad_credentials=not healthy)
        except RuntimeError as error:
            raise DriverError(f"{region}: {colour} did not start: {error}") from None
        assert gunicorn.process is not None
        found.services[colour] = {"port": gunicorn.port, "pid": gunicorn.process.pid, "version": version}
        self.state.write()  # recorded before anything else can fail, so `down` stops it
        balancer = self._balancer(region)
        try:
            balancer.command(f"set server {region}_servers/{colour} addr 127.0.0.1 port {gunicorn.port}")
            # Traffic shifted to a server HAProxy still counts as down would bake nothing.
            deadline = time.monotonic() + 15
            while balancer.server_states().get(colour) != "UP":
                if time.monotonic() > deadline:
                    raise DriverError(f"{region}: {colour} not UP in its load balancer within 15 s")
                time.sleep(0.1)
        except HaproxyError as error:
            raise DriverError(str(error)) from None
        return colour

    def shift_traffic(self, region: str, percent: int) -> None:
        if not 0 <= percent <= 100:
            raise DriverError(f"{region}: traffic share {percent} is not a percentage")
        found = self.state.regions[region]
        found.weights = {found.idle: percent, found.live: 100 - percent}
        balancer = self._balancer(region)
        try:
            for colour, weight in found.weights.items():
                balancer.set_weight(colour, weight)
        except HaproxyError as error:
            raise DriverError(str(error)) from None
        self.state.write()

    def promote(self, region: str) -> None:
        found = self.state.regions[region]
        self.shift_traffic(region, 100)
        found.live = found.idle
        self.state.write()

    def rollback(self, region: str) -> str:
        self.shift_traffic(region, 0)
        return f"{region}: all traffic to the live colour"

    def fail_region(self, region: str) -> None:
        """The region is lost: its load balancer stops answering and, in the primary, the database crashes."""
        found = self.state.regions[region]
        os.kill(found.balancer_pid, signal.SIGKILL)
        _stop_pids([found.balancer_pid], timeout_s=2)
        if region == PRIMARY:
            database = self._database(region)
            try:
                database.stop(mode="immediate")
            except PostgresError as error:
                raise DriverError(f"{region}: database did not stop: {error}") from None

    def restore_region(self, region: str) -> None:
        """The region's load balancer answers again, and a crashed primary database is started again. A
        promoted standby is not rebuilt into a replica: that is a runbook step."""
        found = self.state.regions[region]
        database = self._database(region)
        if region == PRIMARY and not database.running:
            standby = self._database(_other(PRIMARY, self.state.regions))
            if not (standby.data_dir / "standby.signal").exists():
                # The other region's database was promoted: a second writable primary would split the data.
                raise DriverError(f"{region}: the standby was promoted; rebuild {region}'s database as its replica "
                                  "instead of restarting it")
            try:
                database.start()
            except PostgresError as error:
                raise DriverError(f"{region}: database did not start: {error}") from None
        try:
            balancer = self._balancer(region).start()
        except HaproxyError as error:
            raise DriverError(str(error)) from None
        assert balancer.pid is not None
        found.balancer_pid = balancer.pid
        self.state.write()

    def reset(self) -> LabReset:
        """Back to what every drill starts from: both regions' load balancers answer, us-east-1 serves the global
        entry point, each region's traffic is all on its live colour and UP, the primary database runs and the
        standby streams from it. Which colour is live, and the versions deployed, stay as the last drill left
        them: drills deploy to whichever colour is idle.

        What a drill did to traffic (weights, a region taken out, a crashed primary whose standby still follows)
        is put back in place ("repaired"); a promoted standby cannot follow its old primary again, so such a lab,
        or one the repair did not bring back, is torn down and built again ("rebuilt", with the reason: a lab
        rebuilt after every drill is a defect to fix, not a cost to accept).

        :raise LabError: the rebuilt lab did not come up.
        """
        try:
            why = self._why_not_repairable()
            if not why:
                for region, found in self.state.regions.items():
                    if not _alive(found.balancer_pid):
                        self.restore_region(region)
                    self.rollback(region)
                wait_until_ok(f"{self.state.front_url}/health", self.failover_timeout_s)
                if self._as_built():
                    return LabReset("repaired")
                why = f"traffic not back on every live colour through {PRIMARY} after the repair"
        except (DriverError, HaproxyError, RuntimeError) as error:
            why = f"the repair failed: {error}"
        built = self.state
        down(self.directory)
        self.state = up(self.directory, built.version, frozenset(built.faults))
        return LabReset("rebuilt", why)

    def _why_not_repairable(self) -> str:
        primary, standby = self._database(PRIMARY), self._database(_other(PRIMARY, self.state.regions))
        if not _alive(self.state.front_pid):
            return "the front load balancer is gone"
        if not all(_alive(int(s["pid"])) for r in self.state.regions.values() for s in r.services.values()):
            return "a service process is gone"
        # A stopped primary is fine only as part of a lost region, which restore_region brings back.
        if not primary.running and _alive(self.state.regions[PRIMARY].balancer_pid):
            return f"{PRIMARY}'s database is down in a region that is not lost"
        if not (standby.running and (standby.data_dir / "standby.signal").exists()):
            return "the standby was promoted or is down"
        return ""

    def _as_built(self) -> bool:
        """us-east-1 serves the global entry point and every region's live colour is UP, within the timeout."""
        deadline = time.monotonic() + self.failover_timeout_s
        while time.monotonic() < deadline:
            regions = self.status().regions
            if self.active_region() == PRIMARY and all(
                    self._balancer(name).server_states().get(region.live_colour) == "UP"
                    for name, region in regions.items()):
                return True
            time.sleep(0.1)
        return False

    def promote_replica(self, region: str) -> None:
        database = self._database(region)
        try:
            database.promote()
        except PostgresError as error:
            raise DriverError(f"{region}: promotion failed: {error}") from None

    def replica_caught_up(self, region: str) -> bool:
        source = self._database(PRIMARY)
        with psycopg.connect(source.url(), autocommit=True, connect_timeout=2) as connection:
            written = connection.execute("SELECT pg_current_wal_lsn()").fetchone()
        with psycopg.connect(self._database(region).url(), autocommit=True, connect_timeout=2) as connection:
            replayed = connection.execute(
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (written[0] if written else None,)).fetchone()
        return bool(replayed and replayed[0])

    def active_region(self) -> str | None:
        return http_api.region_serving(self.state.front_url)

    def write(self, record: Mapping[str, Any]) -> int:
        return http_api.write(self.state.front_url, record)

    def region_url(self, region: str) -> str:
        return f"http://127.0.0.1:{self.state.regions[region].balancer_port}"

    def cli_target(self) -> list[str]:
        return ["--target", "lab", "--dir", str(self.directory)]

    def refresh(self) -> None:
        self.state = LabState.read(self.directory)

    def read(self, record_id: int, *, region: str | None = None) -> Mapping[str, Any] | None:
        return http_api.read(self.state.front_url if region is None else self.region_url(region), record_id)


def _other(region: str, regions: Mapping[str, object]) -> str:
    return next(name for name in regions if name != region)
