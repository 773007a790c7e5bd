"""Trace -> a rich Table (sampled to a readable size) and its header lines."""

from __future__ import annotations

import math

from rich.table import Table
from rich.text import Text

from ..trace import Trace

SPARK = "▁▂▃▄▅▆▇█"


def fmt(value: float) -> str:
    """A value for reading, 6 significant digits (exports keep full precision)."""
    if math.isnan(value):
        return "nan"
    return f"{value:.6g}"


def changed_rows(trace: Trace) -> list[int]:
    """Rows whose lr (any group) differs from the previous row's."""
    import numpy as np

    if trace.rows < 2:
        return []
    with np.errstate(invalid="ignore"):  # inf != inf is well defined; numpy just says so
        diff = np.any(trace.lr[1:] != trace.lr[:-1], axis=1)
    return (np.flatnonzero(diff) + 1).tolist()


def turning_rows(trace: Trace) -> list[int]:
    """Rows where the lr (any group) turns: restarts, peaks and floors of a cyclic curve."""
    import numpy as np

    if trace.rows < 3:
        return []
    with np.errstate(invalid="ignore"):  # inf - inf is NaN, whose sign is no turn
        sign = np.nan_to_num(np.sign(np.diff(trace.lr, axis=0)))
    turn = np.any((sign[1:] != sign[:-1]) & (sign[1:] != 0) & (sign[:-1] != 0), axis=1)
    return (np.flatnonzero(turn) + 1).tolist()


def sample_rows(trace: Trace, budget: int) -> list[int]:
    """At most `budget` rows: first, last and the landmarks, then rows spread over the gaps.

    Landmarks are the lr changes (step decays), or where there are too many of them (a
    smooth curve) the turns (restarts, peaks, floors); each with the row before it when
    the budget allows. The rest of the budget splits the widest gaps, so no stretch of
    the run goes unseen.
    """
    n = trace.rows
    if n <= budget:
        return list(range(n))
    picked = {0, n - 1}
    for landmarks in (changed_rows(trace), turning_rows(trace)):
        marks = set(landmarks) - picked
        if len(marks) <= budget - len(picked):
            picked |= marks
            before = {k - 1 for k in marks} - picked
            if len(before) <= budget - len(picked):
                picked |= before
            break
    return _fill_gaps(sorted(picked), budget)


def _fill_gaps(rows: list[int], budget: int) -> list[int]:
    """Add rows at the middle of the widest gap until `budget` rows are picked."""
    import heapq
    import itertools

    # (negative width, start, end): the widest gap pops first, the earliest on a tie
    gaps = [(-(b - a), a, b) for a, b in itertools.pairwise(rows) if b - a > 1]
    heapq.heapify(gaps)
    picked = set(rows)
    while len(picked) < budget and gaps:
        _, a, b = heapq.heappop(gaps)
        mid = (a + b) // 2
        picked.add(mid)
        for lo, hi in ((a, mid), (mid, b)):
            if hi - lo > 1:
                heapq.heappush(gaps, (-(hi - lo), lo, hi))
    return sorted(picked)


def sparkline(values: list[float], width: int = 60) -> str:
    """A one-line block-character picture of a curve (bucket maxima)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return ""
    if len(values) > width:
        size = len(values) / width
        values = [
            max(values[int(i * size) : max(int((i + 1) * size), int(i * size) + 1)])
            for i in range(width)
        ]
    lo, hi = min(finite), max(finite)
    span = hi - lo or 1.0
    return "".join(
        SPARK[min(7, int((v - lo) / span * 7.999))] if math.isfinite(v) else "!" for v in values
    )


def sparklines(trace: Trace) -> list[str]:
    """One sparkline per shape of lr curve; groups of the same shape share a line."""
    if trace.rows < 2:
        return []
    shapes: dict[str, list[str]] = {}
    for g, group in enumerate(trace.groups):
        shapes.setdefault(sparkline(trace.lr[:, g].tolist()), []).append(group)
    return [f"lr {', '.join(groups)}: {line}" for line, groups in shapes.items()]


def varying_momentum(trace: Trace) -> list[int]:
    """Groups whose momentum (or beta1) changes during the run; constant ones go in the header."""
    import numpy as np

    return [
        g
        for g, kind in enumerate(trace.momentum_kind)
        if kind and trace.rows and not np.all(trace.momentum[:, g] == trace.momentum[0, g])
    ]


def plural(n: int, word: str) -> str:
    """'1 row', '2 rows', '1,000 rows'."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def header_lines(trace: Trace) -> list[str]:
    """What a reader needs before the rows: scheduler, mode, size, notes."""
    shape = plural(trace.epochs, "epoch")
    if trace.per_batch:
        shape += f" × {plural(trace.iters_per_epoch, 'iter')}"
    lines = [
        f"{trace.scheduler} · step: {trace.step_mode} · order: {trace.order} · "
        f"{plural(trace.rows, 'row')} ({shape}) · torch {trace.torch_version}"
    ]
    if trace.description:
        lines.insert(0, trace.description)
    varying = varying_momentum(trace)
    constant = [
        f"{trace.groups[g]} {fmt(float(trace.momentum[0, g]))}"
        for g, kind in enumerate(trace.momentum_kind)
        if kind and g not in varying and trace.rows
    ]
    if constant:
        label = "β1" if "betas" in trace.momentum_kind else "momentum"
        lines.append(f"{label} (constant): {', '.join(constant)}")
    lines.extend(f"note: {n}" for n in trace.notes)
    return lines


def render_table(trace: Trace, *, max_rows: int = 40) -> Table:
    """The rows as a rich Table; long runs sampled, lr changes in bold."""
    rows = sample_rows(trace, max_rows)
    changes = set(changed_rows(trace))
    caption = None
    if len(rows) < trace.rows:
        caption = (
            f"showing {len(rows)} of {trace.rows:,} rows (first, last, lr changes, evenly "
            f"spaced); --all shows every row, --format csv exports them"
        )
    table = Table(
        title=trace.name,
        caption=caption,
        title_justify="left",
        caption_justify="left",
        header_style="bold",
    )
    table.add_column("step", justify="right")
    table.add_column("epoch", justify="right")
    if trace.per_batch:
        table.add_column("iter", justify="right")
        table.add_column("x", justify="right")
    for group in trace.groups:
        table.add_column(f"lr {group}", justify="right", style="cyan", no_wrap=True, min_width=9)
    mom_groups = varying_momentum(trace)
    for g in mom_groups:
        label = "β1" if trace.momentum_kind[g] == "betas" else "momentum"
        table.add_column(
            f"{label} {trace.groups[g]}",
            justify="right",
            style="magenta",
            no_wrap=True,
            min_width=9,
        )
    _, epoch, it, x = trace.positions()
    prev = -1
    for k in rows:
        if prev >= 0 and k > prev + 1:
            table.add_row(Text(f"⋮ {k - prev - 1:,}", style="dim"))
        cells = [str(k), str(int(epoch[k]))]
        if trace.per_batch:
            cells += [str(int(it[k])), f"{float(x[k]):.4g}"]
        cells += [fmt(float(v)) for v in trace.lr[k]]
        cells += [fmt(float(trace.momentum[k, g])) for g in mom_groups]
        bad = any(not math.isfinite(float(v)) or v < 0 for v in trace.lr[k])
        style = "bold red" if bad else ("bold" if k in changes else None)
        table.add_row(*cells, style=style)
        prev = k
    return table
