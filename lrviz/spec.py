"""YAML schedule file -> Spec: structure checked, every problem located; no torch here."""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .document import (
    alias_key,
    child_key,
    locate,
)
from .errors import Problem, did_you_mean

STEP_MODES = ("epoch", "batch", "fractional")
ORDERS = ("optimizer_first", "scheduler_first")
TOP_KEYS = (
    "name",
    "description",
    "optimizer",
    "param_groups",
    "scheduler",
    "run",
    "check",
    "expect",
)
RUN_KEYS = ("epochs", "iters_per_epoch", "step", "order", "metrics", "steps")
# The keys of the blocks `lrviz check` reads; their values are checked in lrviz/checks/.
CHECK_KEYS = ("ignore",)
EXPECT_KEYS = ("final_lr", "max_lr", "min_lr", "lr_at", "monotonic", "group", "rel", "abs")
LR_AT_KEYS = ("epoch", "step", "lr", "group", "rel", "abs")
MAX_METRICS = 20_000_000  # one value per scheduler step of the largest run lrviz allows


@dataclass
class SchedulerSpec:
    """One scheduler: its type as written, its constructor keywords, inline children."""

    type: str
    kwargs: dict[str, Any]
    children: list[SchedulerSpec]
    key: str  # key path, e.g. "scheduler" or "scheduler.schedulers[1]"
    # A member of a scheduler list (docs/spec.md): its own interval and frequency.
    interval: str | None = None  # "batch" or "epoch"; None: the scheduler's natural one
    frequency: int = 1
    is_list: bool = False  # the root of a scheduler list: no type, its children are members

    @property
    def members(self) -> list[SchedulerSpec]:
        """The independently stepped schedulers: a list's members, or this one scheduler."""
        return self.children if self.is_list else [self]


@dataclass
class RunSpec:
    """How the training loop steps the scheduler (the loop of docs/spec.md)."""

    epochs: int
    iters_per_epoch: int = 1
    step: str | None = None  # None: the scheduler's natural mode, decided in build
    order: str = "optimizer_first"
    metrics: list[float] | None = None
    steps: int | None = None  # horizon in optimizer steps (rows); cuts the last epoch short


@dataclass
class Spec:
    """A parsed schedule file, plus where each key came from and what is wrong with it."""

    name: str
    description: str
    source: str
    optimizer_type: str
    optimizer_kwargs: dict[str, Any]
    groups: list[dict[str, Any]]  # per-group overrides (without "name")
    group_names: list[str]
    scheduler: SchedulerSpec
    run: RunSpec
    check: dict[str, Any] = field(default_factory=dict)
    expect: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    overridden: dict[str, str] = field(default_factory=dict)  # key path -> the --set text
    problems: list[Problem] = field(default_factory=list)
    # Specs converted from another format (lrviz.formats) or expanded from a recipe: the
    # user's key path for each generated one, so messages name what the user wrote.
    aliases: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # derived numbers, shown in the header

    def where(self, key: str | None) -> tuple[str, int | None]:
        """The source label and YAML line for a key path (nearest located ancestor)."""
        return locate(self.source, self.lines, self.overridden, key)

    def problem(self, key: str | None, message: str) -> Problem:
        """A Problem located at `key`."""
        source, line = self.where(key)
        return Problem(source, alias_key(self.aliases, key), line, message)


