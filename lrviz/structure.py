"""The schedule's structure: which scheduler node drives each row, and its step count there.

A node's "count" at a row is the number of scheduler steps that node has taken when the
optimizer reads the lr of that row (its last_epoch; the epoch value passed in fractional mode).
This is loop bookkeeping (the loop of docs/spec.md, lrviz.stepping, and SequentialLR's documented
hand-over at its milestones), not scheduler math: every lr anyone reports comes from the trace
or from torch. Plot markers and the lint rules both read it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import catalog
from .catalog import ClassInfo
from .spec import SchedulerSpec

if TYPE_CHECKING:
    import numpy as np

    from .build import Plan

# A rise or drop smaller than this (relative) is float noise, not an event.
REL_TOL = 1e-9


@dataclass
class Node:
    """One scheduler of the spec (the root or an inline child) and the rows it drives."""

    spec: SchedulerSpec
    info: ClassInfo
    parent: Node | None
    index: int  # position among the parent's children (0 for the root)
    offset: float  # root count at which this node's own count is 0
    active: np.ndarray  # bool per row: this node decides the lr of the row
    count: np.ndarray  # float per row: this node's step count (meaningful where active)

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def name(self) -> str:
        return self.info.name

    def arg(self, name: str) -> Any:
        """A constructor argument as written, else torch's default (plus lrviz's fills)."""
        if name in self.spec.kwargs:
            return self.spec.kwargs[name]
        param = self.info.param(name)
        return None if param is None else param.default

    def written(self, name: str) -> bool:
        return name in self.spec.kwargs

    def rows(self) -> np.ndarray:
        """Indices of the rows this node is active on."""
        import numpy as np

        return np.flatnonzero(self.active)

    def max_count(self) -> float | None:
        """The largest count this node reaches on a row of the run (None if never active)."""
        counts = self.count[self.active]
        return float(counts.max()) if counts.size else None


def nodes(plan: Plan, rows: int) -> list[Node]:
    """Every torch scheduler node of the plan (list members, composites' children), in order."""
    out: list[Node] = []
    first = plan.order == "scheduler_first"
    for member, cadence in zip(plan.spec.scheduler.members, plan.member_cadences, strict=True):
        count = cadence.counts(rows, plan.iters_per_epoch, first)
        _add_node(out, member, None, 0, 0.0, _all(rows), count)
    return out


def restart_rows(lr: np.ndarray, active: np.ndarray) -> list[int]:
    """Rows where the lr (any group) jumps up while the node stays active: a warm restart."""
    import numpy as np

    if lr.shape[0] < 2:
        return []
    cur, prev = lr[1:], lr[:-1]
    with np.errstate(invalid="ignore", over="ignore"):  # inf/NaN lrs compare False
        up = np.any(cur > prev + np.abs(prev) * REL_TOL, axis=1)
    up &= active[1:] & active[:-1]  # a phase's first row belongs to its milestone
    return (np.flatnonzero(up) + 1).tolist()


def drop_rows(lr: np.ndarray) -> list[int]:
    """Rows whose lr (any group) is below the previous row's."""
    import numpy as np

    if lr.shape[0] < 2:
        return []
    cur, prev = lr[1:], lr[:-1]
    with np.errstate(invalid="ignore", over="ignore"):  # inf/NaN lrs compare False
        down = np.any(cur < prev - np.abs(prev) * REL_TOL, axis=1)
    return (np.flatnonzero(down) + 1).tolist()


def switch_rows(node: Node) -> list[int]:
    """The rows where a SequentialLR node hands over to another child (its first row there).

    torch looks the child up with bisect_right over the milestones as given and resets it
    (child.step(0)) only when the previous milestone equals last_epoch, so an unsorted list
    skips phases here as it does in torch; a milestone of 0 never switches.
    """
    import numpy as np

    milestones = [int(m) for m in node.spec.kwargs.get("milestones") or [] if _whole(m)]
    out = set()
    for m in sorted(set(milestones)):
        if m < 1:
            continue  # step() raises last_epoch to 1 before it looks: 0 never switches
        idx = bisect.bisect_right(milestones, m)
        if idx > 0 and milestones[idx - 1] == m:
            hits = np.flatnonzero(node.active & (node.count >= m - 1e-9))
            if hits.size:
                out.add(int(hits[0]))
    return sorted(out)


def _whole(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == int(value)


def _all(rows: int) -> np.ndarray:
    import numpy as np

    return np.ones(rows, dtype=bool)


def _add_node(
    out: list[Node],
    spec: SchedulerSpec,
    parent: Node | None,
    index: int,
    offset: float,
    active: np.ndarray,
    count: np.ndarray,
) -> None:
    import numpy as np

    try:
        info = catalog.find("scheduler", spec.type, catalog.schedulers())
    except KeyError:
        return  # not a torch class (a transformers schedule): rules look at torch classes only
    node = Node(spec, info, parent, index, offset, active, count)
    out.append(node)
    if not spec.children:
        return
    if info.name == "SequentialLR":
        milestones = [float(m) for m in spec.kwargs.get("milestones") or []]
        # SequentialLR picks the child with bisect_right(milestones, last_epoch) and hands
        # over with child._update_lr(0) at a milestone, so a child counts from its milestone.
        if milestones == sorted(milestones):
            which = np.searchsorted(np.array(milestones), count, side="right")
        else:
            which = np.array([bisect.bisect_right(milestones, c) for c in count.tolist()])
        for i, child in enumerate(spec.children):
            start = milestones[i - 1] if 0 < i <= len(milestones) else 0.0
            _add_node(out, child, node, i, offset + start, active & (which == i), count - start)
    else:  # ChainedScheduler: every child steps on every step
        for i, child in enumerate(spec.children):
            _add_node(out, child, node, i, offset, active, count)
