"""The output guard: every path a command will write is checked before anything runs (exit 2)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from ..errors import UsageError


def names_a_folder(raw: str) -> bool:
    """Whether a path as typed ends with a separator (`golden/`): the user means a folder."""
    return raw.endswith(("/", os.sep))


def check_output(path: Path, allowed: Sequence[str] = (), guard: Iterable[Path] = ()) -> None:
    """Refuse one output: unknown extension, a folder, a missing folder, the spec itself."""
    if allowed:
        ext = path.suffix.lower().lstrip(".")
        if ext not in allowed:
            what = f"unknown extension {path.suffix!r}" if ext else "no extension"
            names = ", ".join(f".{e}" for e in allowed)
            raise UsageError(f"{path}: {what}; the formats are {names}")
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; give a file name")
    target = path.resolve()
    if any(p.resolve() == target for p in guard):
        raise UsageError(f"{path}: refusing to overwrite the spec being read")
    if not target.parent.is_dir():
        raise UsageError(f"{path}: folder {target.parent} does not exist")


def check_outputs(paths: Iterable[Path], allowed: Sequence[str], guard: Iterable[Path]) -> None:
    """Refuse bad outputs before simulating (check_output for each)."""
    kept = list(guard)
    for path in paths:
        check_output(path, allowed, kept)


def output_file(raw: str, allowed: Sequence[str] = (), guard: Iterable[Path] = ()) -> Path:
    """A file path typed after -o, checked; `name/` is a folder and refused as such."""
    path = Path(raw)
    if names_a_folder(raw) and not path.is_dir():
        raise UsageError(f"{raw}: ends with '/', which names a folder; give a file name")
    check_output(path, allowed, guard)
    return path


def snapshot_targets(
    raw: str, specs: list[str], stem: Callable[[str], str], guard: Iterable[Path]
) -> tuple[dict[str, Path], Path | None]:
    """Where `snapshot -o RAW` writes each SPEC's CSV, and the folder to create first (or None).

    An existing folder, or a name ending with '/', is a folder of <stem>.csv files (created
    when the slash asks for it); anything else is the one file of a single SPEC.
    """
    folder = Path(raw)
    kept = list(guard)
    create = None
    if folder.is_dir() or names_a_folder(raw):
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"-o {raw}: {folder} is a file, not a folder")
        if not folder.exists():
            parent = folder.resolve().parent
            if not parent.is_dir():
                raise UsageError(f"-o {raw}: folder {parent} does not exist")
            create = folder
        targets = {s: folder / f"{stem(s)}.csv" for s in specs}
        if len(set(targets.values())) < len(targets):
            raise UsageError(f"-o {raw}: two SPECs share a file name; snapshot them separately")
        if create is None:
            check_outputs(targets.values(), (), kept)
        return targets, create
    if len(specs) != 1:
        raise UsageError(
            f"-o {raw}: {len(specs)} SPECs need a folder: an existing one, or end the name "
            f"with '/' to create it"
        )
    check_output(folder, (), kept)
    return {specs[0]: folder}, None