def parse(
    data: Any,
    source: str,
    lines: dict[str, int],
    overridden: dict[str, str],
    base_dir: Path | None,
    default_name: str,
    root: Path | None = None,
) -> Spec:
    """Check the structure of raw spec data; problems are collected on the Spec, not raised."""
    ctx = _Ctx(source, lines, overridden)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        ctx.add(
            "",
            f"expected a mapping of keys (name, optimizer, scheduler, run, ...), got {_kind(data)}",
        )
        data = {}
    ctx.unknown_keys(data, "", TOP_KEYS)

    name = ctx.string(data, "name", default_name)
    description = ctx.string(data, "description", "")

    opt = ctx.mapping(data, "optimizer")
    opt_type = ctx.string(opt, "type", "SGD", key="optimizer.type")
    opt_kwargs = {k: v for k, v in opt.items() if k != "type"}
    if "lr" not in opt_kwargs:
        opt_kwargs["lr"] = 0.1

    groups: list[dict[str, Any]] = []
    names: list[str] = []
    raw_groups = data.get("param_groups")
    if raw_groups is None:
        groups, names = [{}], ["group0"]
    elif not isinstance(raw_groups, list) or not raw_groups:
        ctx.add("param_groups", f"expected a non-empty list of groups, got {_kind(raw_groups)}")
        groups, names = [{}], ["group0"]
    else:
        for i, g in enumerate(raw_groups):
            key = child_key("param_groups", i)
            if not isinstance(g, dict):
                ctx.add(key, f"expected a mapping such as {{name: head, lr: 0.1}}, got {_kind(g)}")
                g = {}
            label = ctx.string(g, "name", f"group{i}", key=child_key(key, "name"))
            if label in names:
                ctx.add(child_key(key, "name"), f"group name {label!r} is used twice")
            names.append(label)
            groups.append({k: v for k, v in g.items() if k != "name"})

    sched_raw = data.get("scheduler")
    if sched_raw is None:
        ctx.add(
            "scheduler", "missing: every spec needs a scheduler, e.g. {type: StepLR, step_size: 30}"
        )
        scheduler = SchedulerSpec("", {}, [], "scheduler")
    elif isinstance(sched_raw, list):
        scheduler = _scheduler_list(ctx, sched_raw, "scheduler")
    else:
        scheduler = _scheduler(ctx, sched_raw, "scheduler")

    run = _run(ctx, data.get("run"), base_dir, root)
    check = ctx.mapping(data, "check")
    ctx.unknown_keys(check, "check", CHECK_KEYS)
    expect = ctx.mapping(data, "expect")
    ctx.unknown_keys(expect, "expect", EXPECT_KEYS)
    lr_at = expect.get("lr_at")
    for i, item in enumerate(lr_at if isinstance(lr_at, list) else []):
        if isinstance(item, dict):
            ctx.unknown_keys(item, child_key("expect.lr_at", i), LR_AT_KEYS)
    return Spec(
        name=name,
        description=description,
        source=source,
        optimizer_type=opt_type,
        optimizer_kwargs=opt_kwargs,
        groups=groups,
        group_names=names,
        scheduler=scheduler,
        run=run,
        check=check,
        expect=expect,
        lines=lines,
        overridden=overridden,
        problems=ctx.problems,
    )


def iter_schedulers(root: SchedulerSpec) -> Iterator[SchedulerSpec]:
    """Every scheduler and all its inline children, depth first (a list's root is no scheduler)."""
    if not root.is_list:
        yield root
    for child in root.children:
        yield from iter_schedulers(child)


MEMBER_KEYS = ("step", "frequency")  # a list member's own keys; the rest go to the constructor
MEMBER_STEPS = ("batch", "epoch")


def _scheduler_list(ctx: _Ctx, raw: list[Any], key: str) -> SchedulerSpec:
    """A `scheduler:` list: independent schedulers on one optimizer, each at its own interval."""
    if not raw:
        ctx.add(key, "expected a scheduler or a non-empty list of schedulers, got an empty list")
        return SchedulerSpec("", {}, [], key, is_list=True)
    members = []
    for i, item in enumerate(raw):
        sub = child_key(key, i)
        member = _scheduler(ctx, item, sub)
        if isinstance(item, dict):
            member.kwargs = {k: v for k, v in member.kwargs.items() if k not in MEMBER_KEYS}
            step = item.get("step")
            if step is not None:
                if step not in MEMBER_STEPS:
                    hint = did_you_mean(str(step), MEMBER_STEPS) if isinstance(step, str) else ""
                    ctx.add(
                        child_key(sub, "step"),
                        f"expected batch or epoch, got {_kind(step)}{hint} (a list member steps "
                        f"after each batch or after each epoch)",
                    )
                else:
                    member.interval = str(step)
            frequency = item.get("frequency", 1)
            if isinstance(frequency, bool) or not isinstance(frequency, int) or frequency < 1:
                ctx.add(
                    child_key(sub, "frequency"),
                    f"expected a whole number of at least 1, got {_kind(frequency)}",
                )
            else:
                member.frequency = frequency
        members.append(member)
    return SchedulerSpec("", {}, members, key, is_list=True)


