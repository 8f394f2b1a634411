"""The Driver protocol on the local lab: HAProxy weights for ECS traffic shifting, the front HAProxy's health
checks for Route 53 failover, ``pg_ctl promote`` for ``promote_read_replica``."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import psycopg
import redis

from ops import http_api
from ops.driver import DriverError, RegionStatus, RestoredDatabase, Status
from ops.gunicorn import wait_until_ok
from ops.lab.haproxy import DETECTION_S, Haproxy, HaproxyError, Server
from ops.lab.replication import base_backup, copy_cluster
from ops.lab.topology import (
    DATABASE,
    FLAGS_TTL_S,
    PRIMARY,
    LabError,
    LabState,
    _alive,
    _stop_pids,
    down,
    read_flags,
    start_cache,
    start_service,
    up,
    write_flags,
)
from ops.postgres import LocalPostgres, PostgresError, _chown, free_port, server_dir
from ops.redis_server import RedisError
from service.flags import Flags


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
    flag_ttl_s = FLAGS_TTL_S

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
        self._start_colour(region, colour, version, healthy=healthy)
        return colour

    def _start_colour(self, region: str, colour: str, version: str, *, healthy: bool = True) -> None:
        """A new server for ``colour``, put in the region's load balancer and UP there. A bad build
        (``healthy`` False) starts and answers /health, but every database call is refused."""
        found = self.state.regions[region]
        try:
            gunicorn = start_service(self.directory, self._database(region), region, colour, version,
                                     cache_port=found.cache_port, bad_credentials=not healthy,
                                     flags="no-flag-file" not in self.state.faults)
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

    def wait_settled(self, region: str, timeout_s: float) -> bool:
        """A lab rollback is over when it returns: HAProxy's weights change at once."""
        return True

    def fail_region(self, region: str) -> None:
        """The region is lost: its load balancer stops answering and, in the primary, the database crashes."""
        found = self.state.regions[region]
        _crash(found.balancer_pid)
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

    # Faults beyond a region loss (features/az_loss, database_restart, cache_outage, stalled_replica): each is
    # undone by reset(), which repairs what it can and rebuilds the lab otherwise.

    def set_read_only(self, enabled: bool) -> None:
        """Every region's flag file (its AppConfig profile on AWS); the other flags are kept."""
        for region in self.state.regions:
            write_flags(self.directory, region, replace(read_flags(self.directory, region), read_only=enabled))

    def lose_app_server(self, region: str) -> str:
        """One of the two servers taking ``region``'s traffic dies (a task in a lost availability zone): the idle
        colour's process is killed. Returns its colour. :raise DriverError: only one server takes traffic."""
        found = self.state.regions[region]
        serving = sorted(colour for colour, weight in found.weights.items() if weight > 0)
        if len(serving) < 2:
            raise DriverError(f"{region}: only {serving} takes traffic; losing it is an outage, not an AZ loss")
        _crash(int(found.services[found.idle]["pid"]))
        return found.idle

    def restart_database(self, region: str, down_s: float) -> None:
        """``region``'s database shuts down (a clean, fast shutdown: a reboot or a minor-version patch), stays
        down ``down_s`` seconds and starts again. :raise DriverError: it did not stop or start."""
        database = self._database(region)
        try:
            database.stop(mode="fast")
            time.sleep(down_s)
            database.start()
        except PostgresError as error:
            raise DriverError(f"{region}: database restart failed: {error}") from None

    def lose_cache(self, region: str) -> None:
        """``region``'s cache server dies; its port stays unanswered until reset() starts it again."""
        found = self.state.regions[region]
        _crash(found.cache_pid)

    def cached_keys(self, region: str) -> int:
        """How many keys ``region``'s cache holds (0 when it does not answer)."""
        try:
            return int(redis.Redis(port=self.state.regions[region].cache_port, socket_timeout=1).dbsize())
        except redis.RedisError:
            return 0

    def stall_replication(self, region: str) -> None:
        """``region``'s standby stops receiving WAL (its connection to the primary is configured away and the
        configuration reloaded), while it keeps serving reads: what a broken replication link looks like.

        :raise DriverError: it still streams after 10 s.
        """
        standby = self._database(region)
        with (standby.data_dir / "postgresql.auto.conf").open("a") as conf:
            conf.write("primary_conninfo = ''\n")  # the last setting wins
        try:
            standby.query("SELECT pg_reload_conf()")
            if not _eventually(lambda: not self._streams(region), 10):
                raise DriverError(f"{region}: the standby still streams 10 s after its primary_conninfo was removed")
        except psycopg.Error as error:
            raise DriverError(f"{region}: could not stall replication: {error}") from None

    def _streams(self, region: str) -> bool:
        try:
            ((streaming,),) = self._database(region).query(
                "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'")
        except psycopg.Error:
            return False
        return bool(streaming)

    def _stalled(self, region: str) -> bool:
        """Configured not to follow its primary at all (stall_replication): no reconnect will come."""
        try:
            ((conninfo,),) = self._database(region).query("SHOW primary_conninfo")
        except psycopg.Error:
            return False
        return not conninfo

    # Point-in-time restore (features/restore): the primary archives its WAL (ops/lab/replication.py); a base
    # backup and the archive restore it into a new cluster, as RDS restores into a new instance.

    def base_backup(self, region: str) -> Path:
        """A base backup of ``region``'s database, kept beside its archive. :raise DriverError: it failed."""
        root = Path(self.state.postgres_roots[region])
        target = root / "backups" / f"base-{time.time_ns()}"
        target.parent.mkdir(exist_ok=True)
        _chown(target.parent)
        try:
            base_backup(self._database(region), target)
        except PostgresError as error:
            raise DriverError(f"{region}: {error}") from None
        return target

    def database_time(self, region: str) -> dt.datetime:
        """The database server's clock: the restore point is named in the time its commits carry."""
        ((now,),) = self._database(region).query("SELECT clock_timestamp()")
        return now.astimezone(dt.UTC)

    def restore_database(self, region: str, to_time: dt.datetime, name: str) -> RestoredDatabase:
        root = Path(self.state.postgres_roots[region])
        backups = sorted((root / "backups").glob("base-*"))
        if not backups:
            raise DriverError(f"{region}: no base backup to restore from; take one first")
        source = self._database(region)
        if to_time > self.database_time(region):
            raise DriverError(f"{region}: {to_time.isoformat()} is in the future; nothing to restore to yet")
        try:
            # Recovery stops at the first commit after ``to_time``; with none in the log it would end "before the
            # target was reached" and refuse to start. A transaction id taken now commits one.
            source.query("SELECT pg_current_xact_id()")
            # The segment holding ``to_time`` must be archived before a restore can replay it.
            ((segment,),) = source.query("SELECT pg_walfile_name(pg_switch_wal())")
        except psycopg.Error as error:
            raise DriverError(f"{region}: could not close the current WAL segment: {error}") from None
        archive = root / "archive"
        if not _eventually(lambda: (archive / segment).exists(), 15):
            raise DriverError(f"{region}: WAL segment {segment} not archived within 15 s")
        started = time.monotonic()
        restored = LocalPostgres(root=server_dir(f"records-lab-{name}-"), port=free_port())
        self.state.restored_roots.append(str(restored.root))
        self.state.write()  # `down` removes it whatever happens next
        _chown(restored.root)
        try:
            copy_cluster(backups[-1], restored.data_dir)
            (restored.data_dir / "recovery.signal").touch()
            restored.configure({
                "restore_command": f"cp {archive}/%f %p", "recovery_target_time": to_time.isoformat(),
                "recovery_target_action": "promote", "archive_mode": "off",
            }).start()
            if not _eventually(lambda: _writable(restored), 60):
                raise DriverError(f"{region}: the restored cluster did not finish recovery within 60 s")
        except PostgresError as error:
            raise DriverError(f"{region}: restore failed: {error}") from None
        return RestoredDatabase(restored.root.name, f"127.0.0.1:{restored.port}", to_time,
                                round(time.monotonic() - started, 2))

    def _restored(self, restored: RestoredDatabase) -> LocalPostgres:
        root = next(Path(r) for r in self.state.restored_roots if Path(r).name == restored.name)
        return LocalPostgres(root=root, port=int(restored.endpoint.rsplit(":", 1)[1]))

    def restored_client_refs(self, restored: RestoredDatabase, client_refs: list[str]) -> set[str]:
        """Which of ``client_refs`` the restored database holds."""
        rows = self._restored(restored).query("SELECT client_ref FROM records WHERE client_ref = ANY(%s)",
                                              (client_refs,), database=DATABASE)
        return {str(row[0]) for row in rows}

    def remove_restored(self, restored: RestoredDatabase) -> None:
        self._remove_cluster(self._restored(restored).root)

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
                for restored in list(self.state.restored_roots):
                    self._remove_cluster(Path(restored))
                self._clear_flags()
                for region, found in self.state.regions.items():
                    if not _alive(found.balancer_pid):
                        self.restore_region(region)
                    self._revive(region)
                    self.rollback(region)
                wait_until_ok(f"{self.state.front_url}/health", self.failover_timeout_s)
                standby = _other(PRIMARY, self.state.regions)
                # After a primary restart the standby reconnects by itself, within wal_retrieve_retry_interval.
                if self._stalled(standby) or not _eventually(lambda: self._streams(standby), 10):
                    why = f"{standby}'s standby does not stream from {PRIMARY} (replication stalled)"
                elif self._as_built():
                    return LabReset("repaired")
                else:
                    why = f"traffic not back on every live colour through {PRIMARY} after the repair"
        except (DriverError, HaproxyError, RuntimeError) as error:
            why = f"the repair failed: {error}"
        built = self.state
        down(self.directory)
        self.state = up(self.directory, built.version, frozenset(built.faults))
        return LabReset("rebuilt", why)

    def _clear_flags(self) -> None:
        """A drill's pause or injected latency ends; the servers see it within their flag TTL, so that long is
        waited out (only when a flag was set) before the lab counts as reset."""
        changed = False
        for region in self.state.regions:
            try:
                current = read_flags(self.directory, region)
            except LabError:
                current = None  # unreadable: written anew below
            if current != Flags():
                write_flags(self.directory, region, Flags())
                changed = True
        if changed:
            time.sleep(FLAGS_TTL_S + 0.2)

    def _revive(self, region: str) -> None:
        """A cache or service process a drill killed, started again on the same port (cache) or version."""
        found = self.state.regions[region]
        if found.cache_pid and not _alive(found.cache_pid):
            try:
                found.cache_pid = start_cache(self.directory, region, port=found.cache_port).pid
            except RedisError as error:
                raise DriverError(f"{region}: cache did not start again: {error}") from None
            self.state.write()
        for colour, service in list(found.services.items()):
            if not _alive(int(service["pid"])):
                self._start_colour(region, colour, str(service["version"]))

    def _remove_cluster(self, root: Path) -> None:
        if (root / "data" / "postmaster.pid").exists():
            LocalPostgres(root=root, port=0).stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)
        self.state.restored_roots.remove(str(root))
        self.state.write()

    def _why_not_repairable(self) -> str:
        primary, standby = self._database(PRIMARY), self._database(_other(PRIMARY, self.state.regions))
        if not _alive(self.state.front_pid):
            return "the front load balancer is gone"
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
        ((written,),) = self._database(PRIMARY).query("SELECT pg_current_wal_lsn()")
        ((replayed,),) = self._database(region).query("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (written,))
        return bool(replayed)

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


def _crash(pid: int) -> None:
    """A lab process dies without a chance to clean up (SIGKILL), as in a lost zone or region; reaped here."""
    os.kill(pid, signal.SIGKILL)
    _stop_pids([pid], timeout_s=2)


def _eventually(check: Callable[[], bool], timeout_s: float, interval_s: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval_s)
    return True


def _writable(server: LocalPostgres) -> bool:
    """Accepts connections and is out of recovery (a restored cluster promoted at its target)."""
    try:
        ((in_recovery,),) = server.query("SELECT pg_is_in_recovery()")
    except psycopg.Error:
        return False
    return in_recovery is False


def _other(region: str, regions: Mapping[str, object]) -> str:
    return next(name for name in regions if name != region)
