"""The docs cannot silently go stale: the architecture diagram names exactly the stacks the code synthesizes,
and every command the README and docs/ show exists (make targets, `python -m ... --help`, AWS CLI operations and
parameters, cdk subcommands and stack selections)."""

from __future__ import annotations

import contextlib
import io
import re
import runpy
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

from tests.test_workflows import make_targets

ARCHITECTURE = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"
STACK_NAME = re.compile(r"records-ENV-[a-z]+-(?:use1|use2|global)")


def _diagram() -> str:
    text = ARCHITECTURE.read_text()
    (diagram,) = [d for d in re.findall(r"```mermaid\n(.*?)```", text, flags=re.DOTALL) if STACK_NAME.search(d)]
    return diagram


def test_diagram_names_every_synthesized_stack_and_no_other(synthesized):
    stage = synthesized.stages["dev"]
    synthesized_names = {s.stack_name.replace("-dev-", "-ENV-") for s in stage.node.children
                         if hasattr(s, "stack_name")}
    assert synthesized_names == set(STACK_NAME.findall(_diagram()))


def test_runbook_named_by_an_acknowledgment_exists(registry):
    for entry in registry.entries:
        for path in re.findall(r"docs/[\w/.-]+\.md", entry.reason):
            assert (ARCHITECTURE.parent.parent / path).is_file(), f"{entry.id} cites missing {path}"


# ---- every command in the docs exists ------------------------------------------------------------------------

ROOT = ARCHITECTURE.parent.parent
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
CODE = re.compile(r"```[a-z]*\n(.*?)```|`([^`]+)`", re.DOTALL)
PREFIXES = ("make ", "python -m ", ".venv/bin/python -m ", "aws ", "cdk ")
AWS_GLOBAL_OPTIONS = {"--region", "--query", "--output", "--profile", "--no-cli-pager", "--endpoint-url"}
# AWS CLI commands that are customizations, not API operations.
AWS_CUSTOM = {("s3", "cp"), ("s3", "ls"), ("s3", "sync"), ("sso", "login"), ("ecr", "get-login-password")}
CDK_COMMANDS = {"synth", "deploy", "bootstrap", "ls", "list", "diff", "destroy"}


def doc_commands(files=DOC_FILES) -> list[tuple[str, str]]:
    """(file, command) for each command line in a fenced block or an inline code span of the docs."""
    found = []
    for path in files:
        for block, inline in CODE.findall(path.read_text()):
            lines = block.replace("\\\n", " ").splitlines() if block else [" ".join(inline.split())]
            for line in lines:
                for part in re.split(r"\s*(?:&&|;|\|)\s*", line.split(" # ")[0].strip()):
                    if part.startswith(PREFIXES):
                        found.append((path.name, " ".join(part.split())))
    return found


def command_problems(command: str) -> list[str]:
    words = re.sub(r"\$\([^)]*\)", "X", command).split()
    if words[0] == "make":
        targets = make_targets()
        named = []
        for word in words[1:]:  # targets and VAR=value, up to the first word that is neither (prose, arrows)
            if "=" not in word and not re.fullmatch(r"[a-z][\w-]*", word):
                break
            named += [] if "=" in word else [word]
        return [f"{command}: no make target {w}" for w in named if w not in targets]
    if words[0] == "aws":
        return _aws_problems(command, words)
    if words[0] == "cdk":
        return [] if words[1] in CDK_COMMANDS else [f"{command}: cdk has no command {words[1]}"]
    return []  # python -m: run with --help by the test below


def _aws_problems(command: str, words: list[str]) -> list[str]:
    import botocore.session
    from botocore import xform_name

    service, operation = {"s3api": "s3"}.get(words[1], words[1]), words[2]
    if (service, operation) in AWS_CUSTOM:
        return []
    session = botocore.session.get_session()
    if service not in session.get_available_services():
        return [f"{command}: no AWS service {service}"]
    model = session.get_service_model(service)
    if operation == "wait":
        waiters = {xform_name(w, "-") for w in session.get_waiter_model(service).waiter_names}
        return [] if words[3] in waiters else [f"{command}: no {service} waiter {words[3]}"]
    operations = {xform_name(name, "-"): name for name in model.operation_names}
    if operation not in operations:
        return [f"{command}: no {service} operation {operation}"]
    members = {xform_name(m, "-") for m in model.operation_model(operations[operation]).input_shape.members}
    flags = {w.split("=")[0][2:] for w in words if w.startswith("--") and w.split("=")[0] not in AWS_GLOBAL_OPTIONS}
    return [f"{command}: {service} {operation} has no --{f}" for f in sorted(flags)
            if f not in members and f.removeprefix("no-") not in members]


