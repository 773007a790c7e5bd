"""Runs the training loop of docs/spec.md against a real torch scheduler -> Trace."""

from __future__ import annotations

import warnings
from array import array
from collections.abc import Callable, Iterator
from typing import Any

from .build import Built, Plan, SchedulerList, build
from .nodynamo import mark_optimizer_stepped
from .stepping import step_calls
from .trace import Failure, Trace, WarningRecord

DEFAULT_CHUNK_ROWS = 100_000  # rows per chunk when streaming: ~3 MB per group, any run length


def run(plan: Plan, *, on_row: Callable[[Built, int], None] | None = None) -> Trace:
    """Simulate a plan: one row per optimizer step, recorded as the optimizer sees it.

    `on_row(built, k)` is called after row k is recorded, before the scheduler steps
    (the inspector uses it; it must leave the schedule unchanged).
    """
    (trace,) = _segments(plan, max(plan.rows, 1), on_row)  # one segment: the whole run
    trace.plan = plan  # markers are found from it when a plot asks, not here
    return trace


def run_chunks(plan: Plan, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[Trace]:
    """The same run as consecutive Traces of at most `chunk_rows` rows, so memory stays flat.

    Each chunk's `offset` is its first row; its arrays are reused for the next chunk, so
    consume (write) a chunk before asking for the next. The last chunk carries the run's
    warnings and failure.
    """
    return _segments(plan, max(1, min(chunk_rows, plan.rows)), None)


def run_from(plan: Plan, built: Built, start: int, stop: int | None = None) -> Trace:
    """Rows [start, stop) of the plan's loop, driven by an existing optimizer and scheduler.

    The same loop as `run`, picked up at row `start` (a resumed training script): resume
    compares its rows with an uninterrupted run.
    """
    end = plan.rows if stop is None else min(stop, plan.rows)
    (trace,) = _segments(plan, max(1, end - start), None, built=built, start=start, stop=end)
    return trace


def _segments(
    plan: Plan,
    size: int,
    on_row: Callable[[Built, int], None] | None,
    *,
    built: Built | None = None,
    start: int = 0,
    stop: int | None = None,
) -> Iterator[Trace]:
    """Run the loop in segments of `size` rows, yielding each as a Trace over shared buffers.

    With `built` the loop drives that optimizer and scheduler from row `start` on (resume);
    otherwise it builds fresh ones and starts at row 0.
    """
    import numpy as np
    import torch

    n, groups = plan.rows if stop is None else stop, len(plan.spec.groups)
    first_row = start
    # array * n allocates once; array("d", bytes(...)) would hold both copies for a moment
    lr_buf = array("d", [0.0]) * (size * groups)
    mom_buf = array("d", [0.0]) * (size * groups)
    caught: list[warnings.WarningMessage] = []
    seen: dict[tuple[str, str], list[int]] = {}  # (category, message) -> [first row, count]
    failure: Failure | None = None
    spec = plan.spec
    version = torch.__version__.split("+")[0]

    def harvest(row: int) -> None:
        for w in caught:
            key = (w.category.__name__, " ".join(str(w.message).split()))
            if key in seen:
                seen[key][1] += 1
            else:
                seen[key] = [row, 1]
        caught.clear()

    def segment(start: int, done: int) -> Trace:
        rows = done - start
        scheduler_name = plan.scheduler_class
        if built is not None and not isinstance(built.scheduler, SchedulerList):
            scheduler_name = type(built.scheduler).__name__
        lr = np.frombuffer(lr_buf, dtype=np.float64).reshape(size, groups)[:rows]
        mom = np.frombuffer(mom_buf, dtype=np.float64).reshape(size, groups)[:rows]
        kinds: list[str | None] = built.momentum_keys if built else [None] * groups
        for g, kind in enumerate(kinds):  # the buffer is ours: mark these in place, no copy
            if kind is None:
                mom[:, g] = np.nan
        return Trace(
            name=spec.name,
            scheduler=scheduler_name,
            step_mode=plan.step_mode,
            order=plan.order,
            epochs=plan.epochs,
            iters_per_epoch=plan.iters_per_epoch,
            groups=list(spec.group_names),
            lr=lr,
            momentum=mom,
            momentum_kind=kinds,
            torch_version=version,
            description=spec.description,
            warnings=[WarningRecord(r, c, cat, msg) for (cat, msg), (r, c) in seen.items()],
            error=failure,
            notes=list(plan.notes),
            offset=start,
        )

    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        caught = log
        if built is None:
            try:
                built = build(plan)
            except Exception as exc:
                from .errors import ExprEvalError

                if not isinstance(exc, ExprEvalError):
                    raise
                failure = Failure(0, _message(exc))
        harvest(start)
        if built is None:
            yield segment(0, 0)
            return
        while True:
            end = min(n, start + size)
            done, failure = _loop(
                plan, built, start, end, first_row, lr_buf, mom_buf, caught, harvest, on_row
            )
            harvest(done)
            last = failure is not None or done >= n
            yield segment(start, done)
            if last:
                return
            start = done


def _loop(
    plan: Plan,
    built: Built,
    start: int,
    stop: int,
    first_row: int,
    lr_buf: array,
    mom_buf: array,
    caught: list[Any],
    harvest: Callable[[int], None],
    on_row: Callable[[Built, int], None] | None,
) -> tuple[int, Failure | None]:
    """The hot loop over rows [start, stop); returns (rows produced so far, failure or None)."""
    optimizer = built.optimizer
    pgs = optimizer.param_groups
    n_groups = len(pgs)
    kinds = built.momentum_keys
    scheduler_first = plan.order == "scheduler_first"
    # The scheduler.step() calls a training loop makes around row k (the loop of docs/spec.md).
    before, after = loop_calls(plan, built)
    record_mom = any(kinds)

    k = start
    try:
        for k in range(start, stop):
            if scheduler_first:
                before(k)
                if caught:
                    harvest(k)
            base = (k - start) * n_groups
            for g in range(n_groups):
                pg = pgs[g]
                lr_buf[base + g] = pg["lr"]
                if record_mom:
                    kind = kinds[g]
                    if kind == "momentum":
                        mom_buf[base + g] = pg["momentum"]
                    elif kind == "betas":
                        mom_buf[base + g] = pg["betas"][0]
            if k == first_row:
                # Schedulers read and write only param_groups, so one optimizer step satisfies
                # torch's order check; per-row calls would cost ~5x for nothing. With no
                # gradients it is recorded as torch's wrapper records it (lrviz.nodynamo).
                _optimizer_step(optimizer)
            if on_row is not None:
                on_row(built, k)
            if not scheduler_first:
                after(k)
                if caught:
                    harvest(k + 1)
    except Exception as exc:
        failed_row = k if scheduler_first else k + 1
        harvest(failed_row)
        return failed_row, Failure(failed_row, _message(exc))
    return stop, None


def loop_calls(plan: Plan, built: Built) -> tuple[Callable[[int], None], Callable[[int], None]]:
    """(before(k), after(k)): every scheduler.step() the plan's loop makes around row k."""
    return step_calls(
        built.members,
        plan.member_cadences,
        plan.iters_per_epoch,
        plan.metrics,
        plan.order == "scheduler_first",
    )


def _optimizer_step(optimizer: Any) -> None:
    import torch

    if isinstance(optimizer, torch.optim.LBFGS):
        optimizer.step(lambda: torch.zeros(()))  # LBFGS insists on a closure
    elif not mark_optimizer_stepped(optimizer):  # no gradients: a step would change nothing
        optimizer.step()


def _message(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"
