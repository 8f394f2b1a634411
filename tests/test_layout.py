"""The code layout's rules (docs/architecture.md, "Code layout"): what each folder may import, and that ops tools
use the names the stacks define instead of spelling them again. Each rule is shown failing on a bad input."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from stacks.naming import SERVICE_CONTAINER, TARGET_GROUPS, health_check_id

ROOT = Path(__file__).resolve().parents[1]
OURS = ("app", "aspects", "features", "gates", "load", "ops", "policies", "reports", "service", "stacks")
CDK = ("aws_cdk", "constructs", "cdk_nag", "jsii")
# Folder -> our folders it may import (itself always). "stacks" in a value means only its modules without CDK
# (stacks.config, stacks.naming): the light tools must not start the jsii kernel or depend on construct code.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "service": frozenset(),
    "policies": frozenset(),
    "stacks": frozenset({"policies"}),
    "aspects": frozenset({"policies", "stacks", "stacks:cdk"}),
    "gates": frozenset({"policies", "aspects", "stacks", "load"}),
    "reports": frozenset({"policies", "gates", "stacks"}),  # stacks.naming: what collect reads back on AWS
    "ops": frozenset({"policies", "stacks", "gates", "service"}),  # the lab runs the service and its migrations
    "load": frozenset({"policies", "ops", "gates"}),
    "features": frozenset({"policies", "ops", "gates", "load"}),  # the game day runs the load gate's user mix
    "app": frozenset({"policies", "aspects", "gates", "stacks", "stacks:cdk"}),
}
# Modules of ours that reports may not reach even inside gates: they import aspects, hence CDK.
CDK_GATES = ("gates.synth", "gates.suppressions")


def _imports(source: str) -> Iterator[str]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


@cache
def _stacks_with_cdk() -> frozenset[str]:
    return frozenset(f"stacks.{path.stem}" for path in (ROOT / "stacks").glob("*.py")
                     if any(name.split(".")[0] in CDK for name in _imports(path.read_text())))


def violations(relative: str, source: str) -> list[str]:
    """Imports of ``source`` (a file at ``relative`` in the repository) that its folder may not make."""
    folder = relative.split("/", 1)[0].removesuffix(".py")
    allowed = MAY_IMPORT[folder]
    found = []
    for name in _imports(source):
        top = name.split(".")[0]
        if top not in OURS or top == folder:
            continue
        module = ".".join(name.split(".")[:2])
        if top == "stacks" and module in _stacks_with_cdk():
            ok = "stacks:cdk" in allowed
        elif folder == "reports" and module in CDK_GATES:
            ok = False
        else:
            ok = top in allowed
        if not ok:
            found.append(f"{relative}: imports {name}")
    return found


def _sources() -> Iterator[tuple[str, str]]:
    for folder in OURS:
        paths = [ROOT / "app.py"] if folder == "app" else sorted((ROOT / folder).rglob("*.py"))
        for path in paths:
            yield path.relative_to(ROOT).as_posix(), path.read_text()


def test_every_folder_imports_only_what_the_layout_allows():
    assert [line for relative, source in _sources() for line in violations(relative, source)] == []


@pytest.mark.parametrize("relative, source, line", [
    ("reports/evidence.py", "from stacks.service import ServiceStack", "imports stacks.service.ServiceStack"),
    ("reports/evidence.py", "import gates.synth", "imports gates.synth"),
    ("gates/cfn_lint.py", "from stacks.stage import EnvironmentStage", "imports stacks.stage"),
    ("ops/aws_driver.py", "from stacks import service", "imports stacks.service"),
    ("service/app.py", "from policies.slo import load_slo", "imports policies.slo"),
    ("stacks/keys.py", "from aspects.tags import apply_tags", "imports aspects.tags"),
    ("aspects/nag.py", "from gates.synth import conclude", "imports gates.synth"),
])
def test_a_wrong_import_is_named(relative, source, line):
    assert any(found.endswith(line) for found in violations(relative, source))


def test_light_imports_pass():
    assert violations("ops/aws_driver.py", "from stacks.naming import Naming\nfrom stacks.config import load_config") == []
    assert violations("reports/__main__.py", "from gates.custody import verify") == []


# Names stacks/ defines that ops/ must take from stacks.naming: the container, the target groups' and health checks'
# construct ids, and the stack names' unit parts.
STACK_OWNED = {SERVICE_CONTAINER, *TARGET_GROUPS.values(), health_check_id("")}
STACK_NAME_PARTS = ("-service-", "-edge-", "-global")


def duplicated_names(source: str) -> list[str]:
    """String literals in ``source`` that spell a name stacks/naming.py owns."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if text in STACK_OWNED or any(part in text for part in STACK_NAME_PARTS):
                found.append(text)
    return found


def test_ops_spells_no_name_the_stacks_define():
    found = {path.relative_to(ROOT).as_posix(): duplicated_names(path.read_text())
             for path in sorted((ROOT / "ops").rglob("*.py"))}
    assert {path: names for path, names in found.items() if names} == {}


def test_a_retyped_stack_name_or_container_is_found():
    bad = 'stack = f"{project}-{env}-service-{short}"\ncontainer = "web"\ncolour = "Blue"\n'
    assert sorted(duplicated_names(bad)) == ["-service-", "Blue", "web"]
