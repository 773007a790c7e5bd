"""The Python API: everything the CLI shows, from a notebook, for specs or your own schedulers.

>>> import lrviz
>>> trace = lrviz.run("steplr", epochs=40)
>>> trace.rows, trace.lr[[0, 29, 30], 0].tolist()
(40, [0.1, 0.1, 0.010000000000000002])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .build import DEFAULT_MAX_ROWS, Plan, plan
from .errors import UsageError
from .load import Options, load_spec
from .spec import RunSpec, SchedulerSpec, Spec
from .trace import Trace

__all__ = ["check", "custom_plan", "diff", "make_plan", "resume", "run", "simulate"]


def make_plan(
    spec: str | Path | Mapping[str, Any],
    *,
    epochs: int | None = None,
    iters_per_epoch: int | None = None,
    step: str | None = None,
    overrides: Sequence[str] = (),
    max_rows: int = DEFAULT_MAX_ROWS,
    source_format: str | None = None,
    root: str | Path | None = None,
) -> Plan:
    """A checked Plan for a spec file, preset, class name or spec dict (raises SpecError).

    A dict goes through the same stages as a file (recipes, foreign formats, --set);
    `source_format` is the CLI's --from, `root` its --root.

    >>> make_plan({"scheduler": {"type": "StepLR", "step_size": 3}}, epochs=9).rows
    9
    """
    where = Path(root) if root is not None else None
    options = Options(
        tuple(overrides), epochs, iters_per_epoch, step, max_rows, source_format, where
    )
    parsed = load_spec(spec if isinstance(spec, Mapping) else str(spec), options)
    return plan(parsed, max_rows=max_rows)


def run(spec: str | Path | Mapping[str, Any], **options: Any) -> Trace:
    """Simulate a spec file, bundled preset, scheduler class name or spec dict -> Trace.

    Options: epochs, iters_per_epoch, step, overrides (["scheduler.T_0=10"]), max_rows,
    source_format, root.

    >>> trace = run({"scheduler": {"type": "ExponentialLR", "gamma": 0.5}}, epochs=3)
    >>> trace.lr[:, 0].tolist()
    [0.1, 0.05, 0.025]
    """
    from .simulation import run as simulate_plan

    return simulate_plan(make_plan(spec, **options))


def simulate(make_scheduler: Callable[[Any], Any], **options: Any) -> Trace:
    """Simulate your own `optimizer -> scheduler` function (any LRScheduler, even one lrviz
    has never seen) with the loop of docs/spec.md; options are those of `custom_plan`.

    >>> import torch
    >>> trace = simulate(lambda opt: torch.optim.lr_scheduler.StepLR(opt, 2), epochs=4)
    >>> trace.scheduler, trace.lr[:, 0].tolist()
    ('StepLR', [0.1, 0.1, 0.010000000000000002, 0.010000000000000002])
    """
    from .simulation import run as simulate_plan

    return simulate_plan(custom_plan(make_scheduler, **options))


def custom_plan(
    make_scheduler: Callable[[Any], Any],
    *,
    epochs: int,
    iters_per_epoch: int = 1,
    step: str = "epoch",
    order: str = "optimizer_first",
    param_groups: Sequence[Mapping[str, Any]] | None = None,
    optimizer: str = "SGD",
    optimizer_kwargs: Mapping[str, Any] | None = None,
    metrics: Sequence[float] | None = None,
    name: str | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> Plan:
    """A Plan whose scheduler comes from a Python function instead of a spec.

    `param_groups` are dicts of per-group options (an optional "name", "lr", "momentum", ...);
    `metrics` feed a metric-driven scheduler such as ReduceLROnPlateau, one per step.
    """
    if not callable(make_scheduler):
        raise UsageError("make_scheduler must be a function optimizer -> scheduler")
    if step not in ("epoch", "batch", "fractional"):
        raise UsageError(f"step must be epoch, batch or fractional, not {step!r}")
    if order not in ("optimizer_first", "scheduler_first"):
        raise UsageError(f"order must be optimizer_first or scheduler_first, not {order!r}")
    if epochs < 1 or iters_per_epoch < 1:
        raise UsageError(
            f"epochs and iters_per_epoch must be at least 1, got {epochs=}, {iters_per_epoch=}"
        )
    groups = [dict(g) for g in (param_groups or [{}])]
    names = [str(g.pop("name", f"group{i}")) for i, g in enumerate(groups)]
    kwargs = dict(optimizer_kwargs or {})
    kwargs.setdefault("lr", 0.1)
    label = str(name or getattr(make_scheduler, "__name__", "custom"))
    spec = Spec(
        name="custom" if label == "<lambda>" else label,
        description="",
        source="<python>",
        optimizer_type=optimizer,
        optimizer_kwargs=kwargs,
        groups=groups,
        group_names=names,
        scheduler=SchedulerSpec("custom", {}, [], "scheduler"),
        run=RunSpec(epochs, iters_per_epoch, step, order, list(metrics) if metrics else None),
    )
    rows = epochs if step == "epoch" else epochs * iters_per_epoch
    if rows > max_rows:
        raise UsageError(f"the run has {rows:,} rows, more than max_rows={max_rows:,}")
    if metrics is not None and len(metrics) < rows:
        raise UsageError(f"{len(metrics):,} metrics for {rows:,} scheduler steps; one per step")
    return Plan(
        spec,
        "custom",
        epochs,
        iters_per_epoch,
        step,
        order,
        rows,
        tuple(metrics) if metrics is not None else None,
        factory=make_scheduler,
    )


def _plan_for(spec: Any, options: dict[str, Any]) -> Plan:
    """A Plan from a spec (file, preset, class name, dict) or a scheduler factory."""
    if callable(spec) and not isinstance(spec, (str, Path)):
        return custom_plan(spec, **options)
    return make_plan(spec, **options)


def diff(spec: Any, **options: Any) -> Any:
    """get_last_lr(), get_lr() and the closed form against the optimizer's lr, per row.

    `spec` is what `run` takes, or an `optimizer -> scheduler` function (then options are
    those of `custom_plan`). Returns a DiffReport (its `.trace` holds the rows).

    >>> report = diff("exponentiallr", epochs=5)
    >>> [(kind.id, kind.rows) for kind in report.kinds]
    [('get_lr_ahead', 5), ('closed_form_drift', 2)]
    """
    from .inspect.diff import inspect_plan

    return inspect_plan(_plan_for(spec, options))


def resume(spec: Any, at: int | None, **options: Any) -> Any:
    """Checkpoint after `at` scheduler steps (None: every step), reload, compare the rest.

    >>> report = resume("steplr", at=40)
    >>> report.ok
    True
    """
    from .inspect.resume import resume as resume_plan

    return resume_plan(_plan_for(spec, options), at)


def check(*specs: str, strict: bool = False, ignore: Sequence[str] = ()) -> Any:
    """Lint specs (files, folders, globs, presets) like `lrviz check`; findings as data.

    >>> report = check("steplr")
    >>> report.ok, report.summary()["errors"]
    (True, 0)
    """
    from .checks.discover import discover
    from .checks.model import Report
    from .checks.runner import check_spec

    files = discover(list(specs))
    return Report([check_spec(f, ignore=frozenset(ignore)) for f in files], strict)
