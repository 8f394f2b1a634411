"""The lab's topology: built by ``up``, recorded in a state file, torn down by ``down`` from that file alone
(so `python -m ops.lab down` works from another shell, and a test teardown leaves nothing running)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ops.gunicorn import ROOT, Gunicorn, wait_until_ok
from ops.lab.haproxy import Haproxy, Server
from ops.lab.replication import ReplicatedPostgres
from ops.postgres import LocalPostgres, free_port
from ops.redis_server import LocalRedis
from service.flags import Flags

PRIMARY, SECONDARY = "us-east-1", "us-east-2"
COLOURS = ("blue", "green")
DATABASE, PASSWORD = "records", "records-lab"  # a throwaway cluster on loopback  # nosec B105
DEFAULT_DIRECTORY = ROOT / "features" / "out" / "lab"
STATE_FILE = "state.json"
FLAGS_TTL_S = 1.0


class LabError(RuntimeError):
    """The lab could not be built, or its state file is missing or stale."""


@dataclass
class RegionState:
    region: str
    balancer_port: int
    balancer_pid: int
    database_port: int
    services: dict[str, dict[str, int | str]] = field(default_factory=dict)  # colour -> port, pid, version
    cache_port: int = 0  # the region's redis-server (ElastiCache); both colours read through it
    cache_pid: int = 0
    live: str = "blue"
    weights: dict[str, int] = field(default_factory=lambda: {"blue": 100, "green": 0})

    @property
    def idle(self) -> str:
        return "green" if self.live == "blue" else "blue"


@dataclass
class LabState:
    directory: str
    front_port: int
    front_pid: int
    regions: dict[str, RegionState]
    postgres_roots: dict[str, str]
    # How it was built, so a reset that must rebuild it builds the same lab.
    version: str = "v1"
    faults: list[str] = field(default_factory=list)
    # Clusters a restore drill created beside the lab's own; `down` stops and removes them too.
    restored_roots: list[str] = field(default_factory=list)

    def write(self) -> None:
        path = Path(self.directory) / STATE_FILE
        path.write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def read(cls, directory: Path) -> LabState:
        """:raise LabError: no lab was started from ``directory``."""
        path = directory / STATE_FILE
        if not path.exists():
            raise LabError(f"{path} not found: no lab is up (python -m ops.lab up)")
        document = json.loads(path.read_text())
        regions = {name: RegionState(**region) for name, region in document.pop("regions").items()}
        return cls(regions=regions, **document)

    @property
    def front_url(self) -> str:
        return f"http://127.0.0.1:{self.front_port}"

    def pids(self) -> list[int]:
        found = [self.front_pid]
        for region in self.regions.values():
            found.append(region.balancer_pid)
            if region.cache_pid:
                found.append(region.cache_pid)
            found.extend(int(service["pid"]) for service in region.services.values())
        return found


def _prepare_database(primary: LocalPostgres) -> None:
    """The service's own migration, in this process: a `python -m service migrate` child spent a second on
    imports each time the lab came up."""
    from sqlalchemy import create_engine

    from service.migrate import migrate

    url = primary.create_database(DATABASE, PASSWORD)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        migrate(engine)
    finally:
        engine.dispose()


def flags_file(directory: Path, region: str) -> Path:
    """The region's feature flags (its AppConfig profile on AWS), read by both colours."""
    return directory / f"flags-{region}.json"


def read_flags(directory: Path, region: str) -> Flags:
    """:raise LabError: the region's flag file is missing or not a flag document."""
    path = flags_file(directory, region)
    try:
        return Flags.parse(json.loads(path.read_text()))
    except (OSError, ValueError, AttributeError) as error:
        raise LabError(f"{path}: not a flag document: {error}") from None


def write_flags(directory: Path, region: str, flags: Flags) -> None:
    """Replaced whole (write, then rename): a server polling the file never reads half of it."""
    path = flags_file(directory, region)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(flags.document()))
    partial.replace(path)


def service_env(directory: Path, database: LocalPostgres, region: str, colour: str, version: str, *,
                cache_port: int = 0, bad_credentials: bool = False, flags: bool = True) -> dict[str, str]:
    password = "not-the-password" if bad_credentials else PASSWORD  # nosec B105
    env = {
        "DATABASE_URL": database.url(user=DATABASE, password=password, database=DATABASE),
        "DB_SSLMODE": "disable", "APP_REGION": region, "COLOUR": colour, "APP_VERSION": version,
        "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "4", "LOG_LEVEL": "WARNING",
    }
    if flags:  # AppConfig's place in the lab; a 1 s TTL (AWS: 30 s) so a drill's pause applies within a second
        env |= {"FLAGS_FILE": str(flags_file(directory, region)), "FLAGS_TTL_S": str(FLAGS_TTL_S)}
    if cache_port:
        env["CACHE_URL"] = f"redis://127.0.0.1:{cache_port}/0"
    return env


def launch_service(directory: Path, database: LocalPostgres, region: str, colour: str, version: str, *,
                   cache_port: int = 0, bad_credentials: bool = False, flags: bool = True) -> Gunicorn:
    """Started, not yet answering: call ``wait_ready`` on it."""
    log = directory / f"{region}-{colour}.log"
    env = service_env(directory, database, region, colour, version, cache_port=cache_port,
                      bad_credentials=bad_credentials, flags=flags)
    return Gunicorn(env, log).launch()


def start_service(directory: Path, database: LocalPostgres, region: str, colour: str, version: str, *,
                  cache_port: int = 0, bad_credentials: bool = False, flags: bool = True) -> Gunicorn:
    """:raise RuntimeError: the server exited or did not answer /health in time."""
    return launch_service(directory, database, region, colour, version, cache_port=cache_port,
                          bad_credentials=bad_credentials, flags=flags).wait_ready()


