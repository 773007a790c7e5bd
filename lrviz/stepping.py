"""When the training loop calls scheduler.step() (the loop of docs/spec.md), written once; no torch.

Every consumer of the loop — the simulation, resume, diff, the lint rules' step counts and
the generated code — asks this module which row a step follows, with which argument, and how
many steps a scheduler has taken before a row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Cadence:
    """How the loop steps one scheduler: per batch, per epoch or fractionally, every F-th time.

    `frequency` counts like Lightning's `frequency`: a per-batch scheduler steps after batches
    F, 2F, ... of every epoch (the batch index restarts each epoch), a per-epoch one after
    epochs F, 2F, ...
    """

    mode: str  # "batch", "epoch" or "fractional"
    frequency: int = 1
    metric: bool = False  # ReduceLROnPlateau: step(metrics[n]) with n counting its steps

    def after(self, k: int, iters: int) -> bool:
        """Whether the loop steps this scheduler after row k (order: optimizer_first)."""
        if self.mode == "epoch":
            return (k + 1) % iters == 0 and (k // iters + 1) % self.frequency == 0
        return (k % iters + 1) % self.frequency == 0

    def before(self, k: int, iters: int) -> bool:
        """Whether the loop steps it at the top of row k (order: scheduler_first)."""
        return k % iters == 0 if self.mode == "epoch" else True

    def done_before(self, k: Any, iters: int, scheduler_first: bool = False) -> Any:
        """How many steps it has taken when row k's lr is read (k: a row, or an int array)."""
        epoch, i = divmod(k, iters)
        if scheduler_first:
            return epoch + 1 if self.mode == "epoch" else k + 1
        if self.mode == "epoch":
            return epoch // self.frequency
        return epoch * (iters // self.frequency) + i // self.frequency

    def total(self, rows: int, iters: int, scheduler_first: bool = False) -> int:
        """How many steps the loop makes in a run of `rows` rows (after the last row too)."""
        return self.done_before(rows, iters, scheduler_first) if rows else 0

    def counts(self, rows: int, iters: int, scheduler_first: bool = False) -> np.ndarray:
        """done_before for every row, as a float array (fractional: the epoch argument)."""
        import numpy as np

        k = np.arange(rows, dtype=np.int64)
        if self.mode == "fractional":
            if scheduler_first:
                return fractional_epoch(k, iters)
            # The row at x uses the lr set by step(x - 1/iters); row 0 the constructor's.
            return np.where(k == 0, 0.0, fractional_epoch(np.maximum(k - 1, 0), iters))
        return np.asarray(self.done_before(k, iters, scheduler_first), dtype=np.float64)


def fractional_epoch(k: Any, iters: int) -> Any:
    """The `epoch` argument of `scheduler.step(epoch + i / iters)` for row k (or an array)."""
    return k // iters + (k % iters) / iters


def step_calls(
    schedulers: Sequence[Any],
    cadences: Sequence[Cadence],
    iters: int,
    metrics: Sequence[float] | None,
    scheduler_first: bool,
) -> tuple[Callable[[int], None], Callable[[int], None]]:
    """(before(k), after(k)): the scheduler.step() calls the loop makes around row k.

    Stateless in k, so a loop may start at any row (resume) and give the same calls.
    """

    def call(sched: Any, cadence: Cadence, k: int, done: int) -> None:
        if cadence.metric:
            assert metrics is not None
            sched.step(metrics[done])
        elif cadence.mode == "fractional":
            sched.step(fractional_epoch(k, iters))
        else:
            sched.step()

    def nothing(k: int) -> None:
        return None

    pairs = list(zip(schedulers, cadences, strict=True))
    if len(pairs) == 1:
        sched, cadence = pairs[0]
        step = sched.step
        plain = cadence.mode == "batch" and cadence.frequency == 1 and not cadence.metric
        if plain:  # the common per-batch case: no arithmetic in the hot loop
            every: Callable[[int], None] = lambda k: step()  # noqa: E731
            return (every, nothing) if scheduler_first else (nothing, every)

    def before(k: int) -> None:
        for sched, cadence in pairs:
            if cadence.before(k, iters):
                call(sched, cadence, k, cadence.done_before(k, iters, True) - 1)

    # After the epoch's last batch: the per-batch members first, then the per-epoch ones (SPEC
    # section 2; Lightning's and mmengine's hooks step them in that order whatever the list's).
    in_order = [p for p in pairs if p[1].mode != "epoch"] + [
        p for p in pairs if p[1].mode == "epoch"
    ]

    def after(k: int) -> None:
        for sched, cadence in in_order:
            if cadence.after(k, iters):
                call(sched, cadence, k, cadence.done_before(k, iters))

    return (before, nothing) if scheduler_first else (nothing, after)
