"""The lint rules: each reads the Plan and the Trace (or asks torch) and yields findings.

No rule computes an lr itself: values in messages come from the trace's rows, or from torch
schedulers run again (a longer run, the plain step() path) where a rule needs a "what if".
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from numbers import Real
from typing import Any

from .. import catalog
from ..structure import Node, restart_rows
from .context import Ctx, make_ctx
from .model import Finding

RuleFn = Callable[[Ctx], Iterator[Finding]]
CHECKS: list[tuple[str, RuleFn]] = []

# A CAWR run "ends mid-cycle" when its last lr is more than this share of the way from
# eta_min back up to the cycle's peak (and the run does not end on a cycle boundary).
MID_CYCLE_FRACTION = 0.1
# "Nearly zero": below this share of the group's peak lr ...
UNDERFLOW_RATIO = 1e-6
# ... for at least this share of the run (the end of a run may legitimately touch zero).
UNDERFLOW_TAIL = 0.1
# Rules that ask torch about a longer run never simulate more rows than this.
EXTEND_MAX_ROWS = 2_000_000
# Schedulers that set the lr from base_lr/max_lr on every step instead of multiplying it.
OVERWRITERS = ("LambdaLR", "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR")
# Per class: the horizon parameter and what the curve does when it is reached ("|" splits the
# verb's ending off, for "the lr reaches" / "the lr would reach").
HORIZONS = {
    "CosineAnnealingLR": ("T_max", "reach|es its floor"),
    "PolynomialLR": ("total_iters", "reach|es its floor"),
    "LinearLR": ("total_iters", "finish|es its ramp"),
    "ConstantLR": ("total_iters", "finish|es its constant phase"),
    "StepLR": ("step_size", "make|s its first decay"),
    "MultiStepLR": ("milestones", "make|s its last decay"),
    "SequentialLR": ("milestones", "switch|es to its last scheduler"),
    "CosineAnnealingWarmRestarts": ("T_0", "end|s its first cycle"),
}
# Arguments whose negative value makes a negative lr (where an LRV005 finding points).
_SIGNED = ("eta_min", "min_lr", "gamma", "end_factor", "start_factor", "factor", "base_lr")


def check(rule_id: str) -> Callable[[RuleFn], RuleFn]:
    """Register a rule function under its id (ids and texts live in registry.py)."""

    def register(fn: RuleFn) -> RuleFn:
        CHECKS.append((rule_id, fn))
        return fn

    return register


def apply(ctx: Ctx) -> list[Finding]:
    """Every rule's findings for one run."""
    found: list[Finding] = []
    for _, fn in CHECKS:
        found.extend(fn(ctx))
    return found


def build_ctx(plan: Any, trace: Any) -> Ctx:
    """The context rules read (re-exported so callers need not know context.py)."""
    return make_ctx(plan, trace)


# --- helpers -------------------------------------------------------------------------------


def g(value: float) -> str:
    """A number for a message: 6 significant digits."""
    return f"{value:.6g}"


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, Real):
        return None
    return float(value)


