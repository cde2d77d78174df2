"""Reading one rules/*.yaml file: the same way, and the same error naming the file, for every table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from worker.errors import RulesError


def read_rules_yaml(path: Path) -> Any:
    """The file's YAML document ({} for an empty file); RulesError naming the file otherwise."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"{path}: {exc}") from exc
