"""Signed bundles: an in-toto Statement about every file of the bundle, in a DSSE envelope signed with Ed25519.

    python -m reports keygen KEY                 KEY.pem (private, 0600) and KEY.pub.pem
    python -m reports sign DIR --key KEY.pem     DIR/bundle.intoto.json
    python -m reports verify DIR --key KEY.pub.pem

``MANIFEST.sha256`` proves the files agree with the manifest; the signature proves who vouched for the manifest. The
Statement's subjects are the manifest itself and every file it lists, each with its sha256; its predicate is the
bundle's summary (commit, verdict, sources, control counts), of our own type. The envelope follows DSSE v1: the
signature covers ``PAE(payloadType, payload)``, so neither the type nor a byte of the Statement can change unseen.

Why not sigstore or in-toto's own library: both want a network (Fulcio, Rekor) or pull a large dependency tree for
what is forty lines over ``cryptography``; an auditor can check the envelope with any DSSE tool and our public key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gates.custody import sha256
from reports import manifest

ENVELOPE = manifest.SIGNATURE
PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://records.example.com/attestations/evidence-bundle/v1"


class KeyFileError(ValueError):
    """A key file that is missing, unreadable or not Ed25519."""


class Unsigned(ValueError):
    """The bundle cannot be signed as it stands (no manifest, or a manifest that does not verify)."""


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what is actually signed."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def generate_keys(prefix: Path) -> tuple[Path, Path]:
    private = Ed25519PrivateKey.generate()
    secret, public = prefix.with_name(prefix.name + ".pem"), prefix.with_name(prefix.name + ".pub.pem")
    descriptor = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    public.write_bytes(private.public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo))
    return secret, public


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise KeyFileError(f"{path}: not a readable unencrypted PEM private key ({error})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: a {type(key).__name__}, not an Ed25519 key")
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError, TypeError) as error:
        raise KeyFileError(f"{path}: not a readable PEM public key ({error})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path}: a {type(key).__name__}, not an Ed25519 key")
    return key


def _listed(directory: Path) -> dict[str, str]:
    """Manifest path -> sha256, plus the manifest itself."""
    listed, _ = manifest.entries(directory)  # malformed lines are manifest.verify's problems to report
    return {**listed, manifest.MANIFEST: sha256(directory / manifest.MANIFEST)}


def _predicate(directory: Path) -> dict[str, Any]:
    bundle = json.loads((directory / "bundle.json").read_text())
    evidence = json.loads((directory / "evidence.json").read_text())
    controls: dict[str, dict[str, int]] = {}
    for control in evidence.get("controls", []):
        counts = controls.setdefault(control["framework"], {})
        counts[control["status"]] = counts.get(control["status"], 0) + 1
    return {"commit": bundle.get("commit"), "generated_at": bundle.get("generated_at"),
            "exit_code": bundle.get("exit_code"), "required_sources": bundle.get("required_sources", []),
            "schema_version": evidence.get("schema_version"), "controls": controls}


def statement(directory: Path) -> dict[str, Any]:
    return {"_type": STATEMENT_TYPE,
            "subject": [{"name": name, "digest": {"sha256": digest}}
                        for name, digest in sorted(_listed(directory).items())],
            "predicateType": PREDICATE_TYPE, "predicate": _predicate(directory)}


def sign(directory: Path, key: Ed25519PrivateKey) -> Path:
    """:raise Unsigned: the bundle has no manifest or does not match it (a signature would vouch for that)."""
    try:
        checked = manifest.verify(directory)
    except manifest.ManifestMissing as error:
        raise Unsigned(str(error)) from None
    if checked.problems:
        raise Unsigned(f"the bundle does not match its manifest ({checked.problems[0]}); regenerate it")
    payload = json.dumps(statement(directory), sort_keys=True, separators=(",", ":")).encode()
    envelope = {"payloadType": PAYLOAD_TYPE, "payload": base64.b64encode(payload).decode(),
                "signatures": [{"keyid": key_id(key.public_key()),
                                "sig": base64.b64encode(key.sign(pae(PAYLOAD_TYPE, payload))).decode()}]}
    path = directory / ENVELOPE
    path.write_text(json.dumps(envelope, indent=1) + "\n")
    return path


@dataclass(frozen=True)
class SignatureCheck:
    problems: list[str] = field(default_factory=list)
    signer: str = ""
    summary: str = ""  # what the signer vouched for: a signed bundle may be a failing one


def verify_signature(directory: Path, key: Ed25519PublicKey) -> SignatureCheck:
    """The envelope is signed by ``key`` and its Statement names exactly the manifest's files and digests."""
    path = directory / ENVELOPE
    try:
        envelope = json.loads(path.read_text())
        payload = base64.b64decode(envelope["payload"], validate=True)
        signatures = list(envelope["signatures"])
        payload_type = str(envelope["payloadType"])
    except FileNotFoundError:
        return SignatureCheck([f"{ENVELOPE}: missing; the bundle is not signed"])
    except (ValueError, KeyError, TypeError) as error:
        return SignatureCheck([f"{ENVELOPE}: not a DSSE envelope ({type(error).__name__}: {error})"])
    if payload_type != PAYLOAD_TYPE:
        return SignatureCheck([f"{ENVELOPE}: payloadType {payload_type!r}, not {PAYLOAD_TYPE!r}"])
    expected_id = key_id(key)
    for signature in signatures:
        try:
            key.verify(base64.b64decode(signature["sig"], validate=True), pae(payload_type, payload))
        except (InvalidSignature, ValueError, KeyError, TypeError):
            continue
        return SignatureCheck(_statement_problems(directory, payload), signer=expected_id,
                              summary=_vouched(payload))
    ids = ", ".join(str(s.get("keyid", "?"))[:16] for s in signatures if isinstance(s, dict)) or "none"
    return SignatureCheck([f"{ENVELOPE}: no valid signature by key {expected_id[:16]} (signed by: {ids}); "
                           "the Statement was altered or another key signed it"])


def _vouched(payload: bytes) -> str:
    try:
        predicate = json.loads(payload)["predicate"]
        return f" (commit {str(predicate['commit'])[:12]}, exit code {predicate['exit_code']})"
    except (ValueError, KeyError, TypeError):
        return ""


def _statement_problems(directory: Path, payload: bytes) -> list[str]:
    try:
        signed = json.loads(payload)
        subjects = {s["name"]: s["digest"]["sha256"] for s in signed["subject"]}
        kinds = (signed["_type"], signed["predicateType"])
    except (ValueError, KeyError, TypeError) as error:
        return [f"{ENVELOPE}: the signed payload is not an in-toto Statement ({error})"]
    if kinds != (STATEMENT_TYPE, PREDICATE_TYPE):
        return [f"{ENVELOPE}: signed a {kinds[1]!r} statement, not {PREDICATE_TYPE!r}"]
    try:
        listed = _listed(directory)
    except OSError as error:
        return [f"{manifest.MANIFEST}: unreadable ({error})"]
    problems = [f"{name}: signed with sha256 {subjects[name][:12]}, the bundle has {listed[name][:12]}"
                for name in sorted(subjects.keys() & listed.keys()) if subjects[name] != listed[name]]
    problems += [f"{name}: in the bundle's manifest, not in the signed Statement"
                 for name in sorted(listed.keys() - subjects.keys())]
    problems += [f"{name}: in the signed Statement, not in the bundle's manifest"
                 for name in sorted(subjects.keys() - listed.keys())]
    return problems
