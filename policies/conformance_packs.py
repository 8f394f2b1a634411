"""AWS's published conformance packs (``policies/conformance/``), checked against their recorded digests and trimmed
to the services this project deploys, as ``packs.yaml`` says. What stacks/compliance.py deploys and what
``python -m reports collect`` reads back.

Trimming removes a dropped rule and then every parameter and condition no remaining rule refers to, so the
template stays one CloudFormation accepts (and under its 51,200-byte ``TemplateBody`` limit).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from policies.files import read_yaml

DIRECTORY = Path(__file__).with_name("conformance")
PACKS_FILE = DIRECTORY / "packs.yaml"
TEMPLATE_BODY_LIMIT = 51_200  # bytes, AWS::Config::ConformancePack TemplateBody


class ConformanceError(ValueError):
    """packs.yaml or a pack template is missing, malformed, or not the published file it names."""


class Drop(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    match: str = Field(pattern=r"^[A-Z][A-Z0-9_]{2,}$")  # an identifier, or a prefix ending in "_"
    service: str = Field(min_length=3)

    def drops(self, identifier: str) -> bool:
        return identifier.startswith(self.match) if self.match.endswith("_") else identifier == self.match


class PackFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9-]+$")
    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class PacksFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source: dict[str, str]
    packs: tuple[PackFile, ...] = Field(min_length=1)
    not_deployed: tuple[Drop, ...]

    @field_validator("source")
    @classmethod
    def _cited(cls, source: dict[str, str]) -> dict[str, str]:
        missing = {"repository", "path", "commit", "licence"} - set(source)
        if missing:
            raise ValueError(f"the source must name its {sorted(missing)}")
        return source


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True)

    logical_id: str
    name: str  # ConfigRuleName in the pack (AWS adds a per-pack suffix when it deploys it)
    identifier: str  # the managed rule, e.g. SECRETSMANAGER_ROTATION_ENABLED_CHECK
    resource_types: tuple[str, ...]  # Scope.ComplianceResourceTypes; empty: the rule picks its own


class Pack(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    template: dict[str, Any]  # trimmed
    kept: tuple[Rule, ...]
    dropped: tuple[tuple[Rule, str], ...]  # (rule, the service not deployed)

    @property
    def body(self) -> str:
        """The trimmed template as CloudFormation's TemplateBody (JSON is YAML, and one line per template)."""
        return json.dumps(self.template, sort_keys=True, separators=(",", ":"))


def _rules(template: dict[str, Any]) -> Iterator[Rule]:
    for logical_id, resource in template["Resources"].items():
        properties = resource["Properties"]
        yield Rule(logical_id=logical_id, name=properties["ConfigRuleName"],
                   identifier=properties["Source"]["SourceIdentifier"],
                   resource_types=tuple((properties.get("Scope") or {}).get("ComplianceResourceTypes", ())))


def _referenced(node: Any) -> set[str]:
    """Every name a Ref or a Fn::If condition points at, anywhere below ``node``."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::If" and isinstance(value, list) and value and isinstance(value[0], str):
                found.add(value[0])
            found |= _referenced(value)
    elif isinstance(node, list):
        for item in node:
            found |= _referenced(item)
    return found


def trim(template: dict[str, Any], drops: tuple[Drop, ...]) -> tuple[dict[str, Any], list[tuple[Rule, str]]]:
    dropped = [(rule, drop.service) for rule in _rules(template) for drop in drops if drop.drops(rule.identifier)]
    gone = {rule.logical_id for rule, _ in dropped}
    resources = {k: v for k, v in template["Resources"].items() if k not in gone}
    used = _referenced(resources)
    conditions = {k: v for k, v in (template.get("Conditions") or {}).items() if k in used}
    used |= _referenced(conditions)
    parameters = {k: v for k, v in (template.get("Parameters") or {}).items() if k in used}
    trimmed = {"Parameters": parameters, "Resources": resources, "Conditions": conditions}
    return {k: v for k, v in trimmed.items() if v}, dropped


@functools.cache  # each region's compliance stack and each region's collection asks; parsing costs 0.2 s
def load_packs(path: Path = PACKS_FILE) -> tuple[Pack, ...]:
    """Read once per path and process (do not alter what it returns).

    :raise ConformanceError: packs.yaml is malformed, a template is missing or not the published file."""
    try:
        declared = PacksFile.model_validate(read_yaml(path, ConformanceError))
    except ValidationError as error:
        first = error.errors()[0]
        raise ConformanceError(f"{path}: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    packs = []
    for pack in declared.packs:
        file = path.parent / pack.file
        try:
            raw = file.read_bytes()
        except OSError as error:
            raise ConformanceError(f"{file}: {error.strerror}") from None
        if hashlib.sha256(raw).hexdigest() != pack.sha256:
            raise ConformanceError(f"{file} is not the published template packs.yaml names (sha256 differs): "
                                   "edit the trim list, never the template")
        template, dropped = trim(yaml.safe_load(raw), declared.not_deployed)
        body = json.dumps(template, sort_keys=True, separators=(",", ":"))
        if len(body.encode()) > TEMPLATE_BODY_LIMIT:
            raise ConformanceError(f"{pack.name}: the trimmed template is {len(body.encode())} bytes, over "
                                   f"CloudFormation's {TEMPLATE_BODY_LIMIT}")
        packs.append(Pack(name=pack.name, template=template, kept=tuple(_rules(template)),
                          dropped=tuple(dropped)))
    return tuple(packs)


def drop_entries(path: Path = PACKS_FILE) -> tuple[Drop, ...]:
    return PacksFile.model_validate(read_yaml(path, ConformanceError)).not_deployed


def drops_of_deployed(packs: tuple[Pack, ...], deployed_types: set[str]) -> list[str]:
    """Dropped rules scoped to a resource type the templates deploy: a trim entry wider than "not deployed" (a
    prefix such as S3_ would pass every bucket unchecked). Empty when every drop is of an absent service."""
    return [f"{pack.name}: {rule.identifier} ({rule.name}) is dropped as '{service}' but checks "
            f"{', '.join(sorted(set(rule.resource_types) & deployed_types))}, which the templates deploy"
            for pack in packs for rule, service in pack.dropped if set(rule.resource_types) & deployed_types]


def unused_drops(packs: tuple[Pack, ...], drops: tuple[Drop, ...]) -> list[str]:
    """Entries that drop no rule of any pack: stale, or a typo that trims nothing."""
    dropped = {rule.identifier for pack in packs for rule, _ in pack.dropped}
    return [f"not_deployed entry {drop.match} ({drop.service}) drops no rule of any pack"
            for drop in drops if not any(drop.drops(identifier) for identifier in dropped)]
