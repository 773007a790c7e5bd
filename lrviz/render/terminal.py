"""Traces -> a terminal plot (uniplot) as a string: for SSH sessions and CI logs."""

from __future__ import annotations

from collections.abc import Sequence

from ..trace import Trace
from .plot import extrema_indices, row_x

MAX_LISTED = 8  # events listed under the plot per kind; the rest are counted


def render(
    traces: Sequence[Trace],
    *,
    x: str = "epoch",
    log: bool = False,
    momentum: bool = False,
    width: int = 72,
    height: int = 15,
    color: bool = False,
    title: str | None = None,
) -> str:
    """The lr plot (and the momentum plot) of every param group, events listed below."""
    names = ", ".join(dict.fromkeys(t.name for t in traces))
    unit = "epoch" if x == "epoch" else "step"
    out = [
        _panel(traces, "lr", x, log, width, height, color, title or f"{names}: learning rate"),
    ]
    if momentum:
        if any(t.has_momentum for t in traces):
            out.append(
                _panel(
                    traces, "momentum", x, False, width, max(5, height // 2), color, "momentum / β₁"
                )
            )
        else:
            out.append("(no momentum: the optimizer has neither momentum nor betas)")
    out.append(f"x: {unit}" + ("" if not log else " · y: log scale"))
    out.extend(_event_lines(traces, x))
    return "\n".join(out) + "\n"


def _panel(
    traces: Sequence[Trace],
    column: str,
    x: str,
    log: bool,
    width: int,
    height: int,
    color: bool,
    title: str,
) -> str:
    import numpy as np
    import uniplot

    xs, ys, labels = [], [], []
    for trace in traces:
        values = trace.lr if column == "lr" else trace.momentum
        for g, group in enumerate(trace.groups):
            if column == "momentum" and trace.momentum_kind[g] is None:
                continue
            idx = extrema_indices(values[:, g], width * 2)  # braille: 2 dots per character
            px, py = row_x(trace, idx, x), values[idx, g]
            keep = np.isfinite(py) & ((py > 0) if log else True)
            if not keep.any():
                continue
            px, py = px[keep], py[keep]
            # Steps, as on the matplotlib plot: a row's lr holds until the next row.
            xs.append(np.repeat(px, 2)[1:] if len(px) > 1 else px)
            ys.append(np.repeat(py, 2)[:-1] if len(py) > 1 else py)
            labels.append(f"{trace.name} · {group}")
    if not ys:
        return f"{title}\n(nothing to plot: no finite{' positive' if log else ''} values)"
    gridlines = sorted(
        {
            float(v)
            for t in traces
            for kind, rows in t.events.items()
            for v in row_x(t, np.asarray(rows), x)
        }
    )
    bounds = {}
    lo, hi = min(float(y.min()) for y in ys), max(float(y.max()) for y in ys)
    if lo == hi and not log:  # a flat line: uniplot would pad by ±1, which hides the value
        pad = abs(lo) * 0.1 or 0.1
        bounds = {"y_min": lo - pad, "y_max": hi + pad}
    # Without colour, several series are told apart only by ASCII symbols (+ x o ...).
    charset = "ascii" if len(ys) > 1 and not color else "braille"
    return uniplot.plot_to_string(
        ys,
        xs,
        lines=True,
        legend_labels=labels,
        title=title,
        width=width,
        height=height,
        color=color,
        character_set=charset,
        x_gridlines=gridlines,
        y_as_log=log,
        **bounds,
    )


def _event_lines(traces: Sequence[Trace], x: str) -> list[str]:
    import numpy as np

    lines = []
    for trace in traces:
        who = f"{trace.name}: " if len(traces) > 1 else ""
        for kind, rows in trace.events.items():
            xs = row_x(trace, np.asarray(rows[:MAX_LISTED]), x)
            where = ", ".join(f"{v:g}" for v in xs.tolist())
            more = f" and {len(rows) - MAX_LISTED:,} more" if len(rows) > MAX_LISTED else ""
            label = "error" if kind == "failure" else kind
            lines.append(f"{who}{label} at {x} {where}{more} (row {_rows(rows)})")
    return lines


def _rows(rows: list[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:MAX_LISTED])
    return shown + (", …" if len(rows) > MAX_LISTED else "")
