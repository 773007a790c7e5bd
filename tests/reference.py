"""A plain torch training loop, written independently of lrviz, to check lrviz's rows against.

It builds the optimizer and scheduler straight from the spec's YAML data with torch classes,
turns expressions into Python lambdas (trusted test input), and calls optimizer.step() on
every row exactly as the loop of docs/spec.md writes the loops.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch

MATH = {
    n: getattr(math, n)
    for n in (
        "sqrt",
        "exp",
        "log",
        "log2",
        "log10",
        "sin",
        "cos",
        "tan",
        "floor",
        "ceil",
        "pi",
        "e",
    )
}
MATH.update(abs=abs, min=min, max=max, pow=pow)


def _fn(text: str, var: str):
    return eval(f"lambda {var}: {text}", {"__builtins__": {}, **MATH})  # trusted test data


def _find(module: Any, name: str) -> Any:
    for key, value in vars(module).items():
        if key.lower() == name.lower() and isinstance(value, type):
            return value
    raise KeyError(name)


def _scheduler(node: dict, optimizer: Any, rows: int) -> Any:
    cls = _find(torch.optim.lr_scheduler, node["type"])
    kwargs = {k: v for k, v in node.items() if k not in ("type", "schedulers")}
    for key in ("lr_lambda", "scale_fn"):
        if isinstance(kwargs.get(key), str):
            kwargs[key] = _fn(kwargs[key], "x" if key == "scale_fn" else "epoch")
        elif isinstance(kwargs.get(key), list):
            kwargs[key] = [_fn(t, "epoch") for t in kwargs[key]]
    if cls is torch.optim.lr_scheduler.OneCycleLR and not {
        "total_steps",
        "epochs",
        "steps_per_epoch",
    } & set(kwargs):
        kwargs["total_steps"] = rows
    if "schedulers" in node:
        kwargs["schedulers"] = [_scheduler(c, optimizer, rows) for c in node["schedulers"]]
    return cls(optimizer=optimizer, **kwargs)


def reference_rows(data: dict, epochs: int, iters: int, mode: str, order: str = "optimizer_first"):
    """(lr rows, momentum rows, error step or None) from the textbook loop.

    Written as nested epoch/batch loops, the way docs/spec.md and training code write them:
    in epoch mode the scheduler steps after the epoch's last batch (scheduler_first: before
    its first), and every batch is a row.
    """
    opt = dict(data.get("optimizer") or {})
    opt_cls = _find(torch.optim, opt.pop("type", "SGD"))
    opt.setdefault("lr", 0.1)
    groups = [{k: v for k, v in g.items() if k != "name"} for g in data.get("param_groups") or [{}]]
    params = [{"params": [torch.zeros(1, requires_grad=True)], **g} for g in groups]
    steps = epochs if mode == "epoch" else epochs * iters  # scheduler steps in the run
    metrics = (data.get("run") or {}).get("metrics")
    lrs: list[list[float]] = []
    moms: list[list[float | None]] = []
    taken = [0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimizer = opt_cls(params, **opt)
        scheduler = _scheduler(data["scheduler"], optimizer, steps)

        def sched_step(e: int, i: int) -> None:
            if metrics is not None:
                scheduler.step(metrics[taken[0]])
            elif mode == "fractional":
                scheduler.step(e + i / iters)
            else:
                scheduler.step()
            taken[0] += 1

        def record() -> None:
            lrs.append([g["lr"] for g in optimizer.param_groups])
            moms.append(
                [
                    g["momentum"] if "momentum" in g else g["betas"][0] if "betas" in g else None
                    for g in optimizer.param_groups
                ]
            )

        first = order == "scheduler_first"
        for e in range(epochs):
            for i in range(iters):
                k = e * iters + i
                try:
                    if first and (mode != "epoch" or i == 0):
                        sched_step(e, i)
                    record()
                    optimizer.step()
                    if not first and (mode != "epoch" or i == iters - 1):
                        sched_step(e, i)
                except Exception:
                    return lrs, moms, (k if first else k + 1)
    return lrs, moms, None


def textbook_rows(make_opt: Any, make_sched: Any, rows: int) -> list[float]:
    """Group 0's lr per row of the textbook loop: record, optimizer.step(), scheduler.step()."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt = make_opt([torch.zeros(1, requires_grad=True)])
        sched = make_sched(opt)
        out = []
        for _ in range(rows):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
    return out
