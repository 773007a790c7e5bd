"""What rules read: the Plan, the Trace, and the schedule's structure (lrviz.structure)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..build import Plan
from ..document import alias_key
from ..spec import Spec
from ..structure import Node, nodes
from ..trace import Trace
from . import registry
from .model import Finding


@dataclass
class Ctx:
    """Everything one spec's rules read, plus a helper to make located findings."""

    plan: Plan
    trace: Trace
    nodes: list[Node] = field(default_factory=list)

    @property
    def spec(self) -> Spec:
        return self.plan.spec

    @property
    def root(self) -> Node | None:
        """The top scheduler, when it is a torch class."""
        return self.nodes[0] if self.nodes and self.nodes[0].parent is None else None

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
    return Ctx(plan, trace, nodes(plan, trace.rows))