def start_cache(directory: Path, region: str, port: int = 0) -> LocalRedis:
    """The region's cache, detached like the lab's other servers (``down`` stops it by its PID).

    :raise RedisError: it did not start.
    """
    return LocalRedis(port=port).start(directory / f"{region}-cache.log", detached=True)


FAULTS = frozenset({"no-backup-region", "no-flag-file"})


PORT_TAKEN = "Address already in use"


def up(directory: Path = DEFAULT_DIRECTORY, version: str = "v1", faults: frozenset[str] = frozenset()) -> LabState:
    """``build`` once more when a port was taken between choosing it and binding it (another test worker's
    server can win that race): the lab then comes up on other ports. Any other failure is final."""
    try:
        return build(directory, version, faults)
    except LabError as error:
        if PORT_TAKEN not in str(error):
            raise
        return build(directory, version, faults)


def build(directory: Path, version: str, faults: frozenset[str]) -> LabState:
    """Build the whole lab (per region a cache, two service colours and a load balancer; a primary database
    archiving its WAL and its streaming standby; the front); on any failure, tear down what was started.
    ``faults`` builds it deliberately broken, to prove a drill notices: ``no-backup-region`` leaves us-east-2 out
    of the front (no failover); ``no-flag-file`` starts the servers without their flag file (a task without its
    AppConfig settings: read_only pauses nothing).

    :raise LabError: a piece did not start, or a fault is unknown (the message names it).
    """
    if faults - FAULTS:
        raise LabError(f"unknown lab faults {sorted(faults - FAULTS)}; known: {sorted(FAULTS)}")
    directory.mkdir(parents=True, exist_ok=True)
    if (directory / STATE_FILE).exists():
        raise LabError(f"a lab is already up in {directory}; run python -m ops.lab down first")
    started: list[int] = []
    postgres = ReplicatedPostgres.allocate()
    try:
        postgres.start_primary(_prepare_database)
        databases = {PRIMARY: postgres.primary, SECONDARY: postgres.standby}
        caches = {}
        for region in databases:
            write_flags(directory, region, Flags())
            caches[region] = start_cache(directory, region)
            started.append(caches[region].pid)
        # The four servers boot side by side (each spends about a second importing the service) while the
        # standby is cloned; none touches its database before a request does.
        launched: dict[tuple[str, str], Gunicorn] = {}
        for region, database in databases.items():
            for colour in COLOURS:
                gunicorn = launch_service(directory, database, region, colour, version,
                                          cache_port=caches[region].port, flags="no-flag-file" not in faults)
                started.append(gunicorn.pid)
                launched[region, colour] = gunicorn
        postgres.start_standby()
        for gunicorn in launched.values():
            gunicorn.wait_ready()
        regions: dict[str, RegionState] = {}
        for region, database in databases.items():
            services: dict[str, dict[str, int | str]] = {
                colour: {"port": launched[region, colour].port, "pid": launched[region, colour].pid,
                         "version": version} for colour in COLOURS}
            # Blue takes all traffic until a deployment shifts it, as an ECS service's production target group.
            balancer = Haproxy(region, free_port(), directory, [
                Server("blue", int(services["blue"]["port"]), weight=100),
                Server("green", int(services["green"]["port"]), weight=0),
            ]).start()
            assert balancer.pid is not None
            started.append(balancer.pid)
            regions[region] = RegionState(region, balancer.port, balancer.pid, database.port, services,
                                          cache_port=caches[region].port, cache_pid=caches[region].pid)
        front_servers = [Server("primary", regions[PRIMARY].balancer_port)]
        if "no-backup-region" not in faults:
            front_servers.append(Server("secondary", regions[SECONDARY].balancer_port, backup=True))
        front = Haproxy("front", free_port(), directory, front_servers).start()
        assert front.pid is not None
        started.append(front.pid)
        state = LabState(directory=str(directory), front_port=front.port, front_pid=front.pid, regions=regions,
                         postgres_roots={PRIMARY: str(postgres.primary.root), SECONDARY: str(postgres.standby.root)},
                         version=version, faults=sorted(faults))
        wait_until_ok(f"{state.front_url}/health", timeout_s=20)
        state.write()  # only a lab that came up is recorded: `down` must never signal PIDs of a failed one
        return state
    except BaseException as error:  # Ctrl-C included: HAProxy runs in its own session and would survive
        _stop_pids(started)
        postgres.remove()
        if isinstance(error, Exception):
            raise LabError(f"lab did not come up: {error}") from error
        raise


def _stop_pids(pids: list[int], timeout_s: float = 10) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + timeout_s
    for pid in pids:
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if _alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # exited between the check and the signal
                continue


def _alive(pid: int) -> bool:
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)  # reap our own children so they do not linger as zombies
        if finished == pid:
            return False
    except ChildProcessError:
        pass  # started by another process (python -m ops.lab up); only signal 0 can tell
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def down(directory: Path = DEFAULT_DIRECTORY) -> LabState:
    """Stop every process the state file names and both PostgreSQL servers; remove the state file.

    :raise LabError: no lab is up in ``directory``.
    """
    state = LabState.read(directory)
    _stop_pids(state.pids())
    for root in [*state.postgres_roots.values(), *state.restored_roots]:
        data = Path(root) / "data"
        if (data / "postmaster.pid").exists():
            LocalPostgres(root=Path(root), port=0).stop()
        shutil.rmtree(root, ignore_errors=True)
    (directory / STATE_FILE).unlink()
    return state


def status(directory: Path = DEFAULT_DIRECTORY) -> Mapping[str, object]:
    """What is running: per process alive or not, and what the front serves."""
    state = LabState.read(directory)
    return {"front": state.front_url, "alive": {pid: _alive(pid) for pid in state.pids()}}
