"""Attestations (``policies/attestations/*.yaml``): the human half of the evidence, for controls no scan can prove.

Each says which controls it covers (``<framework pack>:<control id>``, e.g. ``HIPAA.Security:164.308(a)(5)(i)``),
what was done, who attests (role and name), when, the artifact that records it (a file in this repository and its
sha256) and when it expires, no later than the covered controls' maximum evidence age. A file that is wrong in any
of these ways stops the evidence generator with one line naming the file and the field: an attestation that cannot
be checked is no evidence. ``status: example`` marks a template shipped for people to copy; it never counts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from policies.catalog import Catalog
from policies.files import read_yaml

ATTESTATIONS_DIR = Path(__file__).with_name("attestations")
ROOT = Path(__file__).resolve().parents[1]


class AttestationError(ValueError):
    """An attestation file is malformed or cannot be checked; the message names the file and the field."""


class Attester(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    role: str = Field(min_length=2)
    name: str = Field(min_length=2)


class Artifact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(min_length=1)  # relative to the repository root
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Attestation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{2,60}$")
    status: Literal["attested", "example"]
    controls: tuple[str, ...] = Field(min_length=1)
    statement: str = Field(min_length=20)
    attested_by: Attester
    attested_on: dt.date
    expires: dt.date
    artifact: Artifact
    # Set by the loader, never by the file: the attestation and its artifact, for the evidence bundle's inputs.
    _files: tuple[Path, ...] = PrivateAttr(default=())

    @property
    def files(self) -> tuple[Path, ...]:
        return self._files

    @property
    def counts(self) -> bool:
        return self.status == "attested"

    def valid_on(self, today: dt.date) -> bool:
        return self.counts and self.attested_on <= today <= self.expires


def _control_ages(catalogs: Mapping[str, Catalog]) -> dict[str, int | None]:
    """Each control's maximum evidence age; None for an automated one, which no attestation can count for."""
    return {f"{pack}:{control.id}": (None if catalog.assessment_of(control) == "automated"
                                     else control.max_evidence_age_days)
            for pack, catalog in catalogs.items() for control in catalog.controls}


def _artifact(attestation: Attestation, source: str, root: Path) -> Path:
    """:raise AttestationError: the path is a URI, absolute, or leaves the repository."""
    path = attestation.artifact.path
    if "://" in path:
        raise AttestationError(f"{source}: artifact.path: {path} is a URI, which cannot be checked offline; commit "
                               "the artifact (or an export of it) to the repository and give its path")
    artifact = (root / path).resolve()
    if Path(path).is_absolute() or not artifact.is_relative_to(root.resolve()):
        raise AttestationError(f"{source}: artifact.path: {path} is outside the repository")
    return artifact


def _checked(attestation: Attestation, source: str, ages: Mapping[str, int | None], today: dt.date,
             root: Path) -> Path:
    """:return: the artifact's file. :raise AttestationError: naming the file and the field."""
    unknown = [control for control in attestation.controls if control not in ages]
    if unknown:
        raise AttestationError(f"{source}: controls: unknown control {unknown[0]!r} (expected <pack>:<id>)")
    automated = [control for control in attestation.controls if ages[control] is None]
    if automated:
        raise AttestationError(f"{source}: controls: {automated[0]!r} is assessed automated: only its checks can "
                               "prove it, an attestation never counts for it")
    if attestation.attested_on > today:
        raise AttestationError(f"{source}: attested_on: {attestation.attested_on} is in the future")
    if attestation.expires < attestation.attested_on:
        raise AttestationError(f"{source}: expires: before attested_on")
    longest = min(age for control in attestation.controls if (age := ages[control]) is not None)
    if (attestation.expires - attestation.attested_on).days > longest:
        raise AttestationError(f"{source}: expires: more than {longest} days after attested_on, the maximum "
                               "evidence age of a control it covers")
    artifact = _artifact(attestation, source, root)
    try:
        digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
    except OSError:
        raise AttestationError(f"{source}: artifact.path: {attestation.artifact.path} not found") from None
    if digest != attestation.artifact.sha256:
        raise AttestationError(f"{source}: artifact.sha256: does not match {attestation.artifact.path} "
                               f"(sha256 {digest})")
    return artifact


def load_attestations(catalogs: Mapping[str, Catalog], today: dt.date, directory: Path = ATTESTATIONS_DIR,
                      root: Path = ROOT) -> list[Attestation]:
    """Every attestation file, checked. An expired attestation is loaded (the report shows it stale).

    :raise AttestationError: a file is not YAML, misses a field, names an unknown or an automated control, is dated
        in the future, outlives its controls' maximum evidence age, or its artifact is a URI, outside the repository,
        missing or of another hash.
    """
    ages = _control_ages(catalogs)
    found = []
    for path in sorted(directory.glob("*.yaml")):
        source = path.name
        document = read_yaml(path, AttestationError)
        try:
            attestation = Attestation.model_validate(document)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "(top level)"
            raise AttestationError(f"{source}: {where}: {first['msg']}") from None
        artifact = _checked(attestation, source, ages, today, root)
        attestation._files = (path, artifact)
        found.append(attestation)
    ids = [attestation.id for attestation in found]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise AttestationError(f"attestation ids repeat: {repeated}")
    return found
