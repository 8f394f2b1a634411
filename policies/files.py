"""Reading a policy file: one place that turns a missing or malformed YAML file into the loader's own error."""

from __future__ import annotations

from pathlib import Path

import yaml


def read_yaml(path: Path, error: type[Exception]) -> object:
    """The parsed document. :raise error: the file is missing or not YAML (the message names the file)."""
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise error(f"{path}: not found") from None
    except yaml.YAMLError as problem:
        raise error(f"{path}: not valid YAML: {problem}") from None
