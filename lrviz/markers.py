"""Rows a reader must see on a plot: restarts, milestones, plateau reductions and the failure."""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING, Any

from . import catalog
from .spec import SchedulerSpec

if TYPE_CHECKING:
    import numpy as np

    from .build import Plan
    from .trace import Trace

# Marker kinds, in the order a legend lists them.
KINDS = ("restart", "milestone", "reduction", "failure")

# A rise or drop smaller than this (relative) is float noise, not an event.
REL_TOL = 1e-9


def find_events(plan: Plan, trace: Trace) -> dict[str, list[int]]:
    """Marker kind -> sorted row indices, for the kinds this run has (SPEC section 2 rows)."""
    events: dict[str, list[int]] = {}
    root = plan.spec.scheduler
    # trace.scheduler is the class torch built (a recipe's type name is not).
    phases = _phases(plan, trace.scheduler, trace.rows)
    if trace.scheduler == "SequentialLR":
        milestones = _int_list(root.kwargs.get("milestones"))
        rows = milestone_rows(milestones, plan.order, _counts(plan, trace.rows))
        events["milestone"] = [r for r in rows if 0 <= r < trace.rows]
    restarts: list[int] = []
    for node, start, stop in phases:
        name = trace.scheduler if node is root else _class(node)
        if name == "CosineAnnealingWarmRestarts":
            # A phase's first row belongs to the milestone, not to a restart.
            first = start + 1 if start > 0 else 1
            restarts += _rises(trace.lr, first, stop)
    if restarts:
        events["restart"] = sorted(restarts)
    if trace.scheduler == "ReduceLROnPlateau":
        events["reduction"] = _drops(trace.lr)
    if trace.error is not None:
        events["failure"] = [trace.error.step]
    return {kind: events[kind] for kind in KINDS if events.get(kind)}


def milestone_rows(
    milestones: list[int], order: str, counts: np.ndarray | None = None
) -> list[int]:
    """The rows where a SequentialLR switches to another child (its first row there)."""
    return sorted({row for row, _ in _switches(milestones, order, counts)})


def _switches(
    milestones: list[int], order: str, counts: np.ndarray | None = None
) -> list[tuple[int, int]]:
    """(first row, child index) for each milestone at which torch switches children.

    Milestones count scheduler.step() calls; `counts` is the calls made before each row's lr
    is read (lrviz.stepping); without it, one call per row: with optimizer_first row k is
    read after k calls, with scheduler_first after k + 1. torch looks the child up with
    bisect_right over the list as given, so an unsorted list skips phases here as it does
    in torch.
    """
    import numpy as np

    shift = 1 if order == "scheduler_first" else 0
    out = []
    for m in sorted(set(milestones)):
        if m < 1:
            continue  # step() raises last_epoch to 1 before it looks: 0 never switches
        idx = bisect_right(milestones, m)
        if idx > 0 and milestones[idx - 1] == m:
            row = m - shift if counts is None else int(np.searchsorted(counts, m, side="left"))
            out.append((row, idx))
    return out


def _phases(plan: Plan, root_class: str, n: int) -> list[tuple[SchedulerSpec, int, int]]:
    """(scheduler, first row, stop row) for each stretch of rows one scheduler drives."""
    root = plan.spec.scheduler
    if root_class != "SequentialLR" or not root.children:
        return [(root, 0, n)]
    switches = _switches(_int_list(root.kwargs.get("milestones")), plan.order, _counts(plan, n))
    starts = [(0, 0)] + [(max(0, min(r, n)), i) for r, i in switches]
    phases = []
    for (start, child), (stop, _) in zip(starts, [*starts[1:], (n, -1)], strict=True):
        if child < len(root.children) and stop > start:
            phases.append((root.children[child], start, stop))
    return phases


def _counts(plan: Plan, rows: int) -> np.ndarray:
    """The top scheduler's step count when each row's lr is read."""
    first = plan.order == "scheduler_first"
    return plan.member_cadences[0].counts(rows, plan.iters_per_epoch, first)


def _rises(lr: np.ndarray, start: int, stop: int) -> list[int]:
    """Rows in [start, stop) whose lr (any group) is above the previous row's."""
    import numpy as np

    if stop - start < 1 or start < 1:
        return []
    cur, prev = lr[start:stop], lr[start - 1 : stop - 1]
    with np.errstate(invalid="ignore", over="ignore"):  # inf/NaN lrs compare False
        up = np.any(cur > prev + np.abs(prev) * REL_TOL, axis=1)
    return (np.flatnonzero(up) + start).tolist()


def _drops(lr: np.ndarray) -> list[int]:
    """Rows whose lr (any group) is below the previous row's."""
    import numpy as np

    if lr.shape[0] < 2:
        return []
    cur, prev = lr[1:], lr[:-1]
    with np.errstate(invalid="ignore", over="ignore"):  # inf/NaN lrs compare False
        down = np.any(cur < prev - np.abs(prev) * REL_TOL, axis=1)
    return (np.flatnonzero(down) + 1).tolist()


def _class(node: SchedulerSpec) -> str:
    try:
        return catalog.find("scheduler", node.type, catalog.schedulers()).name
    except KeyError:
        return node.type


def _int_list(value: Any) -> list[int]:
    if not isinstance(value, list):
        return []
    return [int(v) for v in value if isinstance(v, int) and not isinstance(v, bool)]
