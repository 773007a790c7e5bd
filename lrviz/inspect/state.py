"""`lrviz state`: the scheduler's state_dict() after K steps, as a tree (children included)."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import RunError, UsageError
from ..reports import FUNCTION_KEYS, StateNode, StateReport
from ..spec import SchedulerSpec

if TYPE_CHECKING:
    from ..build import Built, Plan
    from ..trace import Trace

T = TypeVar("T")


def steps_before_row(plan: Plan, k: int) -> int:
    """The checkpoint K that row k's hook sees: K steps done, the loop resumes at row K.

    With one scheduler.step() per row (the loop of docs/spec.md) K counts those calls; when the
    scheduler steps once per epoch of several rows, or a list steps several schedulers,
    K counts rows (optimizer steps), as a checkpoint saved mid-epoch does.
    """
    return k if plan.order == "optimizer_first" else k + 1


def one_step_per_row(plan: Plan) -> bool:
    """Whether every row is followed (or preceded) by exactly one scheduler.step() call."""
    return not plan.cadences and (plan.step_mode != "epoch" or plan.iters_per_epoch == 1)


def check_at(plan: Plan, at: int, *, last: int, why: str) -> None:
    """Refuse a checkpoint step outside 0..last, naming the range and what K counts."""
    if not 0 <= at <= last:
        counts = "scheduler.step() calls" if one_step_per_row(plan) else "optimizer steps (rows)"
        raise UsageError(
            f"--at {at} is out of range for {plan.spec.name}: K must be 0..{last} "
            f"(K counts {counts} and the run has {plan.rows:,} rows; {why})"
        )


def capture(
    plan: Plan, at: Iterable[int] | None, take: Callable[[Built], T]
) -> tuple[Trace, dict[int, T]]:
    """Run a plan; call take(built) on the state after K scheduler steps for each K in `at`.

    `at` None means every K from 0 to the run's rows. The state after K steps is the state
    just before row K (a checkpoint saved there resumes at row K): in optimizer_first order
    that is the hook after row K is recorded, in scheduler_first order the hook of row K-1.
    """
    from ..build import build
    from ..simulation import run

    wanted = None if at is None else set(at)
    got: dict[int, T] = {}
    live: list[Built] = []
    failed: list[tuple[int, BaseException]] = []

    def want(steps: int) -> bool:
        return wanted is None or steps in wanted

    def keep(steps: int, built: Built) -> None:
        # Never raise into the run: simulate would take it for torch failing at the next row.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                got[steps] = take(built)
            except Exception as exc:
                failed.append((steps, exc))

    def on_row(built: Built, k: int) -> None:
        if not live:
            live.append(built)
        steps = steps_before_row(plan, k)  # the hook of row k sees the state after these steps
        if want(steps):
            keep(steps, built)

    if plan.order == "scheduler_first" and want(0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fresh = build(plan)  # the state before the first step: a fresh scheduler
            except ArithmeticError:  # an expression failing at its first value; run() says so
                fresh = None
        if fresh is not None:
            keep(0, fresh)
    trace = run(plan, on_row=on_row)
    if plan.order == "optimizer_first" and live and trace.error is None and want(plan.rows):
        keep(plan.rows, live[0])  # after the last row's step: the end of the run
    if failed:
        steps, exc = failed[0]
        text = " ".join(str(exc).split())
        raise RunError(
            steps, f"saving the state after {steps} steps raised {type(exc).__name__}: {text}"
        )
    return trace, got


def state_tree(built: Built, spec_node: SchedulerSpec | None) -> StateNode:
    """A deep copy of the live scheduler's state_dict(), as a tree that mirrors the spec."""
    return _node(built.scheduler, built.scheduler.state_dict(), spec_node, "scheduler")


def _node(sched: Any, state: dict[str, Any], spec: SchedulerSpec | None, key: str) -> StateNode:
    state = dict(state)
    children_states = state.pop("_schedulers", None)
    node = StateNode(type(sched).__name__, spec.key if spec else key, {})
    node.state = copy.deepcopy(state)  # the live dict's lists keep changing as the run goes on
    if spec is not None and spec.type.lower() == node.cls.lower():
        for state_key, param in FUNCTION_KEYS.items():
            if spec.kwargs.get(param) is not None and state_key in node.state:
                node.expressions[state_key] = spec.kwargs[param]
    if children_states is not None:
        live = list(getattr(sched, "_schedulers", []))
        specs = spec.children if spec is not None else []
        for i, child_state in enumerate(children_states):
            child_spec = specs[i] if i < len(specs) else None
            child = live[i] if i < len(live) else None
            node.children.append(_node(child, child_state, child_spec, f"{key}.schedulers[{i}]"))
    return node


def state_at(plan: Plan, at: int) -> StateReport:
    """The run (for its warnings and failure) and the state after `at` scheduler steps."""
    check_at(plan, at, last=plan.rows, why="0 is the freshly built scheduler")
    trace, got = capture(plan, [at], lambda built: state_tree(built, plan.spec.scheduler))
    return StateReport(trace, at, got.get(at), end_of_run=at == plan.rows)
