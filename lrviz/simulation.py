"""Runs the training loop of SPEC section 2 against a real torch scheduler -> Trace."""

from __future__ import annotations

import warnings
from array import array
from collections.abc import Callable
from typing import Any

from .build import Built, Plan, build
from .markers import find_events
from .trace import Failure, Trace, WarningRecord


def run(plan: Plan, *, on_row: Callable[[Built, int], None] | None = None) -> Trace:
    """Simulate a plan: one row per optimizer step, recorded as the optimizer sees it.

    `on_row(built, k)` is called after row k is recorded, before the scheduler steps
    (the inspector uses it; it must leave the schedule unchanged).
    """
    import numpy as np
    import torch

    n, groups = plan.rows, len(plan.spec.groups)
    # array * n allocates once; array("d", bytes(...)) would hold both copies for a moment
    lr_buf = array("d", [0.0]) * (n * groups)
    mom_buf = array("d", [0.0]) * (n * groups)
    caught: list[warnings.WarningMessage] = []
    seen: dict[tuple[str, str], list[int]] = {}  # (category, message) -> [first row, count]
    failure: Failure | None = None
    done = 0
    built: Built | None = None

    def harvest(row: int) -> None:
        for w in caught:
            key = (w.category.__name__, " ".join(str(w.message).split()))
            if key in seen:
                seen[key][1] += 1
            else:
                seen[key] = [row, 1]
        caught.clear()

    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        caught = log
        try:
            built = build(plan)
        except Exception as exc:
            from .errors import ExprEvalError

            if not isinstance(exc, ExprEvalError):
                raise
            failure = Failure(0, _message(exc))
        harvest(0)
        if built is not None:
            done, failure = _loop(plan, built, lr_buf, mom_buf, caught, harvest, on_row)
        harvest(done)

    lr = np.frombuffer(lr_buf, dtype=np.float64).reshape(n, groups)[:done]
    mom = np.frombuffer(mom_buf, dtype=np.float64).reshape(n, groups)[:done]
    kinds: list[str | None] = built.momentum_keys if built else [None] * groups
    if not any(kinds):
        mom = mom[:, :0].reshape(done, 0) if groups == 0 else np.full((done, groups), np.nan)
    else:  # the buffer is ours: mark groups without momentum in place, no copy
        for g, kind in enumerate(kinds):
            if kind is None:
                mom[:, g] = np.nan
    spec = plan.spec
    records = [WarningRecord(r, c, cat, msg) for (cat, msg), (r, c) in seen.items()]
    trace = Trace(
        name=spec.name,
        scheduler=type(built.scheduler).__name__ if built else plan.scheduler_class,
        step_mode=plan.step_mode,
        order=plan.order,
        epochs=plan.epochs,
        iters_per_epoch=plan.iters_per_epoch,
        groups=list(spec.group_names),
        lr=lr.copy() if done < n else lr,
        momentum=mom,
        momentum_kind=kinds,
        torch_version=torch.__version__.split("+")[0],
        description=spec.description,
        warnings=records,
        error=failure,
        notes=list(plan.notes),
    )
    trace.events = find_events(plan, trace)
    return trace


def _loop(
    plan: Plan,
    built: Built,
    lr_buf: array,
    mom_buf: array,
    caught: list[Any],
    harvest: Callable[[int], None],
    on_row: Callable[[Built, int], None] | None,
) -> tuple[int, Failure | None]:
    """The hot loop; returns (rows produced, failure or None)."""
    optimizer, scheduler = built.optimizer, built.scheduler
    pgs = optimizer.param_groups
    n_groups = len(pgs)
    kinds = built.momentum_keys
    step = scheduler.step
    iters, mode, metrics = plan.iters_per_epoch, plan.step_mode, plan.metrics
    scheduler_first = plan.order == "scheduler_first"
    n = plan.rows
    record_mom = any(kinds)

    def advance(k: int) -> None:
        # The scheduler.step() call a training loop makes for row k (SPEC section 2).
        if metrics is not None:
            step(metrics[k])
        elif mode == "fractional":
            step(k // iters + (k % iters) / iters)
        else:
            step()

    k = 0
    try:
        for k in range(n):
            if scheduler_first:
                advance(k)
                if caught:
                    harvest(k)
            base = k * n_groups
            for g in range(n_groups):
                pg = pgs[g]
                lr_buf[base + g] = pg["lr"]
                if record_mom:
                    kind = kinds[g]
                    if kind == "momentum":
                        mom_buf[base + g] = pg["momentum"]
                    elif kind == "betas":
                        mom_buf[base + g] = pg["betas"][0]
            if k == 0:
                # Schedulers read and write only param_groups, so one real optimizer.step()
                # satisfies torch's order check; per-row calls would cost ~5x for nothing.
                _optimizer_step(optimizer)
            if on_row is not None:
                on_row(built, k)
            if not scheduler_first:
                advance(k)
                if caught:
                    harvest(k + 1)
    except Exception as exc:
        failed_row = k if scheduler_first else k + 1
        harvest(failed_row)
        return failed_row, Failure(failed_row, _message(exc))
    return n, None


def _optimizer_step(optimizer: Any) -> None:
    import torch

    if isinstance(optimizer, torch.optim.LBFGS):
        optimizer.step(lambda: torch.zeros(()))  # LBFGS insists on a closure
    else:
        optimizer.step()


def _message(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"