def _python_entry(command: str) -> tuple[str, ...]:
    words = re.sub(r"<[^>]*>", "X", command).split()  # a placeholder such as <the lab directory> is one value
    module_at = words.index("-m") + 1
    subcommands: list[str] = []
    rest = iter(words[module_at + 1:])
    for word in rest:
        if word.startswith("-"):  # an option and, unless it is a flag followed by another option, its value
            next(rest, None)
        elif re.fullmatch(r"[a-z][a-z_-]*", word):
            subcommands.append(word)
        else:
            break
    return (words[module_at], *subcommands)


def test_the_docs_hold_the_commands_operators_need():
    commands = {c for _, c in doc_commands()}
    for expected in ("python -m ops rollback", "aws rds promote-read-replica", "make drill",
                     "cdk deploy --app cdk.out/assembly-staging --all", "cdk bootstrap", "python -m gates.image"):
        assert any(c.startswith(expected) or expected in c for c in commands), expected


def test_every_make_aws_and_cdk_command_in_the_docs_exists():
    problems = [f"{name}: {p}" for name, command in doc_commands() for p in command_problems(command)]
    assert problems == []


def test_the_command_check_catches_invented_commands(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("Run `make deploy-everything` then\n```sh\naws rds promote-replica --db-instance-identifier x\n"
                    "aws rds promote-read-replica --db-instance-id x\naws rds wait db-ready\ncdk launch\n```\n")
    problems = [p for _, c in doc_commands([page]) for p in command_problems(c)]
    assert problems == [
        "make deploy-everything: no make target deploy-everything",
        "aws rds promote-replica --db-instance-identifier x: no rds operation promote-replica",
        "aws rds promote-read-replica --db-instance-id x: rds promote-read-replica has no --db-instance-id",
        "aws rds wait db-ready: no rds waiter db-ready",
        "cdk launch: cdk has no command launch",
    ]


def test_every_python_command_in_the_docs_answers_help():
    entries = sorted({_python_entry(c) for _, c in doc_commands() if " -m " in c})
    assert ("ops", "rollback") in entries and ("gates.image", "ecr") in entries

    def run(entry: tuple[str, ...]) -> tuple[tuple[str, ...], object, str]:
        # In this process, as `python -m` runs the module: a child per command paid its imports again (~5 s).
        module, *words = entry
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _argv([module, *words, "--help"]), \
                warnings.catch_warnings():
            # Running an already imported module again as __main__ is the point here, not a hazard.
            warnings.filterwarnings("ignore", "'.*' found in sys.modules", RuntimeWarning)
            try:
                runpy.run_module(module, run_name="__main__", alter_sys=True)
                code: object = 0
            except SystemExit as stop:
                code = stop.code or 0
        return entry, code, err.getvalue()[-300:]

    failed = [(e, code, err) for e, code, err in map(run, entries) if code != 0]
    assert failed == []


@contextlib.contextmanager
def _argv(argv: list[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = argv
    try:
        yield
    finally:
        sys.argv = saved


def test_the_deployment_guides_stack_selections_select_what_they_say(cdk_cli, synthesized):
    def listed(app: Path, *patterns: str) -> set[str]:
        done = subprocess.run([str(cdk_cli), "ls", "--app", str(app), *patterns], capture_output=True, text=True,
                              timeout=120, check=True, env={"PATH": f"{cdk_cli.parent}:/usr/bin:/bin",
                                                            "CDK_DISABLE_CLI_TELEMETRY": "true"})
        return {line.split()[0] for line in done.stdout.splitlines() if line.strip()}

    staging = {f"staging/{s.node.id}" for s in synthesized.stages["staging"].node.children if hasattr(s, "stack_name")}
    # `cdk deploy --app cdk.out/assembly-staging --all`: all of staging, nothing else.
    assert listed(synthesized.outdir / "assembly-staging") == staging
    # The pipeline's primary step, "staging/*-use1": us-east-1 and what it needs, but no us-east-2 service or edge.
    primary = listed(synthesized.outdir, "staging/*-use1")
    assert {"staging/Service-use1", "staging/Data-use1"} <= primary
    assert not {"staging/Service-use2", "staging/Data-use2", "staging/Edge"} & primary
