"""Command-line SPEC arguments -> the spec files to check (folders, globs, files, presets)."""

from __future__ import annotations

import glob
import os
from pathlib import Path

from ..errors import UsageError

SUFFIXES = (".yaml", ".yml")
_GLOB = set("*?[")


def discover(args: list[str]) -> list[str]:
    """Every spec an argument names, in order, each once; UsageError for one that names none."""
    found: list[str] = []
    for arg in args:
        path = Path(arg)
        if path.is_dir():
            hits = _walk(path)
            if not hits:
                raise UsageError(f"{arg}: no .yaml or .yml files in this folder")
            found += hits
        elif path.exists():
            found.append(arg)
        elif _GLOB & set(arg):
            hits = []
            for match in sorted(glob.glob(arg, recursive=True)):
                if Path(match).is_dir():
                    hits += _walk(Path(match))
                elif match.lower().endswith(SUFFIXES):
                    hits.append(match)
            if not hits:
                raise UsageError(f"{arg}: no .yaml or .yml file matches")
            found += hits
        elif path.suffix.lower() in (*SUFFIXES, ".json") or os.sep in arg or "/" in arg:
            raise UsageError(f"{arg}: no such file or folder")
        else:
            _preset_or_class(arg)
            found.append(arg)
    seen: set[str] = set()
    unique = []
    for item in found:
        ident = str(Path(item).resolve()) if Path(item).exists() else item.lower()
        if ident not in seen:
            seen.add(ident)
            unique.append(item)
    return unique


def _walk(folder: Path) -> list[str]:
    """YAML files under a folder, sorted, skipping hidden files and folders (.git, .venv)."""
    hits = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        hits += [
            os.path.join(root, f)
            for f in sorted(files)
            if f.lower().endswith(SUFFIXES) and not f.startswith(".")
        ]
    return hits


def _preset_or_class(arg: str) -> None:
    """A bare name must be a bundled preset or a scheduler class (UsageError otherwise)."""
    from ..presets import resolve

    resolve(arg)


def stem(arg: str) -> str:
    """The name a golden CSV of this spec is stored under (<stem>.csv)."""
    path = Path(arg)
    return path.stem if path.exists() else arg.lower().replace("-", "_")
