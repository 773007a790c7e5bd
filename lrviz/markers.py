"""Rows a reader must see on a plot: restarts, milestones, plateau reductions and the failure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import structure

if TYPE_CHECKING:
    from .build import Plan
    from .trace import Trace

# Marker kinds, in the order a legend lists them.
KINDS = ("restart", "milestone", "reduction", "failure")


def find_events(plan: Plan, trace: Trace) -> dict[str, list[int]]:
    """Marker kind -> sorted row indices, for the kinds this run has (rows of docs/spec.md).

    Read off the schedule's structure (lrviz.structure): where each node is active and its
    step count there, so nested composites and scheduler lists are marked like a lone one.
    """
    tree = structure.nodes(plan, trace.rows)
    found: dict[str, set[int]] = {kind: set() for kind in KINDS}
    for node in tree:
        if node.name == "SequentialLR":
            found["milestone"].update(structure.switch_rows(node))
        elif node.name == "CosineAnnealingWarmRestarts":
            found["restart"].update(structure.restart_rows(trace.lr, node.active))
        elif node.name == "ReduceLROnPlateau":
            drops = structure.drop_rows(trace.lr)
            found["reduction"].update(k for k in drops if node.active[k])
    if trace.error is not None:
        found["failure"].add(trace.error.step)
    return {
        kind: sorted(r for r in found[kind] if 0 <= r <= trace.rows)
        for kind in KINDS
        if found[kind]
    }
