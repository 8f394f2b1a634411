from __future__ import annotations

import datetime as dt

import pytest

from gates import provenance
from gates.custody import current_commit


def test_a_sidecar_records_this_commit_and_reads_back(tmp_path):
    result = tmp_path / "sbom.cdx.json"
    result.write_text("{}")
    assert provenance.main([str(result)]) == 0
    found = provenance.read(result)
    assert found is not None and found.commit == current_commit()
    assert dt.datetime.now(dt.UTC) - found.produced_at < dt.timedelta(minutes=5)


def test_no_file_or_a_missing_one_is_refused_without_writing_anything(tmp_path, capsys):
    with pytest.raises(SystemExit) as usage:
        provenance.main([])
    assert usage.value.code == 2
    assert provenance.main([str(tmp_path / "absent.json")]) == 2
    assert "not a file: " in capsys.readouterr().err and not list(tmp_path.iterdir())


def test_an_unreadable_sidecar_is_no_provenance(tmp_path):
    result = tmp_path / "gate.json"
    provenance.sidecar(result).write_text('{"commit": "abc"}')  # no time
    assert provenance.read(result) is None
