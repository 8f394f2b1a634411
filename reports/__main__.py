"""The evidence bundle for auditors, from what the gates wrote.

    python -m reports [--out reports/out] [--require nag,aspect,checkov,cfn-lint,resilience] [--screenshot]
    python -m reports verify <bundle dir>
    python -m reports schema [--check]

Generation exits 0 when no record failed and every required source was collected without inconclusive
results; 1 when a record failed; 2 when a required source is missing or inconclusive, or the inputs cannot
be read. ``verify`` exits 0 when every file matches MANIFEST.sha256, 1 when one does not, 2 without a manifest.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shutil
import sys
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from gates.assembly import CHECKOV_RESULT, GUARDS_FILE, templates_under
from gates.custody import CUSTODY_FILE, CustodyBroken, current_commit, synth_passed, verify, verify_results
from policies.acknowledgments import RegistryError, load_registry
from policies.attestations import Attestation, AttestationError, load_attestations
from policies.catalog import Catalog, CatalogError, load_catalogs
from policies.nag_controls import NagSourceError, cdk_nag_version, pack_rules
from reports import commands, manifest, oscal
from reports.completeness import completeness
from reports.evidence import STATES, Evidence, Inputs, Verdict, build, collect_all, judge, synth_failure, to_json
from reports.freshness import NotReleasable, release_commit, release_max_age_days, stamped
from reports.model import DuplicateRecord, Source
from reports.render import html, junit_xml, pdf, sarif, screenshot
from reports.render.html import CONTROL_STATUSES
from reports.sources.stacks import StackIndex

SCHEMA_FILE = Path(__file__).resolve().parent / "schema" / "evidence-1.schema.json"
DEFAULT_REQUIRED = "nag,aspect,checkov,cfn-lint,resilience"
TOOL_PACKAGES = ("aws-cdk-lib", "cdk-nag", "cfn-lint", "jinja2", "weasyprint", "matplotlib", "pytest-bdd", "locust")


class BundleError(RuntimeError):
    """The bundle cannot be written where asked."""


def schema_document() -> dict[str, object]:
    schema = Evidence.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://records.example.com/schemas/evidence-1.schema.json", **schema}


def _project(cdk_out: Path) -> str:
    """The project the synth gate judged (its guards record), not a re-reading of cdk.json: the evidence reads
    only what the gates wrote."""
    try:
        return str(json.loads((cdk_out / GUARDS_FILE).read_text())["project"])
    except (OSError, ValueError, KeyError, TypeError):
        return "(no synth record)"


def _tools(cdk_out: Path) -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in TOOL_PACKAGES:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    try:
        found["checkov"] = str(json.loads((cdk_out / CHECKOV_RESULT).read_text())["summary"]["checkov_version"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no checkov run, or an unreadable one: the checkov source reports it as not collected
    return found


def _prepare(out: Path) -> None:
    """:raise BundleError: ``out`` holds files that are not an earlier bundle."""
    if out.exists() and any(out.iterdir()):
        if not (out / manifest.MANIFEST).exists() and not (out / "evidence.json").exists():
            raise BundleError(f"{out} holds other files; give an empty directory or an earlier bundle")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def _copy_inputs(evidence: Evidence, inputs: Inputs, out: Path,
                 attestations: Sequence[Attestation] = ()) -> list[dict[str, object]]:
    """Inputs go into the bundle so its hashes cover what was judged: templates, results, and each attestation
    with its artifact (under ``inputs/attestations/``)."""
    files = [path for run in evidence.sources if run.collected for path in run.inputs if path.is_file()]
    files += templates_under(inputs.cdk_out) + sorted(inputs.cdk_out.glob("**/manifest.json"))
    files += [path for path in [inputs.cdk_out / CUSTODY_FILE] if path.is_file()]
    attested = [path for attestation in attestations for path in attestation.files]
    files += attested
    cdk_out = inputs.cdk_out.resolve()
    copied: list[dict[str, object]] = []
    for source in dict.fromkeys(files):
        # Assembly files repeat names (manifest.json per stage): keep cdk.out's layout; the others differ by name.
        location = source.resolve()
        inside = location.is_relative_to(cdk_out)
        name = (f"cdk.out/{location.relative_to(cdk_out).as_posix()}" if inside
                else f"attestations/{source.name}" if source in attested else source.name)
        target = out / "inputs" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        modified = dt.datetime.fromtimestamp(source.stat().st_mtime, dt.UTC).isoformat(timespec="seconds")
        copied.append({"path": target.relative_to(out).as_posix(), "sha256": manifest.sha256(target),
                       "modified": modified})
    return copied


# Always printed, zero or not, so a reader (or a grep in CI) finds each one in the same place; the rest only
# when they occur.
_ALWAYS_COUNTED = ("pass", "acknowledged", "stale", "needs-attestation", "gap")


def framework_summary(catalog: Catalog, counts: Mapping[str, int]) -> str:
    """``SOC 2 TSC 38 criteria: 4 pass, 0 acknowledged, 0 stale, 30 needs attestation, 4 gap``."""
    shown = [*_ALWAYS_COUNTED, *(s for s in CONTROL_STATUSES if s not in _ALWAYS_COUNTED and counts.get(s))]
    return (f"{catalog.summary_name or catalog.framework} {sum(counts.values())} {catalog.counted_as}: "
            + ", ".join(f"{counts.get(status, 0)} {status.replace('-', ' ')}" for status in shown))


def summary_line(evidence: Evidence, verdict: Verdict, code: int, out: Path, catalogs: Mapping[str, Catalog]) -> str:
    counts = evidence.status_counts()
    by_framework = evidence.control_counts()
    frameworks = "; ".join(framework_summary(catalog, by_framework.get(catalog.framework, {}))
                           for catalog in catalogs.values())
    absent = [source for source, ok in evidence.collected().items() if not ok]
    # Every stale source, the required ones (which fail the bundle) marked: a stale one backs no control either.
    stale = [f"{run.source.value}{' (required)' if run.source.value in verdict.stale else ''}"
             for run in evidence.sources if run.stale]
    line = (
        f"evidence: {STATES[code]}: {len(evidence.records)} records (pass {counts.get('pass', 0)}, acknowledged "
        f"{counts.get('acknowledged', 0)}, fail {counts.get('fail', 0)}, "
        f"inconclusive {counts.get('inconclusive', 0)}); "
        f"{frameworks}; not collected: {', '.join(absent) or 'none'}"
        f"{' (required: ' + ', '.join(verdict.missing) + ')' if verdict.missing else ''}"
        f"{'; stale: ' + ', '.join(stale) if stale else ''}; report {out / 'index.html'}"
    )
    return line


def generate(inputs: Inputs, out: Path, *, required: Sequence[str], take_screenshot: bool,
             now: dt.datetime | None = None, release: bool = False) -> int:
    project = _project(inputs.cdk_out)
    catalogs = load_catalogs()
    registry = load_registry()
    # What synth judged, and gate results of that synthesis; a file changed since must not reach the evidence. Without
    # any cdk.out the template sources are simply not collected.
    judged: Mapping[str, str] = {}
    if inputs.cdk_out.exists():
        # A failed synthesis is reported, not refused: its bundle shows what failed (and what a change breaks, for
        # python -m reports diff) and never passes. Its files must still be the ones synth judged.
        judged = verify(inputs.cdk_out, allow_failed=True)
        verify_results(inputs.cdk_out)
    rules = pack_rules()
    collected = collect_all(inputs, rules)
    passed_synth = synth_passed(inputs.cdk_out)
    if inputs.cdk_out.exists() and not passed_synth:
        collected = [synth_failure(part) if part.run.source is Source.ASPECT else part for part in collected]
    population = completeness(inputs.cdk_out, rules) if inputs.cdk_out.exists() else None
    moment = now or dt.datetime.now(dt.UTC)
    attestations = load_attestations(catalogs, moment.date())
    commit = release_commit(current_commit()) if release else current_commit()
    collected = [part.model_copy(update={"run": run}) for part, run in zip(collected, stamped(
        [part.run for part in collected], inputs.cdk_out, commit=commit, now=moment, release=release,
        max_age_days=release_max_age_days(catalogs)), strict=True)]
    evidence = build(collected, catalogs, registry, cdk_out=inputs.cdk_out, commit=commit,
                     tools=_tools(inputs.cdk_out) | {"cdk-nag (packs parsed)": cdk_nag_version()},
                     now=moment, attestations=attestations, population=population)
    _prepare(out)
    printed = html.render(evidence, project=project, required=list(required), printing=True)
    printing = pdf.start(evidence, printed, out, out / "evidence.pdf")
    try:
        page = html.write(evidence, out, project=project, required=list(required))
        verdict = judge(evidence, required)
        _write_data(evidence, inputs, out)
    except BaseException:
        printing.cancel()  # the original error (or Ctrl-C) is what the caller must see
        raise
    printing.wait()
    code = verdict.code
    if take_screenshot:
        code = max(code, _rendering_check(page, out))
    oscal.export(out, catalogs)
    copied = _copy_inputs(evidence, inputs, out, attestations)
    bundle = {"commit": evidence.commit, "generated_at": evidence.generated_at, "tools": evidence.tools,
              "required_sources": verdict.required, "exit_code": code, "inputs": copied,
              "judged_by_synth": judged, "synth_passed": passed_synth}
    (out / "bundle.json").write_text(json.dumps(bundle, indent=1))
    manifest.write(out)
    print(summary_line(evidence, verdict, code, out, catalogs))
    return code


def _rendering_check(page: Path, out: Path) -> int:
    """0 when Chromium renders the page with its control matrix and no console error; else 2."""
    rendering = screenshot.capture(page, out / "index.png")
    if rendering.console_errors or not rendering.matrix_rows:
        print(f"evidence: report rendering: console errors {rendering.console_errors}, "
              f"{rendering.matrix_rows} control rows", file=sys.stderr)
        return 2
    return 0


def _write_data(evidence: Evidence, inputs: Inputs, out: Path) -> None:
    """The machine-readable outputs, written while the charts and PDF are printed."""
    (out / "evidence.json").write_text(json.dumps(to_json(evidence), indent=1))
    template_of = {f"{env}/{stack}": f"cdk.out/{template}"
                   for template, (env, stack, _) in StackIndex.read(inputs.cdk_out).by_template.items()}
    versions = {"cdk-nag": cdk_nag_version(), "checkov": evidence.tools.get("checkov", "unknown"),
                "cfn-lint": evidence.tools.get("cfn-lint", "unknown"), "records-guards": "1"}
    (out / "evidence.sarif").write_text(json.dumps(sarif.render(list(evidence.records), versions, template_of)))
    junit_xml.write(evidence, out / "junit.xml")


def _schema(check: bool) -> int:
    expected = json.dumps(schema_document(), indent=1) + "\n"
    if check:
        same = SCHEMA_FILE.exists() and SCHEMA_FILE.read_text() == expected
        print(f"schema: {'PASS' if same else 'FAIL: the Evidence model changed; bump SCHEMA_VERSION and rewrite'}")
        return 0 if same else 1
    SCHEMA_FILE.write_text(expected)
    print(f"schema: wrote {SCHEMA_FILE}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    # Two subcommands beside the default (generate); subparsers would make "generate" a required word.
    if args[:1] == ["verify"]:
        verify = argparse.ArgumentParser(prog="python -m reports verify",
                                         description="Recompute a bundle's hashes against its MANIFEST.sha256 "
                                                     "and, with --key, check its signature.")
        verify.add_argument("bundle", type=Path, help="the bundle directory, e.g. reports/out")
        verify.add_argument("--key", type=Path, help="the signer's Ed25519 public key (PEM)")
        try:
            options = verify.parse_args(args[1:])
            return commands.verify(options.bundle, options.key)
        except SystemExit as stop:  # --help (0) or a usage error (2), as an exit code like every other outcome
            return int(stop.code or 0)
    if args[:1] in (["sign"], ["keygen"]):
        return commands.sign_or_keygen(args)
    if args[:1] == ["diff"]:
        return commands.diff(args[1:])
    if args[:1] == ["oscal"]:
        return commands.oscal_export(args[1:])
    if args[:1] == ["kpis"]:
        from reports import kpis

        return kpis.main(args[1:])
    if args[:1] == ["collect"]:
        from reports import aws_collect

        return aws_collect.main(args[1:])
    if args[:1] == ["schema"]:
        schema = argparse.ArgumentParser(prog="python -m reports schema",
                                         description="Write (or --check) the evidence JSON schema.")
        schema.add_argument("--check", action="store_true", help="fail when the committed schema is stale")
        return _schema(schema.parse_args(args[1:]).check)
    parser = argparse.ArgumentParser(prog="python -m reports", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("reports/out"))
    parser.add_argument("--cdk-out", type=Path, default=Inputs.cdk_out)
    parser.add_argument("--junit", type=Path, default=Inputs.junit)
    parser.add_argument("--cucumber", type=Path, default=Inputs.cucumber)
    parser.add_argument("--measurements", type=Path, default=Inputs.measurements)
    parser.add_argument("--load-gate", type=Path, default=Inputs.load_gate)
    parser.add_argument("--image-gate", type=Path, default=Inputs.image_gate)
    parser.add_argument("--sbom", type=Path, default=Inputs.sbom, help="the image's CycloneDX SBOM (JSON)")
    parser.add_argument("--aws", type=Path, default=Inputs.aws,
                        help="a deployed environment read back (python -m reports collect --target aws)")
    parser.add_argument("--kpis", type=Path, default=Inputs.kpis, help="delivery KPIs (python -m reports kpis)")
    parser.add_argument("--require", default=DEFAULT_REQUIRED,
                        help="sources that must be collected (comma-separated; 'none' for none)")
    parser.add_argument("--screenshot", action="store_true", help="render in headless Chromium and save index.png")
    parser.add_argument("--release", action="store_true",
                        help="a release bundle: inputs from another commit or too old are stale, and fail it")
    options = parser.parse_args(args)
    required = [] if options.require == "none" else [s.strip() for s in options.require.split(",") if s.strip()]
    unknown = sorted(set(required) - {source.value for source in Source})
    if unknown:
        parser.error(f"--require names unknown sources {unknown}; known: {[s.value for s in Source]}")
    inputs = Inputs(cdk_out=options.cdk_out, junit=options.junit, cucumber=options.cucumber,
                    measurements=options.measurements, load_gate=options.load_gate, image_gate=options.image_gate,
                    sbom=options.sbom, aws=options.aws, kpis=options.kpis)
    try:
        return generate(inputs, options.out, required=required, take_screenshot=options.screenshot,
                        release=options.release)
    except (CatalogError, RegistryError, AttestationError, NagSourceError, DuplicateRecord, BundleError, CustodyBroken,
            screenshot.BrowserUnavailable, pdf.PrintFailed, NotReleasable) as error:
        print(f"evidence: INCONCLUSIVE: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
