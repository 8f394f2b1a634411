"""Running checkov: its own virtualenv, the project's config and custom checks, one process per shard."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG_FILE = ROOT / ".checkov.yaml"
CUSTOM_CHECKS_DIR = ROOT / "policies" / "checkov"
DEFAULT_CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"
RESULT_KINDS = ("passed_checks", "failed_checks", "skipped_checks")
FORBIDDEN_SETTINGS = frozenset({"check", "skip-check", "soft-fail", "soft-fail-on", "hard-fail-on", "baseline",
                                "skip-path", "skip-resources-without-violations"})
_CUSTOM_CHECK_FILE = re.compile(r"^(ckv2?_records_[a-z0-9]+_\d+)\.(py|yaml)$")


class CheckovUnavailable(RuntimeError):
    """checkov could not be run, or wrote something that is not its JSON report."""


def custom_check_ids(directory: Path = CUSTOM_CHECKS_DIR) -> list[str]:
    """Ids of the project's checks, read from their file names (a test holds each file to its id)."""
    return sorted(m[1].upper() for p in directory.iterdir() if (m := _CUSTOM_CHECK_FILE.match(p.name)))


def _report_documents(stdout: str) -> list[Mapping[str, Any]]:
    document = json.loads(stdout)
    documents = document if isinstance(document, list) else [document]
    return [d for d in documents if isinstance(d, Mapping)]


def checked_config(path: Path = CONFIG_FILE) -> Path:
    """:raise CheckovUnavailable: the config selects or excuses checks; exceptions belong in the registry."""
    try:
        settings = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise CheckovUnavailable(f"{path}: {error}") from None
    forbidden = sorted(set(settings) & FORBIDDEN_SETTINGS)
    if forbidden:
        raise CheckovUnavailable(f"{path} sets {forbidden}; exceptions belong in policies/acknowledgments.yaml")
    return path


@dataclass(frozen=True)
class Scan:
    documents: list[Mapping[str, Any]]
    check_errors: list[str]  # checkov's "Failed to run check" lines: a resource that check silently skipped


def run_checkov(checkov: Path, groups: Sequence[Sequence[Path]], *, extra: Sequence[str] = ()) -> Scan:
    """One checkov process per group of templates (or directory), in parallel.

    :raise CheckovUnavailable: the executable is missing, or a run wrote no JSON report.
    """
    if not checkov.exists():
        raise CheckovUnavailable(f"{checkov} not found; run `make setup` (checkov lives in its own virtualenv)")
    config = checked_config()
    # Variables like CKV_SKIP_CHECK would drop checks, and CHECKOV_CHECK_FAIL_LEVEL hide crashed ones, without
    # a trace in the report.
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("CKV_", "BC_", "CHECKOV_"))}

    def scan(group: Sequence[Path]) -> Scan:
        command = [str(checkov), "--config-file", str(config), *extra]
        command += ["-d", str(group[0])] if len(group) == 1 and group[0].is_dir() else ["-f", *map(str, group)]
        with tempfile.TemporaryDirectory() as home:
            # checkov writes caches under $HOME; a private one keeps parallel runs from sharing them.
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False,
                                  env={**environment, "HOME": home, "LOG_LEVEL": "WARNING"})
        errors = [line.strip() for line in done.stderr.splitlines() if "Failed to run check" in line]
        try:
            return Scan(_report_documents(done.stdout), errors)
        except json.JSONDecodeError:
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            raise CheckovUnavailable(f"checkov exited {done.returncode} without a JSON report: {tail}") from None

    with ThreadPoolExecutor(max_workers=max(1, len(groups))) as pool:
        scans = list(pool.map(scan, groups))
    return Scan([d for s in scans for d in s.documents], [e for s in scans for e in s.check_errors])


def relative_file_paths(report: dict[str, Any], outdir: Path) -> dict[str, Any]:
    """checkov names files relative to its working directory; findings name them relative to ``outdir``."""
    base = outdir.resolve()
    for kind in RESULT_KINDS:
        for item in report["results"][kind]:
            location = (ROOT / str(item.get("file_path", "")).lstrip("/")).resolve()
            if location.is_relative_to(base):
                item["file_path"] = str(location.relative_to(base))
    return report


def merge(documents: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """One report from several: results concatenated, counts summed (empty scans carry only a summary)."""
    results: dict[str, list[Any]] = {kind: [] for kind in (*RESULT_KINDS, "parsing_errors")}
    summary: Counter[str] = Counter()
    version = None
    for document in documents:
        for kind in results:
            results[kind].extend(document.get("results", {}).get(kind, []))
        for key, value in document.get("summary", {}).items():
            if isinstance(value, int):
                summary[key] += value
        version = document.get("summary", {}).get("checkov_version", version)
    return {"check_type": "cloudformation", "results": results, "summary": {**summary, "checkov_version": version}}
