"""``MANIFEST.sha256``: the SHA-256 of every file in the bundle (inputs copied in, outputs, ``bundle.json``
with commit, tool versions and times), in ``sha256sum`` format so it can also be checked with
``sha256sum -c``. ``verify`` fails on a changed, missing or unlisted file."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from gates.custody import sha256

MANIFEST = "MANIFEST.sha256"
# The DSSE envelope (reports/signing.py) vouches for the manifest, so it cannot be listed in it.
SIGNATURE = "bundle.intoto.json"


def bundle_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*")
                  if p.is_file() and p.relative_to(directory).as_posix() not in (MANIFEST, SIGNATURE))


def _odd_entries(directory: Path) -> list[str]:
    """Anything a bundle never holds: symbolic links (rglob does not follow linked folders, so what is behind one
    would go unlisted), and entries that are neither files nor folders."""
    odd = []
    for root, folders, files in os.walk(directory, followlinks=False):
        for name in [*folders, *files]:
            path = Path(root) / name
            if path.is_symlink() or not (path.is_dir() or path.is_file()):
                odd.append(f"{path.relative_to(directory).as_posix()}: a link or special file; a bundle holds "
                           "only regular files")
    return sorted(odd)


def write(directory: Path) -> Path:
    lines = [f"{sha256(p)}  {p.relative_to(directory).as_posix()}" for p in bundle_files(directory)]
    path = directory / MANIFEST
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass(frozen=True)
class Verification:
    checked: int
    problems: list[str] = field(default_factory=list)


def entries(directory: Path) -> tuple[dict[str, str], list[str]]:
    """The manifest's path -> sha256, and its malformed lines (each a problem, never an entry).

    :raise OSError: no readable manifest.
    """
    listed: dict[str, str] = {}
    problems = []
    for number, line in enumerate((directory / MANIFEST).read_text().splitlines(), start=1):
        digest, separator, name = line.partition("  ")
        if not separator or len(digest) != 64:
            problems.append(f"{MANIFEST} line {number} is not '<sha256>  <path>'")
            continue
        if name.startswith("/") or ".." in Path(name).parts:
            problems.append(f"{MANIFEST} line {number} names {name!r}, outside the bundle")
            continue
        listed[name] = digest
    return listed, problems


class ManifestMissing(FileNotFoundError):
    """The directory holds no manifest, so nothing can be verified."""


def verify(directory: Path) -> Verification:
    """:raise ManifestMissing: no ``MANIFEST.sha256`` in ``directory``."""
    path = directory / MANIFEST
    if not path.is_file():
        raise ManifestMissing(f"{path} not found")
    listed, problems = entries(directory)
    if not listed:
        problems.append(f"{MANIFEST} lists no files")
    for name, digest in sorted(listed.items()):
        file = directory / name
        if not file.is_file():
            problems.append(f"{name}: missing")
        elif sha256(file) != digest:
            problems.append(f"{name}: altered (sha256 differs from the manifest)")
    for file in bundle_files(directory):
        if file.relative_to(directory).as_posix() not in listed:
            problems.append(f"{file.relative_to(directory).as_posix()}: not in the manifest")
    problems += _odd_entries(directory)
    return Verification(checked=len(listed), problems=problems)
