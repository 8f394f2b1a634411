"""Helpers the custom checks share. checkov loads this file as a check module too; it defines no check."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

CDK_JSON = Path(__file__).resolve().parents[2] / "cdk.json"


def properties(conf: Mapping[str, Any]) -> Mapping[str, Any]:
    value = conf.get("Properties")
    return value if isinstance(value, Mapping) else {}


def tag(conf: Mapping[str, Any], key: str) -> str | None:
    """A literal tag value, or None when the tag is absent or computed."""
    for item in properties(conf).get("Tags") or []:
        if isinstance(item, Mapping) and item.get("Key") == key and isinstance(item.get("Value"), str):
            return str(item["Value"])
    return None


@cache
def _context() -> Mapping[str, Any]:
    context: Mapping[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context


def primary_region() -> str:
    return str(_context()["project"]["primary_region"])


def log_retention_floor(environment: str) -> int | None:
    """The shortest retention allowed in ``environment`` (the same cdk.json numbers the CDK guard reads),
    or None for an environment cdk.json does not define."""
    context = _context()
    env = context["environments"].get(environment)
    if env is None:
        return None
    project = context["project"]
    key = "min_log_retention_days_production" if env["production"] else "min_log_retention_days"
    return int(project[key])