def _count_text(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _steps(ctx: Ctx, node: Node) -> str:
    """'99 scheduler steps' (or the last epoch value passed in fractional mode)."""
    top = node.max_count() or 0.0
    if ctx.plan.step_mode == "fractional":
        return f"step(epoch) values up to {top:g}"
    return f"{_count_text(top)} scheduler steps"


def _is(n: int) -> str:
    return "is" if n == 1 else "are"


def _key(node: Node, param: str) -> str:
    return f"{node.key}.{param}" if node.written(param) else node.key


def _horizon_value(node: Node, param: str) -> float | None:
    value = node.arg(param)
    if param == "milestones":
        nums = [_num(v) for v in value] if isinstance(value, list) else []
        return max(n for n in nums if n is not None) if nums and None not in nums else None
    return _num(value)


def _unit_mismatch(ctx: Ctx, node: Node, param: str) -> str | None:
    """'epochs' or 'batches': the unit a written horizon seems to count, if it is the wrong one."""
    plan = ctx.plan
    iters = plan.iters_per_epoch
    value = _horizon_value(node, param)
    if iters < 2 or value is None or not node.written(param) or plan.metrics is not None:
        return None
    end = node.offset + value  # where the horizon ends, in the root's count
    if plan.step_mode == "batch" and end in (plan.epochs - 1, plan.epochs):
        return "epochs"
    if plan.step_mode != "batch" and end in (plan.epochs * iters - 1, plan.epochs * iters):
        return "batches"
    return None


def _base_lr(ctx: Ctx, group: int) -> float | None:
    spec = ctx.spec
    return _num(spec.groups[group].get("lr", spec.optimizer_kwargs.get("lr")))


def _groups_text(ctx: Ctx, values: list[float]) -> str:
    names = ctx.trace.groups
    if len(names) == 1:
        return g(values[0])
    return ", ".join(f"{g(v)} ({n})" for v, n in zip(values, names, strict=True))


# --- the rules -----------------------------------------------------------------------------


@check("LRV002")
def run_failed(ctx: Ctx) -> Iterator[Finding]:
    failure = ctx.trace.error
    if failure is None:
        return
    produced = (
        f"rows 0..{failure.step - 1:,} were produced" if failure.step else "no row was produced"
    )
    yield ctx.finding(
        "LRV002",
        _failure_key(ctx, failure.message),
        f"the run fails at {ctx.where_row(failure.step)}: {failure.message} ({produced})",
    )


def _failure_key(ctx: Ctx, message: str) -> str:
    for node in ctx.nodes:
        for param in ("lr_lambda", "scale_fn"):
            value = node.spec.kwargs.get(param)
            if f'{param} "' not in message or value is None:
                continue
            if isinstance(value, list):
                for i, text in enumerate(value):
                    if isinstance(text, str) and f'"{text}"' in message:
                        return f"{node.key}.{param}[{i}]"
            return f"{node.key}.{param}"
        if node.name == "OneCycleLR" and "total steps" in message:
            return _key(node, "total_steps")
    return ctx.spec.scheduler.key


@check("LRV005")
def lr_invalid(ctx: Ctx) -> Iterator[Finding]:
    import numpy as np

    lr = ctx.trace.lr
    for bad, what, why in (
        (~np.isfinite(lr), "not finite", "a NaN or infinite lr destroys the weights"),
        (lr < 0, "negative", "torch optimizers accept a negative lr and ascend the gradient"),
    ):
        rows = np.flatnonzero(bad.any(axis=1))
        if not rows.size:
            continue
        k = int(rows[0])
        yield ctx.finding(
            "LRV005",
            _suspect_key(ctx),
            f"the lr is {what} from {ctx.where_row(k)} on ({_groups_text(ctx, lr[k].tolist())}; "
            f"{rows.size:,} of {ctx.trace.rows:,} rows): {why}",
        )


def _suspect_key(ctx: Ctx) -> str:
    for node in ctx.nodes:
        for param in _SIGNED:
            value = _num(node.spec.kwargs.get(param))
            if value is not None and value < 0:
                return f"{node.key}.{param}"
    for node in ctx.nodes:
        if "lr_lambda" in node.spec.kwargs:
            return f"{node.key}.lr_lambda"
    return ctx.spec.scheduler.key


@check("LRV003")
def cosine_horizon_short(ctx: Ctx) -> Iterator[Finding]:
    lr = ctx.trace.lr
    for node in ctx.nodes:
        if node.name != "CosineAnnealingLR":
            continue
        t_max, top = _num(node.arg("T_max")), node.max_count()
        if t_max is None or t_max <= 0 or top is None or top <= t_max:
            continue
        if _unit_mismatch(ctx, node, "T_max"):
            continue  # LRV004 says it better: the horizon is in the wrong unit
        turn = ctx.row_at_count(node, t_max)
        last = int(node.rows()[-1])
        if turn is None or not lr[last, 0] > lr[turn, 0]:
            continue  # the trace shows no climb (e.g. a chained factor hides it)
        yield ctx.finding(
            "LRV003",
            f"{node.key}.T_max",
            f"T_max={_count_text(t_max)} is shorter than the run ({_steps(ctx, node)}): "
            f"the lr reaches its minimum {g(lr[turn, 0])} at {ctx.where_row(turn)} and climbs "
            f"back to {g(lr[last, 0])} by row {last:,}; set T_max to at least "
            f"{math.ceil(top):,}",
        )


@check("LRV004")
def horizon_unit(ctx: Ctx) -> Iterator[Finding]:
    plan, lr = ctx.plan, ctx.trace.lr
    iters, rows = plan.iters_per_epoch, ctx.trace.rows
    for node in ctx.nodes:
        param, what = HORIZONS.get(node.name, ("", ""))
        unit = _unit_mismatch(ctx, node, param) if param else None
        value = _horizon_value(node, param) if unit else None
        if unit is None or value is None or not rows:
            continue
        shown = (
            f"{param}={_count_text(value)}"
            if param != "milestones"
            else f"{param} {node.arg(param)}"
        )
        if node.offset:  # a SequentialLR child counts from its milestone
            end = _count_text(node.offset + value)
            shown += f" (from milestone {_count_text(node.offset)}, so ending at step {end})"
        if unit == "epochs":
            row = ctx.row_at_count(node, value)
            if row is None:
                continue
            yield ctx.finding(
                "LRV004",
                f"{node.key}.{param}",
                f"{shown} matches run.epochs ({plan.epochs:,}) but the scheduler steps once per "
                f"batch ({rows:,} rows): the lr {what.replace('|', '')} at {ctx.where_row(row)}, "
                f"{100 * row / rows:.1f}% of the run (lr {g(lr[row, 0])} there); "
                f"multiply by iters_per_epoch ({iters:,}) or use run.step: epoch",
            )
        else:
            steps = (node.max_count() or 0.0) + 1
            verb, rest = what.split("|")[0], what.split(" ", 1)[1]
            yield ctx.finding(
                "LRV004",
                f"{node.key}.{param}",
                f"{shown} matches the batch count ({plan.epochs:,} epochs × {iters:,} iters) "
                f"but the scheduler steps once per epoch (run.step: {plan.step_mode}): the lr "
                f"would {verb} {rest} after {_count_text(value)} steps, "
                f"{100 * value / steps:,.0f}% of the run; divide by iters_per_epoch "
                f"({iters:,}) or use run.step: batch",
            )


@check("LRV006")
def per_batch_per_epoch(ctx: Ctx) -> Iterator[Finding]:
    plan = ctx.plan
    if plan.step_mode == "batch" or plan.iters_per_epoch < 2:
        return
    for node in ctx.nodes:
        if node.name not in catalog.PER_BATCH:
            continue
        counted = "total_steps" if node.name == "OneCycleLR" else "step_size_up"
        key = "run.step" if ctx.spec.where("run.step")[1] else node.key
        yield ctx.finding(
            "LRV006",
            key,
            f"{node.name} is meant to be stepped once per batch, but run.step is "
            f"{plan.step_mode} with {plan.iters_per_epoch:,} batches per epoch: the lr changes "
            f"once per epoch and {counted} counts epochs; use run.step: batch",
        )


@check("LRV007")
def cawr_mid_cycle(ctx: Ctx) -> Iterator[Finding]:
    trace, plan = ctx.trace, ctx.plan
    if trace.error is not None or plan.metrics is not None or not trace.rows:
        return
    for node in ctx.nodes:
        if node.name != "CosineAnnealingWarmRestarts":
            continue
        active = node.rows()
        if not active.size or active[-1] != trace.rows - 1:
            continue  # a later SequentialLR phase ends the run, not this one
        eta_min = _num(node.arg("eta_min")) or 0.0
        lrs = trace.lr[active, 0]
        peak, end = float(lrs.max()), float(lrs[-1])
        if peak <= eta_min or (end - eta_min) / (peak - eta_min) <= MID_CYCLE_FRACTION:
            continue
        # In the documented fractional loop a restart shows one row late (the loop of docs/spec.md).
        lag = int(plan.step_mode == "fractional" and plan.order == "optimizer_first")
        per_epoch = plan.iters_per_epoch  # rows per epoch, whatever the step mode
        later = _longer_run_restarts(ctx, node)
        if trace.rows + lag in later:
            continue  # ends on a boundary; the last row is just a coarse sample of the cycle
        ends = [(r - lag) // per_epoch for r in later if (r - lag) % per_epoch == 0]
        shown = _restarts_in_run(ctx, node)
        below = [e for e in ends if e < plan.epochs]
        above = [e for e in ends if e > plan.epochs]
        options = " or ".join(f"{e:,}" for e in ([below[-1]] if below else []) + above[:1])
        suggestion = (
            f"runs of {options} epochs end on a cycle boundary"
            if options
            else "no run of whole epochs nearby ends on a cycle boundary"
        )
        yield ctx.finding(
            "LRV007",
            "run.epochs",
            f"the run ends mid-cycle: the last row, {ctx.where_row(int(active[-1]))}, uses lr "
            f"{g(end)}, {(end - eta_min) / (peak - eta_min):.0%} of the way from eta_min "
            f"{g(eta_min)} up to {g(peak)}; "
            f"{f'restarts at epochs {shown}' if shown else 'no restart within the run'}; "
            f"{suggestion} (run.epochs is {plan.epochs:,})",
        )


def _restarts_in_run(ctx: Ctx, node: Node) -> str:
    rows = restart_rows(ctx.trace.lr, node.active)
    x = ctx.trace.x()
    return ", ".join(f"{x[r]:g}" for r in rows)


def _longer_run_restarts(ctx: Ctx, node: Node) -> list[int]:
    """Restart rows of the same spec run by torch for a few more cycles than the run has."""
    from ..simulation import run

    plan = ctx.plan
    per_epoch = plan.iters_per_epoch  # rows per epoch, whatever the step mode
    t_mult = _num(node.arg("T_mult")) or 1.0
    epochs = plan.epochs * max(2, int(t_mult) + 1) + 1
    epochs = max(plan.epochs + 1, min(epochs, EXTEND_MAX_ROWS // per_epoch))
    longer = ctx.replan(epochs)
    ext = make_ctx(longer, run(longer))
    twin = next(n for n in ext.nodes if n.key == node.key)
    return restart_rows(ext.trace.lr, twin.active)


@check("LRV008")
def lr_constant(ctx: Ctx) -> Iterator[Finding]:
    import numpy as np

    lr = ctx.trace.lr
    if ctx.trace.rows < 2 or not (lr == lr[0]).all() or not np.isfinite(lr[0]).all():
        return  # (a constant NaN/inf lr is LRV005's)
    key, hint = ctx.spec.scheduler.key, ""
    for node in ctx.nodes:
        top = node.max_count() or 0.0
        if node.name == "StepLR" and (_num(node.arg("step_size")) or 0) > top:
            key = f"{node.key}.step_size"
            hint = f"; step_size={node.arg('step_size')} is beyond the run ({_steps(ctx, node)})"
        elif node.name == "MultiStepLR" and _horizon_value(node, "milestones") is not None:
            first = min(node.arg("milestones"))
            if first > top:
                key = f"{node.key}.milestones"
                hint = f"; the first milestone {first} is beyond the run ({_steps(ctx, node)})"
        elif node.info.metric_driven:
            hint = (
                f"; ReduceLROnPlateau never reduced it (patience={node.arg('patience')}, "
                f"{ctx.trace.rows:,} metrics)"
            )
        if hint:
            break
    yield ctx.finding(
        "LRV008",
        key,
        f"the lr never changes: all {ctx.trace.rows:,} rows use "
        f"{_groups_text(ctx, lr[0].tolist())}{hint}",
    )


@check("LRV009")
def milestones(ctx: Ctx) -> Iterator[Finding]:
    for node in ctx.nodes:
        values = node.arg("milestones")
        if node.name not in ("MultiStepLR", "SequentialLR") or not isinstance(values, list):
            continue
        nums = [_num(v) for v in values]
        if None in nums or not nums:
            continue
        yield from _milestone_findings(ctx, node, [float(v) for v in nums if v is not None])


def _milestone_findings(ctx: Ctx, node: Node, ms: list[float]) -> Iterator[Finding]:
    lr, sequential = ctx.trace.lr, node.name == "SequentialLR"
    top = node.max_count()
    seen: Counter[float] = Counter()
    done: set[int] = set()

    def at(i: int, message: str) -> Finding:
        done.add(i)
        return ctx.finding("LRV009", f"{node.key}.milestones[{i}]", message)

    def child(i: int) -> str:
        kids = node.spec.children
        return f"schedulers[{i}] ({kids[i].type})" if i < len(kids) else f"schedulers[{i}]"

    for i, m in enumerate(ms):
        seen[m] += 1
        shown = _count_text(m)
        if m <= 0:
            if sequential:
                yield at(i, f"milestone {shown}: {child(i)} never runs")
            elif ctx.trace.rows:
                base = _base_lr(ctx, 0)
                yield at(
                    i,
                    f"milestone {shown}: MultiStepLR applies gamma at construction, so row 0 "
                    f"already uses {g(lr[0, 0])}"
                    + (f" instead of the optimizer's {g(base)}" if base is not None else ""),
                )
        elif seen[m] == 2:
            if sequential:
                yield at(i, f"milestone {shown} is listed twice: {child(i)} never runs")
            else:
                row = ctx.row_at_count(node, m)
                change = (
                    f": the lr drops from {g(lr[row - 1, 0])} to {g(lr[row, 0])} at "
                    f"{ctx.where_row(row)}"
                    if row
                    else ""
                )
                times = ms.count(m)
                yield at(i, f"milestone {shown} is listed {times} times, so gamma is applied "
                         f"{times} times at once{change}")  # fmt: skip
        elif top is not None and m > top:
            what = f"{child(i + 1)} never runs" if sequential else "that decay never happens"
            yield at(i, f"milestone {shown} is beyond the run ({_steps(ctx, node)}): {what}")
    unsorted = next((i for i in range(1, len(ms)) if ms[i] < ms[i - 1]), None)
    if unsorted is not None and unsorted not in done:
        if sequential:
            idle = [child(n.index) for n in ctx.nodes if n.parent is node and not n.active.any()]
            effect = (
                f"SequentialLR picks its scheduler with bisect, so {', '.join(idle)} never "
                f"{'runs' if len(idle) == 1 else 'run'}"
                if idle
                else "SequentialLR picks its scheduler with bisect and skips phases"
            )
        else:
            effect = "MultiStepLR copes, but readers (and SequentialLR) expect increasing order"
        yield at(
            unsorted,
            f"milestones [{', '.join(_count_text(m) for m in ms)}] are not in increasing order "
            f"({_count_text(ms[unsorted])} after {_count_text(ms[unsorted - 1])}): {effect}",
        )


@check("LRV010")
def sequential_boundary(ctx: Ctx) -> Iterator[Finding]:
    lr = ctx.trace.lr
    for parent in ctx.nodes:
        ms = parent.arg("milestones")
        if parent.name != "SequentialLR" or not isinstance(ms, list):
            continue
        nums = [n for n in (_num(m) for m in ms) if n is not None]
        if len(nums) != len(ms) or nums != sorted(nums):
            continue  # LRV009 reports unsorted milestones
        kids = [n for n in ctx.nodes if n.parent is parent]
        for i, kid in enumerate(kids[:-1]):
            if i >= len(ms) or kid.info.param("total_iters") is None:
                continue
            total, span = _num(kid.arg("total_iters")), ms[i] - (ms[i - 1] if i else 0)
            rows = kid.rows()
            nxt = kids[i + 1].rows()
            if total is None or total == span or not rows.size or not nxt.size:
                continue
            if (lr[rows, 0] == lr[rows[0], 0]).all() and total < span:
                continue  # this child never changes the lr: a plateau is all it does
            b = int(nxt[0])
            head = (
                f"total_iters={_count_text(total)} but SequentialLR switches to "
                f"schedulers[{i + 1}] ({kids[i + 1].name}) at milestone {ms[i]}, {span} steps "
                f"after {kid.name} starts"
            )
            if total < span:
                t = ctx.row_at_count(kid, total)
                if t is None or t >= b:
                    continue
                tail = (
                    f"the lr plateaus at {g(lr[t, 0])} for rows {t:,}-{b - 1:,} before the switch"
                )
            else:
                tail = (
                    f"{kid.name} is cut short after {span} of its {_count_text(total)} steps "
                    f"and the lr jumps from {g(lr[b - 1, 0])} at row {b - 1:,} to "
                    f"{g(lr[b, 0])} at row {b:,}"
                )
            yield ctx.finding("LRV010", _key(kid, "total_iters"), f"{head}: {tail}")


@check("LRV011")
def chained_overwrite(ctx: Ctx) -> Iterator[Finding]:
    for parent in ctx.nodes:
        if parent.name != "ChainedScheduler" or len(parent.spec.children) < 2:
            continue
        kids = [n for n in ctx.nodes if n.parent is parent]
        for kid in kids:
            if kid.name not in OVERWRITERS:
                continue
            others = ", ".join(f"schedulers[{k.index}] ({k.name})" for k in kids if k is not kid)
            source = "max_lr" if kid.name in ("CyclicLR", "OneCycleLR") else "base_lr"
            yield ctx.finding(
                "LRV011",
                kid.key,
                f"{kid.name} (schedulers[{kid.index}]) sets the lr from {source} on every "
                f"step, so ChainedScheduler discards the factors of {others}",
            )


@check("LRV012")
def cycle_momentum(ctx: Ctx) -> Iterator[Finding]:
    import numpy as np

    spec, trace = ctx.spec, ctx.trace
    opt = catalog.find("optimizer", spec.optimizer_type, catalog.optimizers())
    param = opt.param("momentum")
    if param is None or not trace.rows:
        return
    for node in ctx.nodes:
        if node.name not in catalog.PER_BATCH or node.arg("cycle_momentum") is False:
            continue
        off: list[str] = []
        for gi, group in enumerate(spec.groups):
            configured = group.get("momentum", spec.optimizer_kwargs.get("momentum"))
            if (configured or param.default or 0) != 0 or trace.momentum_kind[gi] != "momentum":
                continue
            if np.nanmax(trace.momentum[:, gi]) > 0:
                how = "momentum 0" if configured is not None else "no momentum (default 0)"
                off.append(f"{trace.groups[gi]}: {how}")
        if not off:
            continue
        col = trace.momentum[:, 0]
        yield ctx.finding(
            "LRV012",
            _key(node, "cycle_momentum"),
            f"cycle_momentum is on, so {node.name} sets {opt.name} momentum to "
            f"{g(np.nanmin(col))}..{g(np.nanmax(col))} during the run although the optimizer "
            f"has {'; '.join(off)}; set cycle_momentum: false or configure momentum",
        )


@check("LRV013")
def plateau_metrics(ctx: Ctx) -> Iterator[Finding]:
    import numpy as np

    plan, root = ctx.plan, ctx.root
    if plan.metrics is None or root is None or not root.info.metric_driven:
        return
    used = np.array(plan.metrics[: plan.rows], dtype=np.float64)

    def key(i: int) -> str:
        return f"run.metrics[{i}]" if f"run.metrics[{i}]" in ctx.spec.lines else "run.metrics"

    nan = np.flatnonzero(np.isnan(used))
    if nan.size:
        i = int(nan[0])
        first = ", and the first metric is NaN, so the lr is cut at once" if i == 0 else ""
        yield ctx.finding(
            "LRV013",
            key(i),
            f"{nan.size:,} of the {used.size:,} metrics {_is(nan.size)} NaN (first at step {i:,}): "
            f"ReduceLROnPlateau counts NaN as a bad epoch{first}",
        )
    neg = np.flatnonzero(used < 0)
    # The trap needs a negative best: any negative value in min mode; in max mode the running
    # maximum is negative only while every metric so far is, i.e. when the first one is.
    best_negative = neg.size and (root.arg("mode") != "max" or used[0] < 0)
    if best_negative and root.arg("threshold_mode") == "rel":
        i = int(neg[0])
        yield ctx.finding(
            "LRV013",
            key(i),
            f"{neg.size:,} of the {used.size:,} metrics {_is(neg.size)} negative "
            f"(first {g(used[i])} at step {i:,}) and threshold_mode is rel: the threshold "
            f"best × (1 ∓ threshold) then lies on the wrong side of best, so a slightly worse "
            f"metric counts as an improvement; use threshold_mode: abs",
        )


@check("LRV014")
def lr_underflow(ctx: Ctx) -> Iterator[Finding]:
    import numpy as np

    trace = ctx.trace
    n = trace.rows
    for gi, name in enumerate(trace.groups):
        col = trace.lr[:, gi]
        finite = col[np.isfinite(col)]
        peak = float(finite.max()) if finite.size else 0.0
        if peak <= 0 or n < 2:
            continue
        tiny = (col >= 0) & (col <= peak * UNDERFLOW_RATIO)
        if not tiny[-1]:
            continue
        above = np.flatnonzero(~tiny)
        start = int(above[-1]) + 1 if above.size else 0
        tail = n - start
        if tail < max(2, UNDERFLOW_TAIL * n):
            continue
        yield ctx.finding(
            "LRV014",
            _key(ctx.root, "gamma") if ctx.root else ctx.spec.scheduler.key,
            f"the lr of {name} falls to {g(col[start])} at {ctx.where_row(start)}, below a "
            f"millionth of its peak {g(peak)}, and stays there for the last {tail:,} rows "
            f"({tail / n:.0%} of the run)",
        )
        return  # one finding per spec: the groups share the schedule


@check("LRV015")
def torch_warnings(ctx: Ctx) -> Iterator[Finding]:
    for w in ctx.trace.warnings:
        if "epoch parameter" in w.message:
            key = "run.step"
        elif "before `optimizer.step()`" in w.message:
            key = "run.order"
        else:
            key = ctx.spec.scheduler.key
        times = f"{w.count:,} times" if w.count > 1 else "once"
        yield ctx.finding(
            "LRV015",
            key,
            f"torch warned {times}, first at {ctx.where_row(w.step)}: {w.category}: {w.message}",
        )


@check("LRV016")
def cawr_restart_skipped(ctx: Ctx) -> Iterator[Finding]:
    from ..build import build

    plan, root, lr = ctx.plan, ctx.root, ctx.trace.lr
    if root is None or root.name != "CosineAnnealingWarmRestarts":
        return
    t_mult = _num(root.arg("T_mult"))
    if (
        plan.step_mode != "fractional"
        or t_mult is None
        or t_mult < 2
        or not ctx.trace.rows
        or plan.epochs > EXTEND_MAX_ROWS
    ):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # The plain step() path is correct: its lr at each epoch shows where restarts are.
        plain = build(plan)
        lrs = []
        for _ in range(plan.epochs):
            lrs.append(plain.optimizer.param_groups[0]["lr"])
            plain.scheduler.step()
        # step(epoch) is stateless for CAWR: replay each restart epoch through it.
        replay = build(plan)
        skipped = []
        for e in range(1, plan.epochs):
            if not lrs[e] > lrs[e - 1]:
                continue
            replay.scheduler.step(float(e))
            got = replay.optimizer.param_groups[0]["lr"]
            row = ctx.row_at_count(root, e)
            # torch's step(epoch) disagrees with step(), and the run's row shows it
            if (
                row is not None
                and not math.isclose(got, lrs[e], rel_tol=1e-9)
                and not math.isclose(float(lr[row, 0]), lrs[e], rel_tol=1e-9)
            ):
                skipped.append((e, row, float(lr[row, 0]), lrs[e]))
    if not skipped:
        return
    e, row, got, want = skipped[0]
    more = f" (also at epochs {', '.join(str(s[0]) for s in skipped[1:])})" if skipped[1:] else ""
    yield ctx.finding(
        "LRV016",
        _key(root, "T_mult"),
        f"step(epoch) skips the restart at epoch {e:,}{more}: math.log rounding puts it at the "
        f"end of the previous cycle, so {ctx.where_row(row)} uses lr {g(got)} instead of "
        f"{g(want)} (T_0={root.arg('T_0')}, T_mult={root.arg('T_mult')}); the plain step() "
        f"path (run.step: batch with T_0 in batches, or epoch) restarts correctly",
    )


@check("LRV019")
def hf_warmup_ratio(ctx: Ctx) -> Iterator[Finding]:
    from ..document import alias_key
    from ..formats import hf

    message = hf.ratio_message(ctx.spec.notes)
    if message is None:
        return
    # The converter locates the warm-up at the file's warmup_ratio line.
    found = ctx.finding("LRV019", "scheduler.num_warmup_steps", message)
    yield replace(found, key=alias_key(ctx.spec.aliases, found.key))
