"""SPEC arguments: a YAML path, a bundled preset name, or a scheduler class name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError, did_you_mean

PRESET_DIR = Path(__file__).parent / "schedules"


@dataclass(frozen=True)
class Source:
    """Where a spec's text comes from."""

    text: str
    label: str  # what messages call it: the path as given, or "preset steplr"
    stem: str  # default spec name
    base_dir: Path | None  # for relative paths inside the spec (metrics CSV)
    path: Path | None  # the file, when the spec is a file


def preset_names() -> list[str]:
    """The bundled presets, by name."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def preset_path(name: str) -> Path:
    """The file of a bundled preset."""
    return PRESET_DIR / f"{name}.yaml"


def resolve(arg: str, scheduler_names: list[str] | None = None) -> Source:
    """Find the spec text for a command-line SPEC argument (file, preset, then class name)."""
    path = Path(arg)
    if path.suffix.lower() in (".yaml", ".yml", ".json") or path.exists():
        if not path.is_file():
            raise UsageError(f"{arg}: no such file")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"{arg}: cannot read ({exc.strerror})") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{arg}: not a UTF-8 text file") from None
        return Source(text, arg, path.stem, path.parent, path)
    key = arg.lower().replace("-", "_")
    if key in preset_names():
        file = preset_path(key)
        return Source(file.read_text(encoding="utf-8"), f"preset {key}", key, file.parent, file)
    names = scheduler_names or []
    for name in names:
        if name.lower() == arg.lower():
            return Source(f"scheduler: {{type: {name}}}\n", name, name.lower(), None, None)
    options = preset_names() + names
    raise UsageError(
        f"{arg!r} is not a file, a bundled preset or a scheduler class"
        f"{did_you_mean(arg, options)} (see 'lrviz list')"
    )
