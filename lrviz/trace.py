"""The rows of a run: lr and momentum per param group, plus what torch said along the way."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class WarningRecord:
    """A torch warning: the first row it happened at and how many times it happened."""

    step: int
    count: int
    category: str
    message: str


@dataclass(frozen=True)
class Failure:
    """torch raised while producing row `step`; rows before it are valid."""

    step: int
    message: str


@dataclass
class Trace:
    """Every row of a simulated run (the loop of docs/spec.md), column-wise in numpy arrays.

    >>> import lrviz
    >>> trace = lrviz.run("cawr_fractional_lag")  # torch's documented fractional loop
    >>> trace.lr[:3, 0].tolist()  # rows 0 and 1 are equal: the loop lags one batch
    [1.0, 1.0, 0.9619397662556434]
    >>> trace.row(9)["x"], trace.row(9)["lr"]  # the restart lands at x = 2.25, not 2.0
    (2.25, [1.0])
    """

    name: str
    scheduler: str  # root scheduler class name
    step_mode: str
    order: str
    epochs: int
    iters_per_epoch: int
    groups: list[str]
    lr: np.ndarray  # shape (rows, groups), float64
    momentum: np.ndarray  # shape (rows, groups), float64, NaN where a group has none
    momentum_kind: list[str | None]  # per group: "momentum", "betas" or None
    torch_version: str
    description: str = ""
    warnings: list[WarningRecord] = field(default_factory=list)
    error: Failure | None = None
    notes: list[str] = field(default_factory=list)
    offset: int = 0  # global index of row 0 (a chunk of a streamed run starts later)
    # The Plan that produced the rows: plot markers read its structure when a plot asks.
    plan: Any = field(default=None, repr=False, compare=False)
    _events: dict[str, list[int]] | None = field(default=None, repr=False, compare=False)

    @property
    def events(self) -> dict[str, list[int]]:
        """Marker kind -> row indices (restarts, milestones, reductions, failure), on first use."""
        if self._events is None:
            from .markers import find_events

            if self.plan is not None:
                self._events = find_events(self.plan, self)
            else:  # a Trace built by hand: only the failure is known
                self._events = {"failure": [self.error.step]} if self.error else {}
        return self._events

    @events.setter
    def events(self, value: dict[str, list[int]]) -> None:
        self._events = value

    @property
    def rows(self) -> int:
        return int(self.lr.shape[0])

    @property
    def has_momentum(self) -> bool:
        return any(k is not None for k in self.momentum_kind)

    @property
    def per_batch(self) -> bool:
        """Whether rows are batches (several per epoch), with iter and x columns."""
        return self.step_mode != "epoch" or self.iters_per_epoch > 1

    def positions(self, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, ...]:
        """(step, epoch, iter, x) for rows [start, stop); x = e + i / iters, as in the loop."""
        import numpy as np

        stop = self.rows if stop is None else min(stop, self.rows)
        steps = np.arange(start + self.offset, stop + self.offset, dtype=np.int64)
        if not self.per_batch:
            return steps, steps, np.zeros_like(steps), steps.astype(np.float64)
        epoch, it = np.divmod(steps, self.iters_per_epoch)
        return steps, epoch, it, epoch + it / self.iters_per_epoch

    def bad_lr_rows(self) -> np.ndarray:
        """Rows where some group's lr is NaN, infinite or negative (gradient ascent)."""
        import numpy as np

        return np.flatnonzero(np.any(~np.isfinite(self.lr) | (self.lr < 0), axis=1))

    def x(self) -> np.ndarray:
        """The fractional epoch of every row."""
        return self.positions()[3]

    def row(self, k: int) -> dict[str, Any]:
        """One row as docs/cli.md writes it (floats as Python floats, None for no momentum)."""
        step = k + self.offset
        e = int(step // self.iters_per_epoch) if self.per_batch else step
        i = int(step % self.iters_per_epoch) if self.per_batch else 0
        x = e + i / self.iters_per_epoch if self.per_batch else float(e)
        mom = [
            None if kind is None else float(self.momentum[k, g])
            for g, kind in enumerate(self.momentum_kind)
        ]
        return {
            "step": step,
            "epoch": e,
            "iter": i,
            "x": x,
            "lr": [float(v) for v in self.lr[k]],
            "momentum": mom,
        }

    # --- conveniences for notebooks and scripts (the Python API); renderers load lazily ------

    def table(self, max_rows: int = 40) -> Any:
        """The rows as a rich Table, sampled like `lrviz table` (print it with rich)."""
        from .render.table import render_table

        return render_table(self, max_rows=max_rows)

    def plot(self, *others: Trace, **options: Any) -> Any:
        """A matplotlib Figure of this trace (and others overlaid); options as `lrviz plot`."""
        from .render.plot import figure

        return figure([self, *others], **options)

    def to_csv(self, path: str | Path) -> None:
        """Write every row as CSV (docs/cli.md), atomically."""
        from .atomic import write_atomic
        from .render.text import iter_csv

        write_atomic(Path(path), iter_csv(self))

    def to_json(self, path: str | Path) -> None:
        """Write the JSON document of docs/cli.md, atomically."""
        from .atomic import write_atomic
        from .render.text import iter_json

        write_atomic(Path(path), iter_json(self))

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame (needs pandas, which lrviz does not require)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_pandas() needs pandas: pip install pandas") from None
        step, epoch, it, x = self.positions()
        columns: dict[str, Any] = {"step": step, "epoch": epoch, "iter": it, "x": x}
        for g, name in enumerate(self.groups):
            columns[f"lr_{name}"] = self.lr[:, g]
        for g, name in enumerate(self.groups):
            if self.momentum_kind[g]:
                columns[f"momentum_{name}"] = self.momentum[:, g]
        return pd.DataFrame(columns).set_index("step")

    def _repr_png_(self) -> bytes:
        """Jupyter shows a trace as its plot."""
        from .render.plot import figure, to_bytes

        return to_bytes(figure([self]), "png")

    def __repr__(self) -> str:
        status = f", failed at row {self.error.step}" if self.error else ""
        return (
            f"<Trace {self.name!r}: {self.scheduler}, {self.rows:,} rows, "
            f"step={self.step_mode}, groups={self.groups}{status}>"
        )
