"""Typed loader for ``policies/acknowledgments.yaml``, the one registry of accepted findings.

An entry says which rule ids it accepts, on which construct paths, why, who owns the decision and when it
must be reviewed again. The guards apply entries as code (``aspects/nag.py``); the evidence generator reads
the same file. A registry that cannot be trusted (expired entry, vague reason) stops the build.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from fnmatch import fnmatchcase
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from policies.files import read_yaml

REGISTRY_FILE = Path(__file__).with_name("acknowledgments.yaml")
NAG_SOURCES = ("AwsSolutions", "HIPAA.Security", "NIST.800.53.R5")
CHECKOV_SOURCE = "checkov"
# Vulnerabilities in the service image (Trivy in CI, ECR's scan on push): `image::CVE-2026-1234`. Such an entry's
# paths are globs over the vulnerable package's name, since an image finding has no construct.
IMAGE_SOURCE = "image"
SOURCES = (*NAG_SOURCES, CHECKOV_SOURCE, IMAGE_SOURCE)
_VULNERABILITY_ID = re.compile(r"^(CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3})$")
MAX_TERM_DAYS = 400
_RULE_ID = re.compile(r"^(?P<source>[A-Za-z0-9.-]+)::(?P<rule>\S+)$")
_VAGUE_REASONS = re.compile(r"\b(todo|tbd|fixme|false positive|not applicable|n/a)\b", re.IGNORECASE)
# The tail of every reason and checkov skip comment the guards write for an entry; the gates and the evidence read
# the entry back from it, so a suppression without it was not made by the registry.
ACK_MARKER = re.compile(r"\[ack (?P<id>[a-z0-9-]+); owner (?P<owner>[^;]+); review by (?P<expires>[0-9-]+)\]")
_ONLY_WILDCARDS = re.compile(r"^[*?]+$")


def marked_entry(text: str) -> str | None:
    """The id of the entry whose marker ``text`` carries, or None."""
    marker = ACK_MARKER.search(text)
    return marker["id"] if marker else None


def segment_matches(pattern: str, construct_id: str) -> bool:
    """One segment of a registry path glob against one construct id."""
    return fnmatchcase(construct_id, pattern)


def path_matches(pattern: str, construct_path: str) -> bool:
    """A registry path glob against a construct path, one segment at a time: ``*`` and ``?`` stay within one
    construct id (``*/Service-*/Alb/SecurityGroup/Resource`` names that group in each environment's service stacks
    and nothing deeper), so an entry cannot reach further down the tree than it spells out."""
    patterns, ids = pattern.split("/"), construct_path.split("/")
    return len(patterns) == len(ids) and all(segment_matches(p, i) for i, p in zip(ids, patterns, strict=True))


class RegistryError(ValueError):
    """The registry is malformed, or an entry has expired; the message names the entry."""


class AcknowledgmentEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{2,60}$")
    rules: tuple[str, ...] = Field(min_length=1)
    paths: tuple[str, ...] = Field(min_length=1)
    reason: str = Field(min_length=20)
    owner: str = Field(min_length=2)
    expires: dt.date
    environments: tuple[str, ...] = ()
    # How many nag findings the entry suppresses in each environment it applies to: one number for all, or one
    # per environment. The synth gate counts them and fails on any difference, so a new finding under an existing
    # entry is reviewed instead of absorbed (the failure line says the count to review).
    accepts: int | dict[str, int] | None = None

    @property
    def marker(self) -> str:
        return f"[ack {self.id}; owner {self.owner}; review by {self.expires}]"

    def accepted_in(self, env: str) -> int | None:
        """The findings the entry accepts in ``env``, or None when it states no number there."""
        if isinstance(self.accepts, dict):
            return self.accepts.get(env)
        return self.accepts

    @field_validator("paths")
    @classmethod
    def _paths_name_constructs(cls, paths: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in paths:
            if all(_ONLY_WILDCARDS.match(segment) for segment in pattern.split("/")):
                raise ValueError(f"path '{pattern}' is a blanket wildcard; name the constructs the finding is on")
        return paths

    @field_validator("accepts")
    @classmethod
    def _accepts_counts(cls, accepts: int | dict[str, int] | None) -> int | dict[str, int] | None:
        counts = accepts.values() if isinstance(accepts, dict) else [] if accepts is None else [accepts]
        if any(count < 1 for count in counts) or accepts == {}:
            raise ValueError("accepts counts findings an entry suppresses; each must be at least 1")
        return accepts

    @model_validator(mode="after")
    def _accepts_what_it_suppresses(self) -> AcknowledgmentEntry:
        if self.nag_rules and self.accepts is None:
            raise ValueError("an entry with nag rules states how many findings it accepts per environment "
                             "(accepts: N, or accepts: {dev: N, ...}); the synth gate prints the counts")
        if not self.nag_rules and self.accepts is not None:
            raise ValueError("accepts counts nag findings; this entry has no nag rules")
        if isinstance(self.accepts, dict) and self.environments:
            strays = sorted(set(self.accepts) - set(self.environments))
            if strays:
                raise ValueError(f"accepts names environments {strays} the entry does not apply to")
        return self

    @field_validator("rules")
    @classmethod
    def _rules_namespaced(cls, rules: tuple[str, ...]) -> tuple[str, ...]:
        for rule in rules:
            match = _RULE_ID.match(rule)
            if not match:
                raise ValueError(f"rule '{rule}' is not namespaced like 'AwsSolutions::AwsSolutions-S1'")
            source = match["source"]
            if source not in SOURCES:
                raise ValueError(f"rule '{rule}' names source '{source}'; expected one of {list(SOURCES)}")
            if source in NAG_SOURCES and not match["rule"].startswith(f"{source}-"):
                raise ValueError(f"rule '{rule}' belongs to another pack than '{source}'")
            if source == CHECKOV_SOURCE and not re.match(r"^CKV_[A-Z0-9_]+$", match["rule"]):
                # The gate re-checks a skipped resource on its own, which only resource checks judge faithfully.
                raise ValueError(f"rule '{rule}' is not a checkov resource check (CKV_...); graph checks "
                                 "(CKV2_) cannot be skipped")
            if source == IMAGE_SOURCE and not _VULNERABILITY_ID.match(match["rule"]):
                raise ValueError(f"rule '{rule}' is not a vulnerability id like 'image::CVE-2026-1234' or "
                                 "'image::GHSA-xxxx-xxxx-xxxx'")
        sources = {rule.split("::", 1)[0] == IMAGE_SOURCE for rule in rules}
        if len(sources) > 1:
            # Their paths mean different things (packages, constructs), so one entry cannot hold both.
            raise ValueError("an entry acknowledges image vulnerabilities or template findings, not both")
        return rules

    @field_validator("reason")
    @classmethod
    def _reason_specific(cls, reason: str) -> str:
        if _VAGUE_REASONS.search(reason):
            raise ValueError(f"reason '{reason}' is vague; say why the rule cannot be met here")
        return " ".join(reason.split())

    @property
    def nag_rules(self) -> tuple[str, ...]:
        """Namespaced ids as CDK's validation report spells ``acknowledgedId``."""
        return tuple(rule for rule in self.rules if rule.split("::", 1)[0] in NAG_SOURCES)

    @property
    def checkov_checks(self) -> tuple[str, ...]:
        """Bare checkov check ids (``CKV_AWS_18``), as written into a resource's ``Metadata.checkov.skip``."""
        return tuple(rule.split("::", 1)[1] for rule in self.rules if rule.startswith(f"{CHECKOV_SOURCE}::"))

    @property
    def image_vulnerabilities(self) -> tuple[str, ...]:
        """Bare vulnerability ids (``CVE-2026-1234``) this entry accepts in the service image."""
        return tuple(rule.split("::", 1)[1] for rule in self.rules if rule.startswith(f"{IMAGE_SOURCE}::"))

    @property
    def governs_constructs(self) -> bool:
        """Whether the paths are construct paths (nag and checkov entries), which the guards apply at synth."""
        return not self.image_vulnerabilities

    def matches(self, construct_path: str) -> bool:
        """Whether one of the entry's path globs names ``construct_path`` (see ``path_matches``)."""
        return any(path_matches(pattern, construct_path) for pattern in self.paths)

    def applies_to(self, env: str | None) -> bool:
        """``None`` (no environment named, as for the image gate in CI): only entries without environments."""
        return not self.environments or env in self.environments


