"""Builds the CDK app: one EnvironmentStage per selected environment. Shared by app.py and the tests."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from policies.slo import SloCatalog
from stacks.config import CDK_JSON, AppConfig
from stacks.stage import EnvironmentStage

DEFAULT_OUTDIR = "cdk.out"


def feature_flags(cdk_json: Path = CDK_JSON) -> dict[str, Any]:
    """The ``@aws-cdk/...`` flags from cdk.json, which ``python app.py`` would not otherwise see."""
    context = json.loads(cdk_json.read_text()).get("context", {})
    return {key: value for key, value in context.items() if key.startswith("@aws-cdk/")}


def new_app(*, outdir: str | None = None, context: Mapping[str, Any] | None = None,
            cloudformation_validation: bool = True) -> cdk.App:
    """An App with the project's feature flags; the CLI's ``-c`` values arrive on top of them.

    Outside the CLI (no CDK_OUTDIR) the assembly goes to ./cdk.out rather than a temporary folder, so
    ``python app.py`` leaves the templates and report where the other gates read them.
    ``cloudformation_validation=False`` leaves out CDK's built-in template validator (about 3.5 s on a process's
    first synthesis): only for tests that inspect a template of an app built for them; app.py, the CLI and the
    tests' shared synthesis always validate.
    """
    if outdir is None and "CDK_OUTDIR" not in os.environ:
        outdir = DEFAULT_OUTDIR
    # The CLI turns on path metadata (aws:cdk:path) and a bare App does not; the checkov gate needs it to tie a
    # template's skips to the registry's construct paths, so tests and `python app.py` get it too.
    defaults = {"aws:cdk:enable-path-metadata": True, **feature_flags()}
    return cdk.App(outdir=outdir, context={**defaults, **(context or {})},
                   builtin_cloud_formation_validation=cloudformation_validation)


def add_stages(
    app: cdk.App,
    config: AppConfig,
    slo: SloCatalog,
    *,
    selector: str | None = None,
    image_tag: str | None = None,
) -> list[EnvironmentStage]:
    """One stage per environment that ``selector`` names (all when None).

    :raise ConfigError: ``selector`` names no environment.
    """
    return [
        EnvironmentStage(app, config=config, env=env, slo=slo.for_env(env.name), image_tag=image_tag)
        for env in config.selected(selector)
    ]
