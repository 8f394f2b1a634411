"""Completeness: the population each source evaluated against the population the templates hold, and every
resource no automated rule assessed. An auditor asks "all of them?" before "did they pass?": a scan that judged
some resources of a type and silently skipped others is flagged, and a resource type no rule covers is listed.

checkov reports each resource it checked; cdk-nag reports findings only, so a resource counts as in its scope when
a pack rule's code inspects its type (``policies/nag_controls.py`` reads the rules' ``instanceof Cfn...`` checks),
the same rule the nag source uses for passes. cdk-nag visits every construct of the tree, so a type it inspects is
inspected whole: its "evaluated fewer than exist" is empty by construction. The Guard-* aspects are not counted:
Guard-Tags judges every taggable resource, which would hide every gap.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from gates.assembly import CHECKOV_RESULT, resources
from policies.nag_controls import NagRule
from reports.sources.stacks import StackIndex

# CDK's version report (only under the CLI): no AWS resource, nothing to assess.
NOT_A_RESOURCE = "AWS::CDK::Metadata"


class SourcePopulation(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str
    types: int  # resource types it evaluated at least one resource of
    evaluated: int  # resources it evaluated
    of_its_types: int  # resources the templates hold of those types
    short: dict[str, str]  # type -> "evaluated/total" where it evaluated fewer than the templates hold


class UnassessedType(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: str
    resources: int
    places: tuple[str, ...]  # env/region where they are


class Completeness(BaseModel):
    model_config = ConfigDict(frozen=True)

    resources: int  # every resource of every template
    places: int  # environments x regions the templates cover
    sources: tuple[SourcePopulation, ...]
    not_assessed: tuple[UnassessedType, ...]


def _checkov_evaluated(cdk_out: Path) -> set[tuple[str, str]]:
    """(template relative to cdk.out, logical id) of every resource checkov reported a result for."""
    try:
        results = json.loads((cdk_out / CHECKOV_RESULT).read_text()).get("results", {})
    except (OSError, ValueError, AttributeError):
        return set()  # not run: its source says "not collected"; here it simply evaluated nothing
    return {(str(item.get("file_path", "")).lstrip("/"), str(item.get("resource", "")).split(".", 1)[-1])
            for kind in ("passed_checks", "failed_checks", "skipped_checks") for item in results.get(kind, [])}


def _population(name: str, evaluated: list[str], totals: Counter[str]) -> SourcePopulation:
    counted = Counter(evaluated)
    return SourcePopulation(
        source=name, types=len(counted), evaluated=sum(counted.values()),
        of_its_types=sum(totals[kind] for kind in counted),
        short={kind: f"{counted[kind]}/{totals[kind]}" for kind in sorted(counted)
               if counted[kind] < totals[kind]},
    )


def completeness(cdk_out: Path, pack_rules: Mapping[str, Mapping[str, NagRule]]) -> Completeness:
    stacks = StackIndex.read(cdk_out)
    rules = [rule for pack in pack_rules.values() for rule in pack.values()]
    judged_by_nag: dict[str, bool] = {}  # resource type -> some rule's code inspects it
    checked = _checkov_evaluated(cdk_out)
    totals: Counter[str] = Counter()
    by_checkov: list[str] = []
    by_nag: list[str] = []
    unassessed: dict[str, list[str]] = defaultdict(list)
    places = set()
    for resource in resources(cdk_out):
        kind = str(resource.body.get("Type"))
        if kind == NOT_A_RESOURCE:
            continue
        env, _, region = stacks.by_template.get(resource.template.as_posix(), ("?", "?", "?"))
        places.add((env, region))
        totals[kind] += 1
        in_checkov = (resource.template.as_posix(), resource.logical_id) in checked
        if kind not in judged_by_nag:
            judged_by_nag[kind] = any(rule.covers(kind) for rule in rules)
        in_nag = judged_by_nag[kind]
        if in_checkov:
            by_checkov.append(kind)
        if in_nag:
            by_nag.append(kind)
        if not (in_checkov or in_nag):
            unassessed[kind].append(f"{env}/{region}")
    return Completeness(
        resources=sum(totals.values()), places=len(places),
        sources=(_population("checkov", by_checkov, totals), _population("nag", by_nag, totals)),
        not_assessed=tuple(UnassessedType(type=kind, resources=len(where), places=tuple(sorted(set(where))))
                           for kind, where in sorted(unassessed.items())),
    )