class Registry(BaseModel):
    model_config = ConfigDict(frozen=True)

    entries: tuple[AcknowledgmentEntry, ...]

    def problems(self, today: dt.date) -> list[str]:
        """Entries that may not be applied on ``today``: expired, or granted for longer than the review term.

        An expired ``image::`` entry is not a problem of the templates: the image gate lets its finding block
        again, which stops promotions without stopping every synthesis.
        """
        found = []
        for entry in self.entries:
            if entry.expires < today and entry.governs_constructs:
                found.append(
                    f"acknowledgment '{entry.id}' expired on {entry.expires} (owner {entry.owner}); "
                    "fix the finding or renew the entry with a new review date"
                )
            elif (entry.expires - today).days > MAX_TERM_DAYS:
                found.append(
                    f"acknowledgment '{entry.id}' expires {entry.expires}, more than {MAX_TERM_DAYS} days "
                    "ahead; pick an earlier review date"
                )
        return found


def parse_registry(document: object, source: str = "acknowledgments.yaml") -> Registry:
    """Validate a parsed registry document.

    :raise RegistryError: not a list, an entry is malformed, or two entries share an id.
    """
    if not isinstance(document, Sequence) or isinstance(document, (str, bytes)):
        raise RegistryError(f"{source}: expected a list of entries at the top level")
    try:
        registry = Registry.model_validate({"entries": document})
    except ValidationError as error:
        first = error.errors()[0]
        location = first["loc"]
        index = location[1] if len(location) > 1 else "?"
        entry_id = document[index].get("id", "?") if isinstance(index, int) else "?"
        field = "".join(f" {p}" if i == 0 else f".{p}" for i, p in enumerate(location[2:]))
        raise RegistryError(f"{source}: entry {index} ('{entry_id}'){field}: {first['msg']}") from None
    ids = [entry.id for entry in registry.entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RegistryError(f"{source}: entry ids repeat: {duplicates}")
    return registry


def load_registry(path: Path = REGISTRY_FILE) -> Registry:
    """Read the registry file.

    :raise RegistryError: the file is missing, not YAML, or malformed.
    """
    document = read_yaml(path, RegistryError)
    return parse_registry(document if document is not None else [], source=path.name)
