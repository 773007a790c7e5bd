"""SPEC arguments: a YAML path, a bundled preset name, or a scheduler class name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError, did_you_mean

PRESET_DIR = Path(__file__).parent / "schedules"
SPEC_SUFFIXES = (".yaml", ".yml", ".json", ".py")  # .py: an mmengine config


@dataclass(frozen=True)
class Source:
    """Where a spec's text comes from."""

    text: str
    label: str  # what messages call it: the path as given, "preset steplr" or "class StepLR"
    stem: str  # default spec name
    base_dir: Path | None  # for relative paths inside the spec (metrics CSV)
    path: Path | None  # the file, when the spec is a file
    root: Path | None = None  # the tree the spec's own paths must stay in (lrviz.paths)
    kind: str = "file"  # file, preset or class: the header says which one was used

    def tree(self) -> Path:
        """The project tree for paths inside this spec (see lrviz.paths.confine)."""
        from .paths import project_root

        if self.root is not None:
            return self.root
        if self.kind == "file" and self.path is not None:
            return project_root(self.path)
        return self.base_dir or Path.cwd()


def preset_names() -> list[str]:
    """The bundled presets, by name."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def preset_path(name: str) -> Path:
    """The file of a bundled preset."""
    return PRESET_DIR / f"{name}.yaml"


def type_names() -> list[str]:
    """Every scheduler type a SPEC may name: torch's classes (imports torch), then recipes."""
    from .catalog import schedulers
    from .recipes import RECIPES

    return [*schedulers(), *RECIPES]


def declared_type_names() -> list[str]:
    """The same names as type_names(), read from torch's source without importing torch.

    torch/optim/lr_scheduler.py's `__all__` lists its schedulers and their base class, which
    is no type a spec may name. A source that cannot be read gives the imported names.
    """
    import ast
    import importlib.util

    from .recipes import RECIPES

    try:
        spec = importlib.util.find_spec("torch")
        origin = Path(spec.origin if spec and spec.origin else "")
        tree = ast.parse((origin.parent / "optim" / "lr_scheduler.py").read_text("utf-8"))
        (listed,) = [
            node.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
        ]
        classes = sorted(ast.literal_eval(listed))
    except (OSError, SyntaxError, ValueError, TypeError):
        return type_names()
    return [*(c for c in classes if c != "LRScheduler"), *RECIPES]


def resolve(
    arg: str, scheduler_names: list[str] | None = None, *, root: Path | None = None
) -> Source:
    """Find the spec text for a command-line SPEC argument.

    A path is a file; a name spelled exactly as torch spells a class (StepLR) is that class
    with torch's defaults; otherwise a bundled preset by its own name (steplr); otherwise a
    class by its name in any case. No preset ever stands in for a class spelled as torch does.
    """
    from .paths import read_spec_file

    path = Path(arg)
    presets = preset_names()
    if path.suffix.lower() in SPEC_SUFFIXES or path.exists() or "/" in arg:
        if path.is_dir():
            raise UsageError(f"{arg}: is a folder; give a spec file (or use lrviz check {arg})")
        if not path.exists():
            stem = path.stem.lower().replace("-", "_")
            hint = f"; did you mean the bundled preset '{stem}'?" if stem in presets else ""
            raise UsageError(f"{arg}: no such file{hint}")
        text = read_spec_file(arg)
        return Source(text, arg, path.stem, path.parent, path, root, "file")
    # Only a bare name needs torch's class names: a file's errors come before `import torch`,
    # and so does a name that is no class (read from torch's source): a preset, or a typo.
    names = scheduler_names
    if names is None:
        names = declared_type_names()
        if any(n.lower() == arg.lower() for n in names):
            names = type_names()  # a class after all: torch's own list decides
    if arg in names and arg not in presets:  # StepLR (the class), not steplr (the preset)
        return _class_source(arg)
    key = arg.lower().replace("-", "_")
    if key in presets:
        file = preset_path(key)
        text = file.read_text(encoding="utf-8")
        return Source(text, f"preset {key}", key, file.parent, file, root or file.parent, "preset")
    for name in names:
        if name.lower() == arg.lower():
            return _class_source(name)
    options = presets + names
    raise UsageError(
        f"{arg!r} is not a file, a bundled preset or a scheduler class"
        f"{did_you_mean(arg, options)} (see 'lrviz list')"
    )


def _class_source(name: str) -> Source:
    # Paths inside (a --set run.metrics.csv) are the user's own, relative to where they stand.
    return Source(
        f"scheduler: {{type: {name}}}\n", f"class {name}", name, None, None, None, "class"
    )
