"""TrainRuns -> per-epoch CSV/JSON text, rich tables, and a one-column-per-measure Figure."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from rich.table import Table

from .table import fmt
from .text import json_head, json_number, number

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..training import TrainRun

MEASURES = ("train_loss", "train_acc", "test_loss", "test_acc")
PANELS = (  # (measure, title); the lr panel comes first
    ("train_loss", "train loss (log)"),
    ("train_acc", "train accuracy"),
    ("test_acc", "test accuracy"),
)
DEFAULT_SIZE = (10.0, 3.0)  # inches: four panels side by side
GROUP_STYLES = ("-", "--", "-.", ":")  # a run's param groups in the lr panel


def group_columns(runs: Sequence[TrainRun]) -> list[str]:
    """Every group name of the runs, in order of first appearance (one lr column each)."""
    return list(dict.fromkeys(g for r in runs for g in r.groups))


def epoch_rows(run: TrainRun, groups: Sequence[str]) -> Iterator[list[float | None]]:
    """Per completed epoch: the lr of each of `groups` (None where the run has no such group),
    then train loss, train accuracy, test loss, test accuracy."""
    lrs = run.epoch_lr()
    for e in range(run.epochs):
        by_group = dict(zip(run.groups, lrs[e], strict=True))
        yield [
            *(by_group.get(g) for g in groups),
            run.train_loss[e],
            run.train_acc[e],
            run.test_loss[e],
            run.test_acc[e],
        ]


def iter_csv(runs: Sequence[TrainRun]) -> Iterator[str]:
    """Every epoch of every run: spec, epoch, lr per group (at the epoch's first step), measures."""
    groups = group_columns(runs)
    yield ",".join(["spec", "epoch", *(f"lr_{g}" for g in groups), *MEASURES]) + "\n"
    for run in runs:
        for e, values in enumerate(epoch_rows(run, groups)):
            cells = ["" if v is None else number(v) for v in values]
            yield ",".join([_csv_text(run.name), str(e), *cells]) + "\n"


def _csv_text(text: str) -> str:
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def iter_json(runs: Sequence[TrainRun], setup: dict[str, Any]) -> Iterator[str]:
    """One JSON document: the shared setup, then per run its header keys and every epoch."""
    yield json.dumps(setup)[:-1] + ', "runs": ['
    for i, run in enumerate(runs):
        head = json_head(run.trace)
        head["parts"] = run.parts
        lrs = run.epoch_lr()
        lines = []
        for e in range(run.epochs):
            lr = ", ".join(json_number(v) for v in lrs[e])
            values = ", ".join(f'"{m}": {json_number(getattr(run, m)[e])}' for m in MEASURES)
            lines.append(f'{{"epoch": {e}, "lr": [{lr}], {values}}}')
        fed = run.fed_metrics
        plateau = "null" if fed is None else "[" + ", ".join(json_number(v) for v in fed) + "]"
        rest = {
            "warnings": [vars(w) for w in run.trace.warnings],
            "error": vars(run.trace.error) if run.trace.error else None,
            "notes": run.trace.notes,
        }
        tail_text = f'"plateau_metrics": {plateau}, ' + json.dumps(rest)[1:]
        yield (
            ("\n  " if i == 0 else ",\n  ")
            + json.dumps(head)[:-1]
            + ', "epochs": [\n    '
            + ",\n    ".join(lines)
            + "\n  ], "
            + tail_text
        )
    yield "\n]}\n"


def render_table(run: TrainRun, *, max_rows: int = 40) -> Table:
    """Every epoch of one run (long runs sampled evenly, first and last kept)."""
    shown = _sample(run.epochs, max_rows)
    caption = None
    if len(shown) < run.epochs:
        caption = f"showing {len(shown)} of {run.epochs} epochs; --format csv prints every one"
    table = Table(title=run.name, caption=caption, title_justify="left", caption_justify="left")
    table.add_column("epoch", justify="right", no_wrap=True, min_width=5)
    for g in run.groups:
        label = "lr" if len(run.groups) == 1 else f"lr {g}"
        table.add_column(label, justify="right", style="cyan", no_wrap=True)
    for title in ("train loss", "train acc", "test loss", "test acc"):
        table.add_column(title, justify="right", no_wrap=True)
    rows = list(epoch_rows(run, run.groups))
    for e in shown:
        values = rows[e]
        lrs = [fmt(float(v)) for v in values[: len(run.groups)] if v is not None]
        loss, acc, test_loss, test_acc = values[len(run.groups) :]
        table.add_row(
            str(e), *lrs, _loss(loss), _percent(acc), _loss(test_loss), _percent(test_acc)
        )
    return table


def summary_table(runs: Sequence[TrainRun]) -> Table:
    """One line per run: the last epoch's measures and the best test accuracy (at which epoch)."""
    from rich import box

    table = Table(title="after the last epoch", title_justify="left", box=box.SIMPLE_HEAD)
    width = max((len(r.name) for r in runs), default=4)
    table.add_column("spec", style="bold", no_wrap=True, min_width=width)
    # two-line headers: six columns beside a long spec name still fit 80 columns
    for title in (
        "train\nloss",
        "train\nacc",
        "test\nloss",
        "test\nacc",
        "best\ntest acc",
        "at\nepoch",
    ):
        table.add_column(title, justify="right", no_wrap=True)
    for run in runs:
        if not run.epochs:
            table.add_row(run.name, "", "", "", "", "", "")
            continue
        best = max(range(run.epochs), key=lambda e: _key(run.test_acc[e]))
        table.add_row(
            run.name,
            _loss(run.train_loss[-1]),
            _percent(run.train_acc[-1]),
            _loss(run.test_loss[-1]),
            _percent(run.test_acc[-1]),
            _percent(run.test_acc[best]),
            str(best),
        )
    return table


def _key(value: float | None) -> float:
    return -math.inf if value is None or math.isnan(value) else value


def _loss(value: float | None) -> str:
    return "" if value is None else f"{float(value):.4g}"


def _percent(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "nan"
    return f"{100 * value:.1f}%"


def _sample(n: int, budget: int) -> list[int]:
    if n <= budget:
        return list(range(n))
    step = (n - 1) / (budget - 1)
    return sorted({round(i * step) for i in range(budget)})


def figure(
    runs: Sequence[TrainRun],
    *,
    size: tuple[float, float] | None = None,
    dpi: float = 150,
    log: bool = False,
    title: str | None = None,
) -> Figure:
    """lr, train loss, train accuracy and test accuracy against epoch: one line per run.

    The lr panel draws every optimizer step (as `lrviz plot` does); the others one point per
    epoch, at the epoch's end (x = e + 1), where it was measured.
    """
    import numpy as np
    from matplotlib.figure import Figure

    from .plot import LINESTYLES, OKABE_ITO, paper_style, row_x

    size = size or DEFAULT_SIZE
    with paper_style():
        fig = Figure(figsize=size, dpi=dpi, layout="constrained")
        axes = fig.subplots(1, 1 + len(PANELS), sharex=True)
        lr_ax = axes[0]
        handles: list[Any] = []  # one legend entry per run: its line in the last panel
        for i, run in enumerate(runs):
            color = OKABE_ITO[i % len(OKABE_ITO)]
            dash = LINESTYLES[(i // len(OKABE_ITO)) % len(LINESTYLES)]
            trace = run.trace
            x = row_x(trace, np.arange(trace.rows))
            for g, group in enumerate(run.groups):
                style = GROUP_STYLES[g % len(GROUP_STYLES)] if len(run.groups) > 1 else dash
                lr_ax.plot(
                    x,
                    trace.lr[:, g],
                    color=color,
                    linestyle=style,
                    drawstyle="steps-post",
                    gid=f"lr:{i}:{g}",
                    label=f"{run.name} · {group}",
                )
            ends = np.arange(1, run.epochs + 1, dtype=np.float64)
            for ax, (measure, _) in zip(axes[1:], PANELS, strict=True):
                lines = ax.plot(
                    ends,
                    getattr(run, measure),
                    color=color,
                    linestyle=dash,
                    gid=f"{measure}:{i}",
                    label=run.name,
                )
            handles.append(lines[0])
        lr_ax.set_title("learning rate")
        if log:
            lr_ax.set_yscale("log", nonpositive="mask")
        for ax, (measure, label) in zip(axes[1:], PANELS, strict=True):
            ax.set_title(label)
            if measure.endswith("acc"):
                ax.yaxis.set_major_formatter(_percent_formatter())
            else:  # losses near zero differ by orders of magnitude: what overfitting looks like
                ax.set_yscale("log", nonpositive="mask")
        right = max((r.trace.epochs for r in runs), default=1)
        for ax in axes:
            ax.set_xlim(0, right * 1.02)  # the last epoch's points sit on x = epochs
            ax.set_xlabel("epoch")
        if any(len(r.groups) > 1 for r in runs):  # which line is which group
            lr_ax.legend(loc="best", fontsize="x-small")
        fig.legend(
            handles=handles,
            loc="outside upper center",
            ncols=min(len(handles), 6),
        )
        if title:
            fig.suptitle(title)
    return fig


def _percent_formatter() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0)
