"""The delivery records: what the deploy workflow decided for each environment step (a deployment record) and each
rollback an operator or the pipeline ran later (a rollback record). ``python -m ops record-deployment`` and
``python -m ops rollback --record`` write them; the workflow uploads them to the evidence vault
(``<env>/deployments/``); ``python -m reports kpis`` reads them back. One JSON file per record.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

Outcome = Literal["promoted", "rolled_back"]


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("a time without a time zone")
    return moment.astimezone(dt.UTC)


Moment = Annotated[dt.datetime, AfterValidator(_aware)]


class DeliveryError(ValueError):
    """A record is malformed or a records folder is missing; the message names the file."""


class _Timed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    env: str = Field(min_length=1)
    commit: str = Field(pattern=r"^[0-9a-f]{40}$")  # the full sha: records of one release are matched by it
    started_at: Moment
    finished_at: Moment

    @model_validator(mode="after")
    def _ordered(self) -> _Timed:
        if self.finished_at < self.started_at:
            raise ValueError("finished_at is before started_at")
        return self


class DeploymentRecord(_Timed):
    """One environment step of a release: it reached the service and stayed (promoted) or was rolled back (by
    ECS's alarms during the bake, the bake's load run, or the smoke check's rollback)."""

    kind: Literal["deployment"] = "deployment"
    step: Literal["primary", "secondary"]
    run_id: str = Field(min_length=1)
    outcome: Outcome


class RollbackRecord(_Timed):
    """A release rolled back after its deployment finished; ``detected_at`` is when the failure was noticed (the
    incident's start), so restore time runs from there to ``finished_at``."""

    kind: Literal["rollback"] = "rollback"
    region: str
    detected_at: Moment
    reason: str = Field(min_length=3)


Record = Annotated[DeploymentRecord | RollbackRecord, Field(discriminator="kind")]
_RECORD: TypeAdapter[DeploymentRecord | RollbackRecord] = TypeAdapter(Record)


def write_record(record: DeploymentRecord | RollbackRecord, directory: Path) -> Path:
    where = record.step if isinstance(record, DeploymentRecord) else record.region
    name = f"{record.kind}-{record.env}-{where}-{record.started_at:%Y%m%dT%H%M%SZ}-{record.commit[:12]}.json"
    path = directory / name
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(record.model_dump_json(indent=1))
    return path


def read_records(directory: Path) -> list[DeploymentRecord | RollbackRecord]:
    """:raise DeliveryError: the folder is missing, or a file in it is not a record."""
    if not directory.is_dir():
        raise DeliveryError(f"{directory}: no such folder of delivery records")
    records = []
    for path in sorted(directory.glob("*.json")):
        try:
            records.append(_RECORD.validate_python(json.loads(path.read_text())))
        except (ValueError, ValidationError) as error:
            first = error.errors()[0] if isinstance(error, ValidationError) else {"loc": (), "msg": str(error)}
            where = ".".join(str(p) for p in first["loc"])
            raise DeliveryError(f"{path}: {where + ': ' if where else ''}{first['msg']}") from None
    return records
