"""Signed bundles: the signature fails on any change an auditor must see, and passes on the untouched bundle."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import io
import json
import shutil
from pathlib import Path

import pytest

import reports.__main__ as cli
from reports import manifest, signing
from reports.__main__ import generate
from tests.reports.conftest import FakeGates, skip_printing


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("keys")
    assert cli.main(["keygen", str(folder / "auditor")]) == 0
    return folder / "auditor.pem", folder / "auditor.pub.pem"


@pytest.fixture(scope="module")
def unsigned(tmp_path_factory) -> Path:
    """One bundle of the static gates' results, built once (its PDF a placeholder: signing does not read it)."""
    gates = FakeGates(tmp_path_factory.mktemp("gates")).all_static()
    out = tmp_path_factory.mktemp("bundle") / "out"
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(io.StringIO()):
        skip_printing(patch)
        assert generate(gates.inputs, out, required=["nag"], take_screenshot=False,
                        now=dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)) == 0
    return out


@pytest.fixture
def signed(unsigned, keys, tmp_path) -> Path:
    bundle = Path(shutil.copytree(unsigned, tmp_path / "out"))
    assert cli.main(["sign", str(bundle), "--key", str(keys[0])]) == 0
    return bundle


def _verify(bundle: Path, public: Path) -> int:
    return cli.main(["verify", str(bundle), "--key", str(public)])


def test_the_untouched_signed_bundle_verifies(signed, keys, capsys):
    assert _verify(signed, keys[1]) == 0
    out = capsys.readouterr().out
    assert out.startswith("verify: PASS: ") and "signed by key " in out and ", exit code 0)" in out
    envelope = json.loads((signed / manifest.SIGNATURE).read_text())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["_type"] == signing.STATEMENT_TYPE and statement["predicateType"] == signing.PREDICATE_TYPE
    names = {subject["name"] for subject in statement["subject"]}
    assert {"evidence.json", "index.html", manifest.MANIFEST} <= names and manifest.SIGNATURE not in names
    assert statement["predicate"]["exit_code"] == 0 and statement["predicate"]["controls"]
    assert (keys[0].stat().st_mode & 0o777) == 0o600


def _flip_a_byte(bundle: Path) -> None:
    path = bundle / "evidence.json"
    data = bytearray(path.read_bytes())
    data[10] ^= 1
    path.write_bytes(bytes(data))


def _add_a_file(bundle: Path) -> None:
    (bundle / "inputs" / "extra.json").write_text("{}")


def _forge_the_manifest_too(bundle: Path) -> None:
    """An altered file with a manifest rewritten to match: the manifest check passes, the signature does not."""
    _flip_a_byte(bundle)
    manifest.write(bundle)


def _edit_the_statement(bundle: Path) -> None:
    path = bundle / manifest.SIGNATURE
    envelope = json.loads(path.read_text())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["exit_code"] = 0
    statement["predicate"]["commit"] = "another"
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    path.write_text(json.dumps(envelope))


@pytest.mark.parametrize("tamper, problem", [
    (_flip_a_byte, "evidence.json: altered"),
    (_add_a_file, "inputs/extra.json: not in the manifest"),
    (_forge_the_manifest_too, "evidence.json: signed with sha256"),
    (_edit_the_statement, "no valid signature by key"),
    (lambda bundle: (bundle / manifest.SIGNATURE).unlink(), "missing; the bundle is not signed"),
    # Behind a linked folder, files escape rglob and so the manifest; a bundle holds regular files only.
    (lambda bundle: (bundle / "addendum").symlink_to(bundle / "inputs"), "addendum: a link or special file"),
    (lambda bundle: (bundle / manifest.MANIFEST).write_text(
        (bundle / manifest.MANIFEST).read_text() + f"{'0' * 64}  ../outside.json\n"), "outside the bundle"),
])
def test_any_change_fails_verification(signed, keys, capsys, tamper, problem):
    tamper(signed)
    assert _verify(signed, keys[1]) == 1
    assert problem in capsys.readouterr().err


def test_another_key_fails_and_a_bundle_signed_by_it_fails_too(signed, keys, tmp_path, capsys):
    assert cli.main(["keygen", str(tmp_path / "intruder")]) == 0
    assert _verify(signed, tmp_path / "intruder.pub.pem") == 1
    assert "no valid signature by key" in capsys.readouterr().err
    # Re-signed by someone else: the auditor's key still refuses it.
    assert cli.main(["sign", str(signed), "--key", str(tmp_path / "intruder.pem")]) == 0
    assert _verify(signed, keys[1]) == 1


def test_a_bundle_that_no_longer_matches_its_manifest_is_not_signed(signed, keys, capsys):
    _flip_a_byte(signed)
    assert cli.main(["sign", str(signed), "--key", str(keys[0])]) == 2
    assert "the bundle does not match its manifest (evidence.json: altered" in capsys.readouterr().err


@pytest.mark.parametrize("content", [b"not a key", None])
def test_a_key_that_cannot_be_read_is_inconclusive(signed, tmp_path, capsys, content):
    key = tmp_path / "key.pem"
    if content is not None:
        key.write_bytes(content)
    assert _verify(signed, key) == 2
    assert cli.main(["sign", str(signed), "--key", str(key)]) == 2
    assert "INCONCLUSIVE: " in capsys.readouterr().err
