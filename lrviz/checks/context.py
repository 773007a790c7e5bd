"""What rules read: the Plan, the Trace, and where each scheduler node is active in the rows.

A node's "count" at a row is the number of scheduler steps that node has taken when the
optimizer reads the lr of that row (its last_epoch; the epoch value passed in fractional mode).
This is loop bookkeeping (SPEC section 2 and SequentialLR's documented hand-over at its
milestones), not scheduler math: every lr a rule reports comes from the trace or from torch.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .. import catalog
from ..build import Plan
from ..catalog import ClassInfo
from ..spec import SchedulerSpec, Spec, alias_key
from ..stepping import Cadence
from ..trace import Trace
from . import registry
from .model import Finding

if TYPE_CHECKING:
    import numpy as np


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


@dataclass
class Ctx:
    """Everything one spec's rules read, plus a helper to make located findings."""

    plan: Plan
    trace: Trace
    root_count: np.ndarray
    nodes: list[Node] = field(default_factory=list)

    @property
    def spec(self) -> Spec:
        return self.plan.spec

    @property
    def root(self) -> Node | None:
        """The top scheduler, when it is a torch class."""
        return self.nodes[0] if self.nodes and self.nodes[0].parent is None else None

    @property
    def step_unit(self) -> str:
        return "epoch" if self.plan.step_mode in ("epoch", "fractional") else "batch"

    def finding(self, rule_id: str, key: str | None, message: str) -> Finding:
        """A finding of a rule, located at the YAML line of `key` (or its nearest ancestor)."""
        _, line = self.spec.where(key)
        # A converted config (LightningCLI, hf, ...) names the user's own key, not lrviz's.
        shown = alias_key(self.spec.aliases, key)
        return Finding(rule_id, registry.RULES[rule_id].severity, line, shown, message)

    def where_row(self, k: int) -> str:
        """How a row reads in a message: 'row 30 (epoch 30)' or 'row 250 (epoch 2.5)'."""
        if not self.trace.per_batch:
            return f"row {k:,} (epoch {k:,})"
        e, i = divmod(k, self.trace.iters_per_epoch)
        return f"row {k:,} (epoch {e:,}, iter {i:,})"

    def row_at_count(self, node: Node, count: float) -> int | None:
        """The first row on which `node` is active with a count of at least `count`."""
        import numpy as np

        hits = np.flatnonzero(node.active & (node.count >= count - 1e-9))
        return int(hits[0]) if hits.size else None

    def replan(self, epochs: int) -> Plan:
        """The same plan with another run length (for rules that ask torch about a longer run)."""
        return replace(self.plan, epochs=epochs, rows=epochs * self.plan.iters_per_epoch)


def make_ctx(plan: Plan, trace: Trace) -> Ctx:
    """Map every scheduler node to the rows it drives and its step count on each."""
    counts = [counts_for(plan, trace.rows, c) for c in plan.member_cadences]
    ctx = Ctx(plan, trace, counts[0])
    for member, count in zip(plan.spec.scheduler.members, counts, strict=True):
        _add_node(ctx, member, None, 0, 0.0, _all(trace.rows), count)
    return ctx


def counts_for(plan: Plan, rows: int, cadence: Cadence | None = None) -> np.ndarray:
    """A top scheduler's step count at each row, for the loop of SPEC section 2."""
    cadence = cadence or plan.member_cadences[0]
    return cadence.counts(rows, plan.iters_per_epoch, plan.order == "scheduler_first")


def _all(rows: int) -> np.ndarray:
    import numpy as np

    return np.ones(rows, dtype=bool)


def _add_node(
    ctx: Ctx,
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
    ctx.nodes.append(node)
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
            _add_node(ctx, child, node, i, offset + start, active & (which == i), count - start)
    else:  # ChainedScheduler: every child steps on every step
        for i, child in enumerate(spec.children):
            _add_node(ctx, child, node, i, offset, active, count)