def _scheduler(ctx: _Ctx, raw: Any, key: str, depth: int = 0) -> SchedulerSpec:
    if not isinstance(raw, dict):
        ctx.add(key, f"expected a mapping with a 'type', got {_kind(raw)}")
        return SchedulerSpec("", {}, [], key)
    stype = raw.get("type")
    if not isinstance(stype, str) or not stype:
        ctx.add(
            child_key(key, "type") if "type" in raw else key,
            "missing scheduler type, e.g. type: CosineAnnealingLR"
            if stype is None
            else f"expected a scheduler class name, got {_kind(stype)}",
        )
        stype = ""
    kwargs = {k: v for k, v in raw.items() if k not in ("type", "schedulers")}
    children: list[SchedulerSpec] = []
    if "schedulers" in raw:
        subs = raw["schedulers"]
        skey = child_key(key, "schedulers")
        if depth >= 8:
            ctx.add(skey, "composites nested more than 8 deep")
        elif not isinstance(subs, list) or not subs:
            ctx.add(skey, f"expected a non-empty list of schedulers, got {_kind(subs)}")
        else:
            children = [
                _scheduler(ctx, s, child_key(skey, i), depth + 1) for i, s in enumerate(subs)
            ]
    return SchedulerSpec(stype, kwargs, children, key)


