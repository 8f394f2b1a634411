"""The operations a drill performs, whatever the target: the local lab (``ops.lab.driver.LabDriver``) or a
deployed environment (``ops.aws_driver.AwsDriver``). Feature steps talk to this protocol only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class RegionStatus:
    region: str
    healthy: bool
    live_colour: str
    weights: Mapping[str, int] = field(default_factory=dict)  # colour -> share of traffic, percent
    versions: Mapping[str, str] = field(default_factory=dict)  # colour -> version


@dataclass(frozen=True)
class Status:
    active_region: str | None  # where the global entry point sends traffic; None when nothing answers
    regions: Mapping[str, RegionStatus]


@dataclass(frozen=True)
class RestoredDatabase:
    """A database restored from backups into a new instance, beside the one it came from."""

    name: str  # lab: the new cluster's folder name; AWS: the new DB instance identifier
    endpoint: str  # host:port
    restored_to: dt.datetime  # the point in time asked for (UTC)
    seconds: float  # from the restore call until the instance accepted writes


class DriverError(RuntimeError):
    """The target refused or could not perform an operation; the message names it and the target."""


class Driver(Protocol):
    # How long a failover may take to show on this target before a drill calls it failed (the lab's health
    # checks react in seconds; Route 53's in minutes).
    failover_timeout_s: float
    # How long a server may go on answering with the flags it read before (its flag cache): after set_read_only,
    # every server has applied the new value once this has passed.
    flag_ttl_s: float

    def status(self) -> Status: ...

    def deploy(self, region: str, version: str, *, healthy: bool = True) -> str:
        """Put ``version`` on the idle colour of ``region`` with no traffic; returns that colour. ``healthy``
        False deploys a build whose requests fail (the drills' bad build)."""
        ...

    def shift_traffic(self, region: str, percent: int) -> None:
        """Send ``percent`` of ``region``'s traffic to the idle colour, the rest to the live one."""
        ...

    def promote(self, region: str) -> None:
        """The idle colour becomes live with all traffic (the end of a blue/green deployment)."""
        ...

    def rollback(self, region: str) -> str:
        """All traffic back to the live colour (AWS: the revision before the newest release); says what it did."""
        ...

    def wait_settled(self, region: str, timeout_s: float) -> bool:
        """Whether ``region``'s service settled within ``timeout_s``: no rollout or rollback still running."""
        ...

    def fail_region(self, region: str) -> None: ...

    def restore_region(self, region: str) -> None: ...

    def promote_replica(self, region: str) -> None: ...

    def replica_caught_up(self, region: str) -> bool:
        """Whether ``region``'s replica has replayed everything its source acknowledged (the planned
        switchover waits for this before it fails the primary)."""
        ...

    def restore_database(self, region: str, to_time: dt.datetime, name: str) -> RestoredDatabase:
        """Restore ``region``'s database as it was at ``to_time`` (UTC) into a new instance called ``name``, from
        its backups and archived transaction logs; waits until the new instance is available. The original is not
        touched. :raise DriverError: ``to_time`` is outside what the backups cover, or the restore failed."""
        ...

    def set_read_only(self, enabled: bool) -> None:
        """Pause (True) or resume (False) writes in every region through the service's ``read_only`` flag (AWS:
        a new AppConfig version, deployed at once; lab: the regions' flag files). Returns once the flag is
        published; servers apply it within their flag TTL, so callers wait for writes to answer 503.
        :raise DriverError: the flag could not be published."""
        ...

    def active_region(self) -> str | None: ...

    def write(self, record: Mapping[str, Any]) -> int:
        """Through the global entry point; returns the acknowledged record's id. :raise DriverError: refused."""
        ...

    def read(self, record_id: int, *, region: str | None = None) -> Mapping[str, Any] | None: ...

    def region_url(self, region: str) -> str:
        """The region's own entry point (its load balancer), bypassing the global one."""
        ...

    def cli_target(self) -> list[str]:
        """The arguments that make ``python -m ops`` act on the same target."""
        ...

    def refresh(self) -> None:
        """Re-read the target's state after another process (the ops CLI) changed it."""
        ...
