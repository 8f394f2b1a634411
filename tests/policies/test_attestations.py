"""The attestation files: every way one cannot be checked stops the evidence with one line naming file and field."""

from __future__ import annotations

import datetime as dt

import pytest

from policies.attestations import AttestationError, load_attestations
from policies.catalog import load_catalogs
from tests.factories import write_attestation

TODAY = dt.date(2026, 12, 5)
CATALOGS = load_catalogs()


def _write(tmp_path, **overrides):
    write_attestation(tmp_path, **overrides)


def _load(tmp_path):
    return load_attestations(CATALOGS, TODAY, directory=tmp_path / "attestations", root=tmp_path)


def test_a_complete_attestation_loads_and_counts(tmp_path):
    _write(tmp_path)
    (attestation,) = _load(tmp_path)
    assert attestation.files == (tmp_path / "attestations" / "training.yaml", (tmp_path / "record.md").resolve())
    assert attestation.counts and attestation.valid_on(TODAY) and not attestation.valid_on(dt.date(2027, 11, 1))


@pytest.mark.parametrize("overrides, line", [
    ({"artifact": {"path": "record.md", "sha256": "0" * 64}}, "training.yaml: artifact.sha256: does not match record.md"),
    ({"artifact": {"path": "gone.md", "sha256": "0" * 64}}, "training.yaml: artifact.path: gone.md not found"),
    ({"controls": ["HIPAA.Security:164.999"]}, "training.yaml: controls: unknown control 'HIPAA.Security:164.999'"),
    ({"attested_on": "2026-12-24"}, "training.yaml: attested_on: 2026-12-24 is in the future"),
    ({"expires": "2028-01-31"}, "training.yaml: expires: more than 365 days after attested_on"),
    # Access reviews are quarterly: the catalog gives AC-2 90 days.
    ({"controls": ["NIST.800.53.R5:AC-2"], "expires": "2027-02-01"},
     "training.yaml: expires: more than 90 days after attested_on"),
    ({"attested_by": {"role": "Security Officer"}}, "training.yaml: attested_by.name: Field required"),
    ({"controls": ["HIPAA.Security:164.312(a)(2)(iv)"]},
     "training.yaml: controls: 'HIPAA.Security:164.312(a)(2)(iv)' is assessed automated"),
    ({"artifact": {"path": "https://example.com/record.pdf", "sha256": "0" * 64}},
     "training.yaml: artifact.path: https://example.com/record.pdf is a URI"),
    ({"artifact": {"path": "../outside.md", "sha256": "0" * 64}},
     "training.yaml: artifact.path: ../outside.md is outside the repository"),
    ({"artifact": {"path": "/etc/hostname", "sha256": "0" * 64}},
     "training.yaml: artifact.path: /etc/hostname is outside the repository"),
    ({"status": "pending"}, "training.yaml: status: Input should be 'attested' or 'example'"),
])
def test_an_attestation_that_cannot_be_checked_is_refused_naming_file_and_field(tmp_path, overrides, line):
    _write(tmp_path, **overrides)
    with pytest.raises(AttestationError) as refused:
        _load(tmp_path)
    assert str(refused.value).startswith(line)


def test_the_shipped_attestations_are_examples_that_never_count():
    attestations = load_attestations(CATALOGS, TODAY)
    assert attestations and all(a.status == "example" and not a.counts for a in attestations)
