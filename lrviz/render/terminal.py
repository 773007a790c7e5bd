"""Traces -> a terminal plot (uniplot) as a string: for SSH sessions and CI logs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..trace import Trace
from .plot import extrema_indices, label, non_finite_rows, row_x

if TYPE_CHECKING:
    import numpy as np

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

    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    labels: list[str] = []
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
            # Steps, as on the matplotlib plot: a row's lr holds until the next row, the
            # last one included.
            px = np.append(px, row_x(trace, np.asarray([trace.rows]), x))
            py = np.append(py, py[-1])
            px, py = np.repeat(px, 2)[1:], np.repeat(py, 2)[:-1]
            same = next(
                (i for i, (a, b) in enumerate(zip(xs, ys, strict=True)) if _same(a, b, px, py)),
                None,
            )
            if same is not None:  # an identical curve would hide under the other: one line
                labels[same] += f" = {group if len(traces) == 1 else label(trace, g)}"
                continue
            xs.append(px)
            ys.append(py)
            labels.append(label(trace, g))
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
    lo, hi = min(float(y.min()) for y in ys), max(float(y.max()) for y in ys)
    if lo == hi:  # a flat line: uniplot would pad by ±1, which hides the value
        pad = abs(lo) * 0.1 or 0.1
        lo, hi = (lo / 2, hi * 2) if log else (lo - pad, hi + pad)
    # Without colour, several series are told apart only by ASCII symbols (+ x o ...).
    charset = "ascii" if len(ys) > 1 and not color else "braille"
    plot = uniplot.plot_to_string(
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
        y_min=lo,
        y_max=hi,
        y_labels=False,  # uniplot's own labels round 1e-3 to 0.0 and print -0.0
    )
    return _with_y_labels(plot, y_labels(lo, hi, height, log))


def _same(xs: np.ndarray, ys: np.ndarray, xs2: np.ndarray, ys2: np.ndarray) -> bool:
    import numpy as np

    return xs.shape == xs2.shape and bool(np.array_equal(xs, xs2) and np.array_equal(ys, ys2))


def y_labels(lo: float, hi: float, height: int, log: bool = False) -> dict[int, str]:
    """Row (0 = top) -> label: round values, each written with the digits it needs.

    A label sits on the row its value is drawn in, as uniplot bins values: row
    int((v - lo) / (hi - lo) * height) counted from the bottom.
    """
    if log:
        a, b = math.log10(lo), math.log10(hi)
        ticks = [10.0**k for k in range(math.ceil(a - 1e-9), math.floor(b + 1e-9) + 1)]
        if len(ticks) < 2:
            ticks = [lo, hi]
        where = [math.log10(t) for t in ticks]
    else:
        a, b = lo, hi
        ticks = _nice_ticks(lo, hi, max(2, height // 3))
        where = ticks
    rows: dict[int, str] = {}
    texts = _texts(ticks)
    for value, text in zip(where, texts, strict=True):
        row = min(height - 1, max(0, int((value - a) / (b - a) * height)))
        rows.setdefault(height - 1 - row, text)
    return rows


def _nice_ticks(lo: float, hi: float, intervals: int) -> list[float]:
    """Multiples of a 1-2-2.5-5 step inside [lo, hi], about `intervals` apart."""
    raw = (hi - lo) / intervals
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-9))
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    return [k * step if k else 0.0 for k in range(first, last + 1)]


def _texts(values: list[float]) -> list[str]:
    """The shortest %g texts that tell the values apart and read back as them; never -0."""
    for digits in range(1, 16):
        texts = [f"{v:.{digits}g}" for v in values]
        exact = all(
            math.isclose(float(t), v, rel_tol=1e-9, abs_tol=1e-300)
            for t, v in zip(texts, values, strict=True)
        )
        if exact and len(set(texts)) == len(texts):
            break
    return ["0" if float(t) == 0 else t for t in texts]


def _with_y_labels(plot: str, labels: dict[int, str]) -> str:
    """uniplot's plot with lrviz's labels to the right of the frame's rows."""
    lines = plot.split("\n")
    top = next(i for i, line in enumerate(lines) if line.startswith(("┌", "╭")))
    for row, text in labels.items():
        lines[top + 1 + row] += f" {text}"
    return "\n".join(lines)


def _event_lines(traces: Sequence[Trace], x: str) -> list[str]:
    import numpy as np

    lines = []
    for trace in traces:
        who = f"{trace.name}: " if len(traces) > 1 else ""
        events = dict(trace.events)
        bad = non_finite_rows(trace).tolist()
        if bad:  # nothing is drawn at those rows: say where they are
            events["lr NaN or infinite"] = bad
        for kind, rows in events.items():
            xs = row_x(trace, np.asarray(rows[:MAX_LISTED]), x)
            where = ", ".join(f"{v:g}" for v in xs.tolist())
            more = f" and {len(rows) - MAX_LISTED:,} more" if len(rows) > MAX_LISTED else ""
            name = "error" if kind == "failure" else kind
            lines.append(f"{who}{name} at {x} {where}{more} (row {_rows(rows)})")
    return lines


def _rows(rows: list[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:MAX_LISTED])
    return shown + (", …" if len(rows) > MAX_LISTED else "")
