"""The bundle's other commands (``python -m reports verify|sign|keygen|diff|oscal``): each returns the exit code
its one line states, 0 pass, 1 fail, 2 could not judge."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from policies.catalog import CatalogError, load_catalogs
from reports import diff as compliance_diff
from reports import manifest, oscal, signing


def verify(directory: Path, public_key: Path | None = None) -> int:
    """The manifest, and with a public key the signature over it: 0 pass, 1 a problem, 2 nothing to check."""
    try:
        result = manifest.verify(directory)
        key = signing.load_public(public_key) if public_key else None
    except (manifest.ManifestMissing, signing.KeyFileError) as error:
        print(f"verify: INCONCLUSIVE: {error}", file=sys.stderr)
        return 2
    problems = list(result.problems)
    signed = ""
    if key is not None:
        check = signing.verify_signature(directory, key)
        problems += check.problems
        signed = f", signed by key {check.signer[:16]}{check.summary}" if check.signer and not check.problems else ""
    for problem in problems:
        print(f"verify: {problem}", file=sys.stderr)
    state = "FAIL" if problems else "PASS"
    print(f"verify: {state}: {result.checked} files listed in {directory / manifest.MANIFEST}{signed}, "
          f"{len(problems)} problems")
    return 1 if problems else 0


def _sign(directory: Path, private_key: Path) -> int:
    try:
        path = signing.sign(directory, signing.load_private(private_key))
    except (signing.KeyFileError, signing.Unsigned) as error:
        print(f"sign: INCONCLUSIVE: {error}", file=sys.stderr)
        return 2
    key = signing.key_id(signing.load_private(private_key).public_key())
    print(f"sign: PASS: {path} (in-toto Statement in a DSSE envelope, Ed25519 key {key[:16]})")
    return 0


def _keygen(prefix: Path) -> int:
    secret, public = signing.generate_keys(prefix)
    print(f"keygen: private key {secret} (keep it secret), public key {public} (give it to auditors)")
    return 0


def oscal_export(args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports oscal", description=(
        "Write a bundle's OSCAL component definition, assessment results and POA&M to BUNDLE/oscal/ "
        "(make evidence does it; the manifest then covers them)."))
    parser.add_argument("bundle", type=Path, nargs="?", default=Path("reports/out"))
    try:
        options = parser.parse_args(args)
    except SystemExit as stop:
        return int(stop.code or 0)
    # Only a bundle that still matches its manifest gets the documents and a new manifest; a signature made
    # before them no longer covers the bundle, so it goes (sign again).
    try:
        checked = manifest.verify(options.bundle)
        if checked.problems:
            raise ValueError(f"does not match its manifest ({checked.problems[0]}); regenerate it")
        written = oscal.export(options.bundle, load_catalogs())
    except (OSError, ValueError, KeyError, CatalogError) as error:
        print(f"oscal: INCONCLUSIVE: {options.bundle}: {error}", file=sys.stderr)
        return 2
    manifest.write(options.bundle)
    (options.bundle / manifest.SIGNATURE).unlink(missing_ok=True)
    print(f"oscal: PASS: {', '.join(str(path) for path in written)} (OSCAL {oscal.OSCAL_VERSION}); manifest "
          "rewritten, any earlier signature removed")
    return 0


def diff(args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports diff", description=(
        "What HEAD changes in compliance against BASE: findings, acknowledgments, attestations and control "
        "statuses. Exit 1 when a control regresses or a new unacknowledged finding appears."))
    parser.add_argument("base", type=Path, help="a bundle directory or its evidence.json")
    parser.add_argument("head", type=Path, help="a bundle directory or its evidence.json")
    parser.add_argument("--markdown", type=Path, help="also write the Markdown here (a PR comment, a job summary)")
    parser.add_argument("--json", type=Path, help="also write the diff as JSON here")
    try:
        options = parser.parse_args(args)
        base, head = compliance_diff.load(options.base), compliance_diff.load(options.head)
    except SystemExit as stop:
        return int(stop.code or 0)
    except compliance_diff.DiffInputError as error:
        print(f"diff: INCONCLUSIVE: {error}", file=sys.stderr)
        return 2
    result = compliance_diff.compare(base, head)
    text = compliance_diff.markdown(result, base, head)
    if options.markdown:
        options.markdown.write_text(text)
    if options.json:
        options.json.write_text(json.dumps(compliance_diff.to_json(result), indent=1) + "\n")
    print(text)
    return result.exit_code


def sign_or_keygen(args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m reports {args[0]}", description=(
        "Sign a bundle: an in-toto Statement of every file in a DSSE envelope (Ed25519)." if args[0] == "sign"
        else "Write an Ed25519 key pair: PREFIX.pem (private) and PREFIX.pub.pem."))
    if args[0] == "sign":
        parser.add_argument("bundle", type=Path)
        parser.add_argument("--key", type=Path, required=True, help="Ed25519 private key (PEM, unencrypted)")
    else:
        parser.add_argument("prefix", type=Path)
    try:
        options = parser.parse_args(args[1:])
    except SystemExit as stop:
        return int(stop.code or 0)
    return _sign(options.bundle, options.key) if args[0] == "sign" else _keygen(options.prefix)
