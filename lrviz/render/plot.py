"""Traces -> a matplotlib Figure fit for a paper, and that figure as deterministic file bytes."""

from __future__ import annotations

import contextlib
import functools
import io
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..trace import Trace

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FORMATS = ("png", "svg", "pdf")
X_AXES = ("epoch", "step")
DEFAULT_SIZE = (6.0, 3.6)  # inches: a two-column-wide figure, readable at 9 pt
MOMENTUM_HEIGHT = 1.6  # inches added for the momentum panel when no --size is given
DEFAULT_DPI = 150

# Okabe & Ito (2008), ordered so the first lines are the most distinct; yellow, faint on
# white, comes last. Safe for the common forms of colour blindness and in greyscale print.
OKABE_ITO = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
)
LINESTYLES = ("-", "--", "-.", ":")  # after eight lines the colours repeat with a new dash

# Paper defaults: readable sizes, no top/right spines, the palette, a tight layout.
PAPER_RC: dict[Any, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.linewidth": 0.5,
    "grid.alpha": 0.35,
    "lines.linewidth": 1.4,
    "legend.frameon": True,
    "legend.framealpha": 0.85,
    "legend.edgecolor": "none",
    "figure.constrained_layout.use": True,
}

# Applied last, whatever --style says: files that embed their fonts and never change by
# themselves. pdf/ps fonttype 42 embeds TrueType (editable text; journals reject Type 3).
# SVG text becomes paths: the figure looks the same on machines without DejaVu Sans, and
# a paper's SVG is for viewing, not editing.
FILE_RC: dict[Any, Any] = {
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "path",
    "svg.hashsalt": "lrviz",  # element ids from a fixed salt, not a random one
    "path.simplify": True,
}

# No timestamps or version strings in the files: the same spec gives the same bytes.
METADATA: dict[str, dict[str, Any]] = {
    "png": {"Software": None},
    "svg": {"Date": None},
    "pdf": {"CreationDate": None, "ModDate": None},
}

MARKER_STYLE: dict[str, tuple[Any, float, float]] = {  # kind -> (linestyle, width, alpha)
    "restart": (":", 0.9, 0.55),
    "milestone": ("--", 0.9, 0.55),
    "reduction": ("-.", 0.9, 0.55),
    "failure": ("-", 1.6, 0.9),
}
FAILURE_COLOR = "0.15"
NON_FINITE_COLOR = "#D55E00"  # vermillion: the palette's warning colour
LEGEND_ROWS_FREE = 2  # legend rows a default-sized figure holds without growing
MARKER_LABEL = {
    "restart": "restart",
    "milestone": "SequentialLR milestone",
    "reduction": "plateau reduction",
}
POINTS_PER_BUCKET = 4  # first, last, min, max
SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


@contextlib.contextmanager
def paper_style(style: str | None = None) -> Iterator[None]:
    """Paper defaults, then the user's style, then the file settings; all undone on exit."""
    import matplotlib as mpl
    import matplotlib.style

    user = matplotlib.style.context(style) if style else contextlib.nullcontext()
    with mpl.rc_context(PAPER_RC), user, mpl.rc_context(FILE_RC):
        yield