def _run(ctx: _Ctx, raw: Any, base_dir: Path | None, root: Path | None) -> RunSpec:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        ctx.add("run", f"expected a mapping (epochs, iters_per_epoch, step, ...), got {_kind(raw)}")
        raw = {}
    ctx.unknown_keys(raw, "run", RUN_KEYS)
    epochs = ctx.positive_int(raw, "epochs", None)
    steps = ctx.positive_int(raw, "steps", None)
    if epochs is None and "epochs" not in raw and "steps" not in raw:
        ctx.add("run.epochs", "missing: set run.epochs in the file or pass --epochs N")
    iters = ctx.positive_int(raw, "iters_per_epoch", 1)
    step = ctx.choice(raw, "step", STEP_MODES)
    order = ctx.choice(raw, "order", ORDERS) or "optimizer_first"
    metrics = _metrics(ctx, raw.get("metrics"), base_dir, root) if "metrics" in raw else None
    if epochs is None and steps is not None:
        epochs = -(-steps // (iters or 1))  # enough epochs to hold the rows (optimizer steps)
    return RunSpec(epochs or 1, iters or 1, step, order, metrics, steps)


def _metrics(ctx: _Ctx, raw: Any, base_dir: Path | None, root: Path | None) -> list[float] | None:
    key = "run.metrics"
    if isinstance(raw, list):
        values: list[float] = []
        for i, v in enumerate(raw):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                ctx.add(child_key(key, i), f"expected a number, got {_kind(v)}")
                return None
            values.append(float(v))
        return values
    if isinstance(raw, dict):
        ctx.unknown_keys(raw, key, ("csv", "column"))
        name, column = raw.get("csv"), raw.get("column")
        if not isinstance(name, str) or not isinstance(column, str):
            ctx.add(key, "expected {csv: path/to/log.csv, column: val_loss}")
            return None
        return _metrics_csv(ctx, name, column, base_dir, root)
    ctx.add(key, f"expected a list of numbers or {{csv: path, column: name}}, got {_kind(raw)}")
    return None


def _metrics_csv(
    ctx: _Ctx, name: str, column: str, base_dir: Path | None, root: Path | None
) -> list[float] | None:
    """A column of a training log; the file is confined to the project tree (lrviz.paths)."""
    from .paths import Refused, confine, read_text

    key = "run.metrics.csv"
    here = base_dir or Path.cwd()
    try:
        if ctx.from_command_line(key):  # --set run.metrics.csv=...: the user's own path
            path = Path(name).expanduser()
        else:
            path = confine(name, here, root or here)
        text = read_text(path, name)
    except Refused as exc:
        ctx.add(key, str(exc))
        return None
    rows = csv.reader(text.splitlines())
    header = next(rows, [])
    if column not in header:
        # Header names are quoted only when the file reads as a CSV with a name-like header:
        # any other file (a .env, /proc/...) would leak its content into a public CI log.
        listed = header if _looks_like_header(text, header) else []
        columns = f" (columns: {', '.join(listed)})" if listed else " (no CSV header found)"
        ctx.add(
            "run.metrics.column",
            f"{name} has no column {column!r}{columns}{did_you_mean(column, listed)}",
        )
        return None
    index = header.index(column)
    values: list[float] = []
    for row_no, row in enumerate(rows, start=2):
        cell = row[index].strip() if index < len(row) else ""
        if not cell:
            continue  # logs often leave a metric blank on batches where it is not computed
        try:
            values.append(float(cell))
        except ValueError:
            ctx.add(key, f"{name} line {row_no}: the {column!r} cell is not a number")
            return None
        if len(values) > MAX_METRICS:
            ctx.add(key, f"{name}: more than {MAX_METRICS:,} values in column {column!r}")
            return None
    return values


_HEADER_NAME = re.compile(r"^[A-Za-z_][\w .\-/()\[\]%@#]{0,63}$")


def _looks_like_header(text: str, header: list[str]) -> bool:
    """Whether the first line is a CSV header of names (not a secret, not binary)."""
    if not header or not all(_HEADER_NAME.match(h) for h in header):
        return False
    widths = {len(r) for r in csv.reader(text.splitlines()[1:6]) if r}
    return widths <= {len(header)}


def _kind(value: Any) -> str:
    """How a value reads in a message: the value itself when short, else its type."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    text = repr(value)
    return text if len(text) <= 40 else f"a {type(value).__name__}"


def describe(value: Any) -> str:
    """How a value reads in an error message (shared with build's type checks)."""
    return _kind(value)


class _Ctx:
    """Collects problems while parsing, locating each by key path."""

    def __init__(self, source: str, lines: dict[str, int], overridden: dict[str, str]) -> None:
        self.source, self.lines, self.overridden = source, lines, overridden
        self.problems: list[Problem] = []

    def add(self, key: str, message: str) -> None:
        source, line = locate(self.source, self.lines, self.overridden, key or None)
        self.problems.append(Problem(source, key or None, line, message))

    def from_command_line(self, key: str) -> bool:
        """Whether a key's value was given by --set (the user's own, not the file's)."""
        return locate(self.source, {}, self.overridden, key)[0] != self.source

    def unknown_keys(self, raw: dict[str, Any], key: str, allowed: tuple[str, ...]) -> None:
        for k in raw:
            if k not in allowed:
                sub = child_key(key, str(k))
                self.add(sub, f"unknown key{did_you_mean(str(k), allowed)}")

    def mapping(self, raw: dict[str, Any], name: str) -> dict[str, Any]:
        value = raw.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(name, f"expected a mapping, got {_kind(value)}")
            return {}
        return value

    def string(self, raw: dict[str, Any], name: str, default: str, key: str | None = None) -> str:
        value = raw.get(name)
        if value is None:
            return default
        if not isinstance(value, str):
            self.add(key or name, f"expected text, got {_kind(value)}")
            return default
        return value

    def positive_int(self, raw: dict[str, Any], name: str, default: int | None) -> int | None:
        value = raw.get(name)
        key = child_key("run", name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            hint = ""
            if isinstance(value, float) and math.isfinite(value) and value.is_integer():
                hint = f" (write {int(value)})"
            self.add(key, f"expected a whole number, got {_kind(value)}{hint}")
            return default
        if value < 1:
            self.add(key, f"must be at least 1, got {value}")
            return default
        return value

    def choice(self, raw: dict[str, Any], name: str, options: tuple[str, ...]) -> str | None:
        value = raw.get(name)
        if value is None:
            return None
        if value not in options:
            hint = did_you_mean(str(value), options) if isinstance(value, str) else ""
            self.add(
                child_key("run", name),
                f"expected one of {', '.join(options)}, got {_kind(value)}{hint}",
            )
            return None
        return str(value)
