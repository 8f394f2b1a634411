"""Which controls each cdk-nag rule cites, read from the installed cdk-nag itself.

cdk-nag ties rules to controls only in prose: each pack's ``info`` text ends with ``(Control IDs: ...)``.
The Python package ships the packs' JavaScript inside its jsii tarball, so the mapping is parsed from there
(the same text the validation report carries) instead of being retyped into the catalogs, and a cdk-nag
upgrade that changes a mapping shows up as a difference in ``policies/controls/*.yaml``.
"""

from __future__ import annotations

import importlib.util
import re
import tarfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path

PACK_SOURCES = {"HIPAA.Security": "hipaa-security.js", "NIST.800.53.R5": "nist-800-53-r5.js"}
_APPLY_RULE = re.compile(r"this\.applyRule\(\{(?P<body>.*?)\}\);", re.DOTALL)
_INFO = re.compile(r"""info:\s*(?P<q>['"])(?P<text>(?:\\.|(?!(?P=q)).)*)(?P=q)""", re.DOTALL)
_RULE = re.compile(r"rule:\s*\w+\.(?P<name>\w+)")
_CONTROLS = re.compile(r"\(Control IDs?: (?P<ids>[^)]*(?:\([^)]*\)[^)]*)*)\)\.?\s*$")


class NagSourceError(RuntimeError):
    """The installed cdk-nag does not look as expected; the message names what is missing."""


def _tarball() -> Path:
    # Located, not imported: importing cdk_nag starts a jsii kernel (a Node process) for nothing.
    spec = importlib.util.find_spec("cdk_nag")
    if spec is None or spec.origin is None:
        raise NagSourceError("cdk-nag is not installed")
    folder = Path(spec.origin).parent / "_jsii"
    found = sorted(folder.glob("cdk-nag@*.jsii.tgz"))
    if not found:
        raise NagSourceError(f"no cdk-nag jsii tarball under {folder}")
    return found[-1]


def cdk_nag_version() -> str:
    return _tarball().name.removeprefix("cdk-nag@").removesuffix(".jsii.tgz")


def normalize(control: str) -> str:
    """cdk-nag prints one id with a missing parenthesis (``164.312(e)(1``)."""
    control = control.strip()
    return control + ")" * (control.count("(") - control.count(")"))


def parse_pack(source: str, pack: str) -> dict[str, tuple[str, ...]]:
    """Rule id (``HIPAA.Security-RDSStorageEncrypted``) -> the control ids its message cites.

    :raise NagSourceError: a rule without a control list, or a pack without rules.
    """
    rules: dict[str, tuple[str, ...]] = {}
    for call in _APPLY_RULE.finditer(source):
        body = call["body"]
        info, rule = _INFO.search(body), _RULE.search(body)
        if not info or not rule:
            raise NagSourceError(f"{pack}: an applyRule call without info or rule: {body[:120]!r}")
        controls = _CONTROLS.search(info["text"].replace("\\'", "'"))
        if not controls:
            raise NagSourceError(f"{pack}-{rule['name']}: no '(Control IDs: ...)' in {info['text'][:160]!r}")
        cited = tuple(dict.fromkeys(normalize(c) for c in controls["ids"].split(",") if c.strip()))
        rules[f"{pack}-{rule['name']}"] = cited
    if not rules:
        raise NagSourceError(f"{pack}: no rules found in the pack source")
    return rules


@cache
def rule_controls() -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    """Pack -> rule id -> cited control ids, for the packs the catalogs cover."""
    with tarfile.open(_tarball()) as archive:
        return {
            pack: parse_pack(archive.extractfile(f"package/lib/packs/{name}").read().decode(), pack)  # type: ignore[union-attr]
            for pack, name in PACK_SOURCES.items()
        }
