"""Command-line SPEC + overrides -> Plan: the one path every command takes to a runnable spec."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import document
from . import spec as spec_mod
from .build import DEFAULT_MAX_ROWS, Plan, plan
from .errors import Problem, SpecError, UsageError
from .presets import Source, preset_names, resolve


@dataclass(frozen=True)
class Options:
    """The options every spec-taking command shares."""

    overrides: tuple[str, ...] = ()
    epochs: int | None = None
    iters: int | None = None
    step: str | None = None
    max_rows: int = DEFAULT_MAX_ROWS
    source_format: str | None = None  # --from: native, lightning, hydra or hf; None detects
    root: Path | None = None  # --root: the tree a spec's own paths must stay in

    def flags(self) -> list[str]:
        """The overrides as the user typed them, for headers that must not contradict the rows."""
        typed = [
            f"--{name} {value}"
            for name, value in (("epochs", self.epochs), ("iters", self.iters), ("step", self.step))
            if value is not None
        ]
        return typed + [f"--set {a}" for a in self.overrides]


def load_spec(arg: str | Mapping[str, Any], options: Options = Options()) -> spec_mod.Spec:
    """Resolve, read, override and parse a spec (a path, preset, class name or dict).

    Every kind of SPEC goes through the same stages, so a dict with a recipe type or a
    foreign format behaves exactly as the same data in a file. Problems are kept on the Spec.
    """
    if isinstance(arg, Mapping):
        data = copy.deepcopy(dict(arg))
        name = data.get("name")
        here = Path.cwd()
        stem = name if isinstance(name, str) and name else "spec"
        source = Source("", "<dict>", stem, here, None, options.root or here, "dict")
        return parse_data(data, {}, source, options)
    source = resolve(arg, root=options.root)
    return parse_source(source, options)


def parse_source(source: Source, options: Options = Options()) -> spec_mod.Spec:
    """Parse spec text with command-line overrides applied (torch-free for native specs)."""
    if source.path is not None and source.path.suffix.lower() == ".py":
        from .formats.mmengine import read_source  # read, never run (its _base_ files too)

        data, lines = read_source(source, options.source_format)
        return parse_data(data, lines, source, options)
    data, lines, problems = document.read_document(source.text, source.label)
    if problems:
        raise SpecError(problems)
    return parse_data(data, lines, source, options)


def parse_data(
    data: Any, lines: dict[str, int], source: Source, options: Options = Options()
) -> spec_mod.Spec:
    """Parse a read document with command-line overrides applied.

    A LightningCLI, Hydra or transformers config is converted to native data first
    (lrviz.formats), and recipe types are expanded into torch schedulers (lrviz.recipes);
    either way every problem names the user's own key path and line.
    """
    spec = _parse_data(data, lines, source, options)
    spec.problems = as_typed(spec, options, spec.problems)
    flags = options.flags()
    if flags and spec.description:
        # A preset's prose describes the file; after an override it may no longer hold.
        spec.description = f"[file description, before {' '.join(flags)}] {spec.description}"
    if source.kind == "class":
        name = source.stem
        preset = name.lower() in preset_names()
        also = f" (the bundled preset is '{name.lower()}')" if preset else ""
        spec.notes.insert(0, f"{name}: torch's class with torch's defaults{also}")
    elif source.kind == "preset":
        spec.notes.insert(0, f"bundled preset {source.stem!r}")
    return spec


def _parse_data(
    data: Any, lines: dict[str, int], source: Source, options: Options
) -> spec_mod.Spec:
    from . import formats, recipes

    try:
        fmt = options.source_format or formats.detect(data)
    except formats.Unrecognised as exc:
        raise SpecError([Problem(source.label, None, None, str(exc))]) from None
    if fmt not in formats.FORMATS:
        raise UsageError(f"--from must be one of {', '.join(formats.FORMATS)}, not {fmt!r}")
    sets = list(options.overrides)
    if fmt == "native":
        if data is None:
            data = {}
        for flag, value in (("epochs", options.epochs), ("iters_per_epoch", options.iters)):
            if value is not None:
                sets.append(f"run.{flag}={value}")
        if options.step is not None:
            sets.append(f"run.step={options.step}")
        overridden = _apply(data, sets)
        expansion = recipes.expand(data)
        if not expansion.expanded:  # the plain path: the file's own keys and lines
            return spec_mod.parse(
                data, source.label, lines, overridden, source.base_dir, source.stem, source.tree()
            )
        return _finish(source, expansion, {}, lines, {}, overridden, [])

    # A foreign config: `--set run.*` edits the converted run, any other --set the user's file.
    before = [a for a in sets if not a.strip().startswith("run.")]
    after = [a for a in sets if a.strip().startswith("run.")]
    original_overridden = _apply(data, before) if isinstance(data, dict) else {}
    horizon = formats.Horizon(options.epochs, options.iters, options.step)
    file = source.path if source.kind == "file" else None
    ctx = formats.Ctx(source.label, lines, original_overridden, horizon, file, source.tree())
    native = formats.convert(fmt, data, ctx, source.stem)
    run = native.setdefault("run", {})
    flags = {"epochs": options.epochs, "step": options.step}
    overridden = {f"run.{k}": f"run.{k}={v}" for k, v in flags.items() if v is not None}
    if options.iters is not None and "iters_per_epoch" in run:
        overridden["run.iters_per_epoch"] = f"run.iters_per_epoch={run['iters_per_epoch']}"
    overridden.update(_apply(native, after))
    expansion = recipes.expand(native)
    return _finish(source, expansion, ctx.origin, lines, original_overridden, overridden, ctx.notes)


def _apply(data: dict[str, Any], assignments: list[str]) -> dict[str, str]:
    """Apply --set assignments; key path -> the assignment text."""
    for a in assignments:
        _check_value(a)
    return {document.apply_override(data, a): a for a in assignments}


def _check_value(assignment: str) -> None:
    """A --set value that is not YAML, refused in one line (PyYAML's own message takes seven)."""
    import yaml

    raw = assignment.partition("=")[2]
    try:
        document.load_yaml(raw)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at column {mark.column + 1}" if mark is not None else ""
        what = exc.problem or exc.context or "invalid YAML"
        raise UsageError(f"--set {assignment!r}: value is not valid YAML: {what}{where}") from None
    except yaml.YAMLError as exc:
        text = " ".join(str(exc).split())
        raise UsageError(f"--set {assignment!r}: value is not valid YAML: {text}") from None


def _finish(
    source: Source,
    expansion: Any,
    origin: dict[str, str],
    lines: dict[str, int],
    original_overridden: dict[str, str],
    overridden: dict[str, str],
    notes: list[str],
) -> spec_mod.Spec:
    """Parse generated native data, locating every key at the user's key path and line.

    Keys go through two maps: recipe expansion (generated key -> recipe key) and format
    conversion (native key -> the user's key path in the original file).
    """
    from .formats import key_paths

    def user_key(key: str) -> str:
        native = document.alias_key(expansion.origin, key) or key
        return document.alias_key(origin, native) or native

    def native_key(key: str) -> str:
        return document.alias_key(expansion.origin, key) or key

    new_lines: dict[str, int] = {}
    new_overridden: dict[str, str] = {}
    aliases: dict[str, str] = {}
    keys = set(key_paths(expansion.data)) | set(expansion.origin)
    for key in keys:
        native = native_key(key)
        src, line = document.locate(source.label, {}, overridden, native)
        if src == source.label:
            src, line = document.locate(source.label, lines, original_overridden, user_key(key))
        if src != source.label:
            new_overridden[key] = src.removeprefix("--set ")
        elif line is not None:
            new_lines[key] = line
        if user_key(key) != key:
            aliases[key] = user_key(key)
    spec = spec_mod.parse(
        expansion.data,
        source.label,
        new_lines,
        new_overridden,
        source.base_dir,
        source.stem,
        source.tree(),
    )
    spec.aliases = aliases
    spec.notes = [*notes, *expansion.notes]
    spec.problems = [
        dataclasses.replace(p, key=document.alias_key(aliases, p.key)) for p in spec.problems
    ]
    for key, message in expansion.problems:
        spec.problems.append(spec.problem(key, message))
    return spec


def load_plan(
    arg: str | Mapping[str, Any], options: Options = Options(), *, streaming: bool = False
) -> Plan:
    """A checked, runnable plan for a command-line SPEC; SpecError lists every problem.

    `streaming`: the caller consumes the run in chunks (simulation.run_chunks), so the
    whole-run memory check does not apply.
    """
    spec = load_spec(arg, options)
    try:
        return plan(spec, max_rows=options.max_rows, streaming=streaming)
    except SpecError as exc:
        raise SpecError(as_typed(spec, options, exc.problems)) from None


RUN_SIZE = ("run.epochs", "run.iters_per_epoch")  # the keys a run's row count comes from


def as_typed(spec: spec_mod.Spec, options: Options, problems: list[Problem]) -> list[Problem]:
    """Problems that blame the command line name it as the user typed it.

    `--iters 1000` is applied as `run.iters_per_epoch=1000`, so a problem there reads
    `--iters 1000: ...`, not `--set run.iters_per_epoch=1000`. A run too long or too big for
    memory is blamed on the run-size overrides the user typed, whichever key build names.
    """
    flags = {
        key: f"--{flag} {value}"
        for key, flag, value in (
            ("run.epochs", "epochs", options.epochs),
            ("run.iters_per_epoch", "iters", options.iters),
            ("run.step", "step", options.step),
        )
        if value is not None
        and key in spec.overridden
        and spec.overridden[key] not in options.overrides
    }
    typed = {f"--set {spec.overridden[key]}": flag for key, flag in flags.items()}
    size = [
        flags.get(key, f"--set {spec.overridden[key]}")
        for key in RUN_SIZE
        if key in spec.overridden
    ]
    out = []
    for p in problems:
        if (
            p.key == "run.epochs"
            and size
            and p.message.startswith(("the run has ", "the run needs"))
        ):
            p = dataclasses.replace(p, source=" ".join(size), key=None, line=None)
        elif p.source in typed:
            p = dataclasses.replace(p, source=typed[p.source])
        out.append(p)
    return out
