"""Where a stack lives, read from the cloud assembly manifests: construct paths and template files name a
stack, the manifest says its environment and region."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from reports.model import Where

# A stack's region short name (use1, usw2): the same construct in each region has the same path but for it.
_REGION_SUFFIX = re.compile(r"-[a-z]{2,4}[0-9]$")


def region_free(stack: str, placeholder: str = "") -> str:
    """``Data-use1`` -> ``Data`` (or ``Data-*`` with placeholder "-*"): the stack kind, whatever the region."""
    return _REGION_SUFFIX.sub(placeholder, stack)


@dataclass(frozen=True)
class StackIndex:
    by_display: dict[str, tuple[str, str, str]]  # "dev/Data-use2" -> (env, stack, region)
    by_template: dict[str, tuple[str, str, str]]  # "assembly-dev/devData....template.json" -> same
    resource_types: dict[str, set[str]]  # environment -> CloudFormation types synthesized there
    # (template, logical id) -> construct path: logical ids carry hashes that move, construct paths do not
    paths: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def environments(self) -> list[str]:
        """The environments this cloud assembly holds (a synth can select one)."""
        return sorted(self.resource_types)

    @classmethod
    def read(cls, outdir: Path) -> StackIndex:
        by_display, by_template = {}, {}
        resource_types: dict[str, set[str]] = {}
        paths: dict[tuple[str, str], str] = {}
        for manifest in sorted(outdir.glob("assembly-*/manifest.json")):
            artifacts = json.loads(manifest.read_text()).get("artifacts", {})
            for artifact in artifacts.values():
                if artifact.get("type") != "aws:cloudformation:stack":
                    continue
                env, _, stack = str(artifact.get("displayName", "")).partition("/")
                region = str(artifact.get("environment", "")).rsplit("/", 1)[-1]
                place = (env, stack, region)
                by_display[f"{env}/{stack}"] = place
                template = artifact.get("properties", {}).get("templateFile", "")
                by_template[f"{manifest.parent.name}/{template}"] = place
                path = manifest.parent / template
                resources = json.loads(path.read_text()).get("Resources", {}) if path.is_file() else {}
                resource_types.setdefault(env, set()).update(str(r.get("Type")) for r in resources.values())
                paths.update({(f"{manifest.parent.name}/{template}", logical_id): str(construct)
                              for logical_id, resource in resources.items()
                              if (construct := (resource.get("Metadata") or {}).get("aws:cdk:path"))})
        return cls(by_display=by_display, by_template=by_template, resource_types=resource_types, paths=paths)

    def construct_path(self, template: str, logical_id: str) -> str:
        return self.paths.get((template.lstrip("/"), logical_id), "")

    def of_construct(self, path: str) -> Where:
        env, stack, *_ = [*path.split("/"), "", ""]
        known = self.by_display.get(f"{env}/{stack}")
        return Where(env=env, region=known[2] if known else "", stack=stack, resource=path)

    def of_template(self, template: str, resource: str) -> Where:
        known = self.by_template.get(template.lstrip("/"))
        if not known:
            return Where(stack=template, resource=resource)
        env, stack, region = known
        return Where(env=env, region=region, stack=stack, resource=resource)
