"""Command-line SPEC + overrides -> Plan: the one path every command takes to a runnable spec."""

from __future__ import annotations

from dataclasses import dataclass

from . import spec as spec_mod
from .build import DEFAULT_MAX_ROWS, Plan, plan
from .errors import SpecError
from .presets import Source, resolve


@dataclass(frozen=True)
class Options:
    """The options every spec-taking command shares."""

    overrides: tuple[str, ...] = ()
    epochs: int | None = None
    iters: int | None = None
    step: str | None = None
    max_rows: int = DEFAULT_MAX_ROWS


def load_spec(arg: str, options: Options = Options()) -> spec_mod.Spec:
    """Resolve, read, override and parse a spec; problems are kept on the Spec."""
    from .catalog import schedulers

    source = resolve(arg, list(schedulers()))
    return parse_source(source, options)


def parse_source(source: Source, options: Options = Options()) -> spec_mod.Spec:
    """Parse spec text with command-line overrides applied (torch-free)."""
    data, lines, problems = spec_mod.read_document(source.text, source.label)
    if problems:
        raise SpecError(problems)
    if data is None:
        data = {}
    overridden: dict[str, str] = {}
    if isinstance(data, dict):
        sets = list(options.overrides)
        if options.epochs is not None:
            sets.append(f"run.epochs={options.epochs}")
        if options.iters is not None:
            sets.append(f"run.iters_per_epoch={options.iters}")
        if options.step is not None:
            sets.append(f"run.step={options.step}")
        for assignment in sets:
            key = spec_mod.apply_override(data, assignment)
            overridden[key] = assignment
    return spec_mod.parse(data, source.label, lines, overridden, source.base_dir, source.stem)


def load_plan(arg: str, options: Options = Options()) -> Plan:
    """A checked, runnable plan for a command-line SPEC; SpecError lists every problem."""
    return plan(load_spec(arg, options), max_rows=options.max_rows)