def bucket_size(n: int, buckets: int) -> int:
    """Rows per bucket when n rows are reduced to at most `buckets` buckets."""
    return max(1, -(-n // max(1, buckets)))


def extrema_indices(y: np.ndarray, buckets: int) -> np.ndarray:
    """Row indices to plot: all rows if few, else each bucket's first, last, min and max.

    Buckets are consecutive runs of bucket_size(n, buckets) rows; rows are evenly spaced
    in x, so a bucket is a slice of pixel columns. Spikes, restarts and floors survive.
    """
    import numpy as np

    n = int(y.shape[0])
    if n <= POINTS_PER_BUCKET * buckets:
        return np.arange(n)
    size = bucket_size(n, buckets)
    nan = np.isnan(y)
    lo_src = np.where(nan, np.inf, y) if nan.any() else y
    hi_src = np.where(nan, -np.inf, y) if nan.any() else y
    full = n // size
    parts = []
    if full:
        starts = np.arange(full) * size
        cut = full * size
        parts += [
            starts,
            starts + size - 1,
            starts + lo_src[:cut].reshape(full, size).argmin(axis=1),
            starts + hi_src[:cut].reshape(full, size).argmax(axis=1),
        ]
        if nan.any():  # keep a NaN visible as a gap
            holes = nan[:cut].reshape(full, size)
            parts.append((starts + holes.argmax(axis=1))[holes.any(axis=1)])
    if full * size < n:
        t0 = full * size
        tail = np.array(
            [t0, n - 1, t0 + lo_src[t0:].argmin(), t0 + hi_src[t0:].argmax()], dtype=np.int64
        )
        parts.append(tail)
        if nan[t0:].any():
            parts.append(np.array([t0 + nan[t0:].argmax()], dtype=np.int64))
    return np.unique(np.concatenate(parts))


def decimate(x: np.ndarray, y: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) reduced to each bucket's first, last, min and max points, in order."""
    idx = extrema_indices(y, buckets)
    return x[idx], y[idx]


def row_x(trace: Trace, rows: np.ndarray, x: str = "epoch") -> np.ndarray:
    """The x of row indices (also past the end, for a failure marker): fractional epoch or step."""
    import numpy as np

    rows = np.asarray(rows, dtype=np.int64)
    if x == "step" or not trace.per_batch:
        return rows.astype(np.float64)
    epoch, it = np.divmod(rows, trace.iters_per_epoch)
    return epoch + it / trace.iters_per_epoch  # the same formula as Trace.positions


def figure(
    traces: Sequence[Trace],
    *,
    x: str = "epoch",
    log: bool = False,
    momentum: bool = False,
    title: str | None = None,
    size: tuple[float, float] | None = None,
    dpi: float = DEFAULT_DPI,
    style: str | None = None,
    fig: Figure | None = None,
) -> Figure:
    """lr (and momentum) of every param group of every trace on shared axes, events marked.

    Pass `fig` to draw into a figure made elsewhere (a pyplot window); otherwise a new
    pyplot-free Figure is made. Save it with to_bytes(fig, fmt, style) for the same style.
    """
    from matplotlib.figure import Figure

    if x not in X_AXES:
        raise ValueError(f"x must be one of {X_AXES}, not {x!r}")
    grow = size is None  # a default-sized figure grows to hold a long legend
    if size is None:
        size = (DEFAULT_SIZE[0], DEFAULT_SIZE[1] + (MOMENTUM_HEIGHT if momentum else 0.0))
    with paper_style(style):
        if fig is None:
            fig = Figure(figsize=size, dpi=dpi, layout="constrained")
        else:
            fig.set_size_inches(*size)
            fig.set_dpi(dpi)
        if momentum:
            lr_ax, mom_ax = fig.subplots(2, 1, sharex=True, height_ratios=[2, 1])
            axes = [lr_ax, mom_ax]
        else:
            lr_ax = fig.subplots()
            mom_ax = None
            axes = [lr_ax]
        buckets = max(100, int(size[0] * dpi))
        _draw_lines(lr_ax, mom_ax, traces, x, buckets)
        handles = _draw_markers(axes, traces, x, buckets)
        handles += _draw_non_finite(lr_ax, traces, x, buckets)
        rows = _finish(lr_ax, mom_ax, traces, x, log, title, handles)
        if grow and rows > LEGEND_ROWS_FREE:
            fig.set_size_inches(size[0], size[1] + (rows - LEGEND_ROWS_FREE) * _legend_row())
    return fig


def label(trace: Trace, group: int) -> str:
    """A line's legend label: the run's name, and the group's when the run has several."""
    if len(trace.groups) == 1:
        return trace.name
    return f"{trace.name} · {trace.groups[group]}"


def scale_ratio(traces: Sequence[Trace]) -> float:
    """How many times the highest lr curve's peak exceeds the lowest one's (1.0 if unknown)."""
    import numpy as np

    peaks = []
    for trace in traces:
        lr = np.where(np.isfinite(trace.lr), trace.lr, np.nan)
        if lr.size and not np.all(np.isnan(lr)):
            peaks += [float(p) for p in np.nanmax(lr, axis=0) if p > 0]
    return max(peaks) / min(peaks) if peaks else 1.0


def to_bytes(fig: Figure, fmt: str, style: str | None = None) -> bytes:
    """The figure as PNG, SVG or PDF bytes: fonts embedded, no dates or random ids."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
    buf = io.BytesIO()
    with paper_style(style):
        fig.savefig(buf, format=fmt, metadata=METADATA[fmt])
    return buf.getvalue()


def _color(i: int) -> str:
    return OKABE_ITO[i % len(OKABE_ITO)]


def _draw_lines(lr_ax: Axes, mom_ax: Axes | None, traces: Sequence[Trace], x: str, n: int) -> None:
    drawn: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"lr": [], "momentum": []}
    line = 0
    for t_i, trace in enumerate(traces):
        for g in range(len(trace.groups)):
            style: dict[str, Any] = {
                "color": _color(line),
                "linestyle": LINESTYLES[(line // len(OKABE_ITO)) % len(LINESTYLES)],
                "label": label(trace, g),
                # A row's lr holds for its whole optimizer step: draw steps, never slopes.
                "drawstyle": "steps-post",
            }
            columns = [("lr", lr_ax, trace.lr)]
            if mom_ax is not None and trace.momentum_kind[g] is not None:
                columns.append(("momentum", mom_ax, trace.momentum))
            for kind, ax, values in columns:
                xs, ys = _steps(trace, values[:, g], x, n)
                own = dict(style)
                if any(_same(xs, ys, a, b) for a, b in drawn[kind]):
                    # The same curve as one drawn before: dashes let both colours show.
                    own["linestyle"] = (0, (3, 3))
                drawn[kind].append((xs, ys))
                ax.plot(xs, ys, gid=f"{kind}:{t_i}:{g}", **own)
            line += 1


def _steps(trace: Trace, values: np.ndarray, x: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Points of a steps-post line whose last row, too, holds until the next row would start."""
    import numpy as np

    idx = extrema_indices(values, n)
    xs, ys = row_x(trace, idx, x), values[idx]
    if len(idx):
        xs = np.append(xs, row_x(trace, np.asarray([trace.rows]), x))
        ys = np.append(ys, ys[-1])
    return xs, ys


def _same(xs: np.ndarray, ys: np.ndarray, xs2: np.ndarray, ys2: np.ndarray) -> bool:
    import numpy as np

    return bool(
        xs.shape == xs2.shape
        and np.array_equal(xs, xs2)
        and np.array_equal(ys, ys2, equal_nan=True)
    )


def non_finite_rows(trace: Trace) -> np.ndarray:
    """Rows where some group's lr is NaN or infinite: nothing can be drawn there."""
    import numpy as np

    return np.flatnonzero(~np.isfinite(trace.lr).all(axis=1))


def _draw_non_finite(ax: Axes, traces: Sequence[Trace], x: str, n: int) -> list[Any]:
    """A cross along the top at every row whose lr is NaN or infinite (one per pixel column).

    A gap of one row in a run of a million is narrower than a pixel; the cross is not.
    """
    import numpy as np
    from matplotlib.lines import Line2D

    handles = []
    for t_i, trace in enumerate(traces):
        rows = non_finite_rows(trace)
        if not rows.size:
            continue
        end = row_x(trace, np.asarray([trace.rows]), x)[0]
        xs = _one_per_column(row_x(trace, rows, x), end, n)
        style: dict[str, Any] = {
            "color": NON_FINITE_COLOR,
            "marker": "x",
            "linestyle": "none",
            "markersize": 5,
        }
        ax.plot(
            xs,
            np.full(len(xs), 0.97),
            transform=ax.get_xaxis_transform(),
            clip_on=False,
            gid=f"marker:non_finite:{t_i}",
            **style,
        )
        who = f"{trace.name}: " if len(traces) > 1 else ""
        count = f"{len(rows):,} row{'' if len(rows) == 1 else 's'}"
        handles.append(Line2D([], [], label=f"{who}lr NaN or infinite ({count})", **style))
    return handles


def _draw_markers(axes: list[Axes], traces: Sequence[Trace], x: str, n: int) -> list[Any]:
    """Light vertical lines at each trace's events; returns legend handles, one per kind."""
    import numpy as np
    from matplotlib.lines import Line2D

    handles: dict[str, Any] = {}
    line = 0
    for t_i, trace in enumerate(traces):
        color = _color(line)
        line += len(trace.groups)
        for kind, rows in trace.events.items():
            if not rows or kind not in MARKER_STYLE:
                continue
            xs = row_x(trace, np.asarray(rows), x)
            xs = _one_per_column(xs, row_x(trace, np.asarray([trace.rows]), x)[0], n)
            ls, lw, alpha = MARKER_STYLE[kind]
            # The failure is drawn near-black: it must not read as another data line.
            tone = FAILURE_COLOR if kind == "failure" else color
            for ax in axes:
                ax.vlines(
                    xs,
                    0,
                    1,
                    transform=ax.get_xaxis_transform(),
                    colors=tone,
                    linestyles=ls,
                    linewidth=lw,
                    alpha=alpha,
                    zorder=1.5,
                    gid=f"marker:{kind}:{t_i}",
                )
            if kind == "failure":
                who = f"{trace.name}: " if len(traces) > 1 else ""
                label = f"{who}error at row {rows[0]:,}"
                handles[f"failure:{t_i}"] = Line2D(
                    [], [], color=FAILURE_COLOR, linestyle=ls, linewidth=lw, label=label
                )
            elif kind not in handles:
                handles[kind] = Line2D(
                    [], [], color="0.35", linestyle=ls, linewidth=lw, label=MARKER_LABEL[kind]
                )
    order = {"restart": 0, "milestone": 1, "reduction": 2}
    return [handles[k] for k in sorted(handles, key=lambda k: (order.get(k, 3), k))]


def _one_per_column(xs: np.ndarray, end: float, n: int) -> np.ndarray:
    """At most one marker per pixel column: thousands of restarts would paint the axes solid."""
    import numpy as np

    if len(xs) <= n or end <= 0:
        return xs
    columns = np.floor(xs / end * n)
    _, first = np.unique(columns, return_index=True)
    return xs[np.sort(first)]


def _finish(
    lr_ax: Axes,
    mom_ax: Axes | None,
    traces: Sequence[Trace],
    x: str,
    log: bool,
    title: str | None,
    handles: list[Any],
) -> int:
    """Axes limits, labels and the legend; returns the legend's number of rows."""
    import numpy as np

    # The end of the last row: it holds for a whole step, like every other row.
    ends = [row_x(t, np.asarray([t.rows]), x)[0] for t in traces]
    right = max(ends, default=0.0)
    if right <= 0:
        right = 1.0
    elif any(t.error is not None for t in traces):
        right *= 1.02  # keep the failure marker off the frame
    bottom = mom_ax if mom_ax is not None else lr_ax
    lr_ax.set_xlim(0.0, right)
    bottom.set_xlabel("epoch" if x == "epoch" else "step (optimizer steps)")
    lr_ax.set_ylabel("learning rate")
    _lr_axis(lr_ax, log)
    if mom_ax is not None:
        _finite_ylim(mom_ax, [np.asarray(ln.get_ydata()) for ln in mom_ax.get_lines()], False)
    if mom_ax is not None:
        kinds = {k for t in traces for k in t.momentum_kind if k is not None}
        mom_ax.set_ylabel(
            {frozenset({"betas"}): "Adam β₁", frozenset({"momentum"}): "momentum"}.get(
                frozenset(kinds), "momentum / β₁"
            )
        )
        if not kinds:
            mom_ax.text(
                0.5, 0.5, "no momentum", transform=mom_ax.transAxes, ha="center", va="center"
            )
    fig = lr_ax.get_figure(root=True)
    assert fig is not None
    if title:
        fig.suptitle(title)
    # Above the axes, never over the data; constrained layout makes the room.
    entries = [ln for ln in lr_ax.get_lines() if str(ln.get_gid()).startswith("lr:")] + handles
    ncols = _legend_columns(entries, fig.get_figwidth())
    lr_ax.legend(
        handles=entries,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.01),
        ncols=ncols,
        borderaxespad=0.2,
    )
    return -(-len(entries) // ncols)


def _legend_row() -> float:
    """The height of one legend row in inches (text plus spacing)."""
    import matplotlib as mpl
    from matplotlib.font_manager import FontProperties

    points = FontProperties(size=mpl.rcParams["legend.fontsize"]).get_size_in_points()
    return points * (1 + mpl.rcParams["legend.labelspacing"]) / 72


def _lr_axis(ax: Axes, log: bool) -> None:
    """Log or linear lr scale, limits that survive inf/NaN, and readable tick labels."""
    import numpy as np

    values = [
        np.asarray(ln.get_ydata(), dtype=np.float64)
        for ln in ax.get_lines()
        if str(ln.get_gid()).startswith("lr:")
    ]
    if log and not any(np.any(np.isfinite(v) & (v > 0)) for v in values):
        log = False  # nothing can go on a log axis: stay linear, and say so on the plot
        ax.text(0.5, 0.5, "no positive lr: linear scale", transform=ax.transAxes, ha="center")
    if log:
        ax.set_yscale("log", nonpositive="mask")
    else:
        # Values like 3e-4 read as 3 with "×10⁻⁴" over the axis, not as 0.0003.
        formatter = _sci_formatter()(useOffset=False, useMathText=False)
        formatter.set_powerlimits((-2, 3))
        ax.yaxis.set_major_formatter(formatter)
    _finite_ylim(ax, values, log)


def _finite_ylim(ax: Axes, values: list[np.ndarray], log: bool) -> None:
    """y limits from the finite values when some are inf or NaN (autoscale would fail)."""
    import numpy as np

    if all(np.all(np.isfinite(v)) for v in values):
        return  # matplotlib's own autoscaling
    kept = [v[np.isfinite(v) & ((v > 0) if log else True)] for v in values]
    data = np.concatenate(kept) if kept else np.empty(0)
    if data.size == 0:
        return
    lo, hi = float(data.min()), float(data.max())
    if log:
        ax.set_ylim(lo / 1.25, hi * 1.25)
    else:
        pad = (hi - lo) * 0.05 or abs(hi) * 0.05 or 1.0
        ax.set_ylim(lo - pad, hi + pad)


@functools.cache
def _sci_formatter() -> Any:
    """A ScalarFormatter class whose power of ten reads ×10⁻³ in plain unicode.

    matplotlib's mathtext would say the same but parses every tick label with pyparsing,
    which was half the time of saving a small figure.
    """
    from matplotlib.ticker import ScalarFormatter

    class SciFormatter(ScalarFormatter):
        def get_offset(self) -> str:
            text = super().get_offset()
            m = re.fullmatch(r"1e([-\u2212]?)0*(\d+)", text)
            if not m:
                return text
            sign = "⁻" if m.group(1) else ""
            return f"×10{sign}{m.group(2).translate(SUPERSCRIPT)}"

    return SciFormatter


def _legend_columns(entries: list[Any], width: float) -> int:
    """As many legend columns as fit the figure's width (estimated from the longest label)."""
    import matplotlib as mpl
    from matplotlib.font_manager import FontProperties

    points = FontProperties(size=mpl.rcParams["legend.fontsize"]).get_size_in_points()
    longest = max((len(str(e.get_label())) for e in entries), default=1)
    column = longest * 0.6 * points / 72 + 0.8  # text + handle and padding, inches
    return max(1, min(len(entries), 4, int(width / column)))
