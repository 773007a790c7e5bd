"""A DiffReport -> its verdict, a rich Table of the getters per row, CSV and JSON text."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..reports import (
    CLOSED_DIFFERS,
    CLOSED_DRIFT,
    GET_LR_AHEAD,
    GET_LR_BAD,
    GET_LR_ERROR,
    GET_LR_REAPPLIED,
    HEADINGS,
    LAST_LR,
    LAST_LR_BAD,
    LAST_LR_ERROR,
    DiffReport,
)
from .json import json_head, json_number, json_tail, stream
from .table import fmt, header_lines
from .text import csv_field

if TYPE_CHECKING:
    import numpy as np

CHUNK_ROWS = 20_000
SHORT = {  # the table's "kind" column and the notes under it
    LAST_LR: "stale",
    LAST_LR_ERROR: "raised",
    GET_LR_AHEAD: "ahead",
    GET_LR_REAPPLIED: "re-applied",
    GET_LR_ERROR: "raised",
    CLOSED_DRIFT: "drift",
    CLOSED_DIFFERS: "differs",
}
# A getter is trusted only if no row carries one of its flags.
BAD = {"get_last_lr": LAST_LR_BAD, "get_lr": GET_LR_BAD, "closed_form": CLOSED_DIFFERS}
PARAM_GROUPS = "optimizer.param_groups[g]['lr']"
WORDS = HEADINGS | {"closed_form": "the closed form"}  # a getter named inside a sentence


def verdict(report: DiffReport) -> str:
    """One line from the kinds: which getter is not what its name says, and what to read."""
    cls = report.trace.scheduler
    problems = []
    if report.flagged(GET_LR_REAPPLIED):
        problems.append("get_lr() is not a getter — it re-applies the last update")
    elif report.flagged(GET_LR_AHEAD):
        problems.append("get_lr() is not a getter — it computes the next step's lr")
    if report.flagged(GET_LR_ERROR):
        problems.append("get_lr() raises")
    if report.get_lr_raises:
        problems.append("get_lr() is not implemented")
    if report.flagged(LAST_LR):
        problems.append("get_last_lr() is stale")
    if report.flagged(LAST_LR_ERROR):
        problems.append("get_last_lr() raises")
    if report.flagged(CLOSED_DIFFERS):
        problems.append("the closed form follows another formula than step()")
    good = [name for name, _ in report.columns() if not report.flagged(BAD[name])]
    if problems:
        # the closed form is private API: never the one to read the lr with
        use = next((HEADINGS[n] for n in good if n != "closed_form"), PARAM_GROUPS)
        return f"{cls}: {'; '.join(problems)}; use {use}"
    if not good:
        return f"{cls}: no lr getter to compare; use {PARAM_GROUPS}"
    drift = report.flagged(CLOSED_DRIFT)
    exact = [WORDS[n] for n in good if not (drift and n == "closed_form")]
    tail = "; the closed form up to rounding" if drift else ""
    if not exact:  # a closed form and nothing else, off by rounding
        return f"{cls}: the closed form returns the lr in use up to rounding"
    if len(exact) == 1:
        return f"{cls}: {exact[0]} returns the lr in use{tail}"
    said = ", ".join(exact[:-1]) + " and " + exact[-1]
    return f"{cls}: every getter agrees with the lr in use ({said}){tail}"


def summary_lines(report: DiffReport) -> list[str]:
    """The count of disagreeing rows, then one note per kind, then the other notes."""
    n = report.trace.rows
    bad = report.disagreeing_rows
    words = [WORDS[name] for name, _ in report.columns()]
    if bad:
        head = f"{bad:,} of {n:,} rows disagree"
    elif not words:
        head = f"{n:,} rows, nothing to compare: {report.trace.scheduler} has no lr getter"
    else:
        said = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
        head = f"all {n:,} rows agree: {said} {'equals' if len(words) == 1 else 'equal'} the lr"
    kinds = [f"{SHORT[k.flag]}: {k.note}" for k in report.kinds]
    return [head, *kinds] + [f"note: {t}" for t in report.notes]


def render_diff(report: DiffReport, *, max_rows: int = 40) -> Group:
    """All of `lrviz diff`'s table output: the verdict, the run, the count, rows, notes."""
    summary = summary_lines(report)
    return Group(
        Text(verdict(report), style="bold"),
        *(Text(line) for line in header_lines(report.trace)),
        Text(summary[0], style="bold"),
        render_diff_table(report, max_rows=max_rows),
        *(Text(line) for line in summary[1:]),
    )


def sample_rows(report: DiffReport, budget: int) -> list[int]:
    """At most `budget` rows: first, last, the first of each kind, disagreeing rows, then even."""
    import numpy as np

    n = report.trace.rows
    if n <= budget:
        return list(range(n))
    picked = {0, n - 1} | {k.first_row for k in report.kinds}
    bad = np.flatnonzero(report.flags)
    quota = max(0, budget * 3 // 4 - len(picked))
    if len(bad) <= quota:
        picked.update(bad.tolist())
    elif quota:
        picked.update(bad[np.linspace(0, len(bad) - 1, quota).round().astype(int)].tolist())
    spare = budget - len(picked)
    if spare > 0:
        picked.update(np.linspace(0, n - 1, spare + 2).round().astype(int).tolist())
    return sorted(picked)[:budget]


def _cell(value: float, lr: float) -> Text:
    if value == lr or (math.isnan(value) and math.isnan(lr)):
        return Text("=", style="dim")
    if fmt(value) == fmt(lr):  # differs below display precision: the notes give the size
        return Text("≈", style="bold yellow")
    return Text(fmt(value), style="bold yellow")


def render_diff_table(report: DiffReport, *, max_rows: int = 40) -> Table:
    """The rows as a rich Table: '=' where a getter returns the lr exactly, '≈' where it
    differs below display precision, the value where it differs visibly.

    One line per row and param group, so the width does not grow with the groups.
    """
    from rich import box

    trace = report.trace
    rows = sample_rows(report, max_rows)
    caption = None
    if len(rows) < trace.rows:
        caption = (
            f"showing {len(rows)} of {trace.rows:,} rows (first, last, disagreeing rows, evenly "
            f"spaced); --all shows every row, --format csv exports them"
        )
    columns = report.columns()
    # get_last_lr() is the lr on every row: leave its column out and say so in the title
    same_last = report.last_lr is not None and not report.flagged(LAST_LR_BAD)
    if same_last:
        columns = columns[1:]
    shown = " · ".join(HEADINGS[c] for c, _ in columns)
    title = f"{trace.name}: {shown} vs the lr" if columns else trace.name
    if same_last:
        title += (
            " (get_last_lr() is the lr on every row)"
            if columns
            else (": get_last_lr() is the lr on every row")
        )
    elif not columns:
        title += f": {trace.scheduler} has no lr getter to compare"
    table = Table(
        title=title,
        caption=caption,
        title_justify="left",
        caption_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("step", justify="right")
    table.add_column("x" if trace.per_batch else "epoch", justify="right")  # x = e + i / iters
    many = len(trace.groups) > 1
    if many:
        table.add_column("group")
    table.add_column("lr", justify="right", style="cyan", no_wrap=True)
    for label, _ in columns:
        table.add_column(HEADINGS[label], justify="right", no_wrap=True)
    table.add_column("kind", min_width=10)
    _, epoch, _, x = trace.positions()
    prev = -1
    for k in rows:
        if prev >= 0 and k > prev + 1:
            table.add_row(Text(f"⋮ {k - prev - 1:,}", style="dim"))
        where = f"{float(x[k]):.6g}" if trace.per_batch else str(int(epoch[k]))
        flag = int(report.flags[k])
        kinds = ", ".join(SHORT[f] for f in SHORT if flag & f)
        for g, group in enumerate(trace.groups):
            lr = float(trace.lr[k, g])
            cells: list[Text | str] = [str(k), where] if g == 0 else ["", ""]
            if many:
                cells.append(group)
            cells.append(fmt(lr))
            for _, values in columns:
                v = float(values[k, g])
                cells.append(Text("raised", style="red") if math.isnan(v) else _cell(v, lr))
            cells.append(kinds if g == 0 else "")
            table.add_row(*cells, style="on grey15" if flag else None)
        prev = k
    return table


def iter_csv(report: DiffReport) -> Iterator[str]:
    """Every row as CSV: positions, per group the lr and each getter, then the kinds."""
    trace = report.trace
    cols = report.columns()
    names = ["step", "epoch", "iter", "x"]
    for group in trace.groups:
        names += [f"lr_{group}"] + [f"{label}_{group}" for label, _ in cols]
    yield ",".join(map(csv_field, [*names, "disagreement"])) + "\n"  # a group may be `enc,dec`

    def cell(v: float) -> str:
        return "" if math.isnan(v) else repr(v)

    for start in range(0, trace.rows, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, trace.rows)
        step, epoch, it, x = trace.positions(start, stop)
        lines = []
        for i, k in enumerate(range(start, stop)):
            out = [str(int(step[i])), str(int(epoch[i])), str(int(it[i])), repr(float(x[i]))]
            for g in range(len(trace.groups)):
                out.append(repr(float(trace.lr[k, g])))
                out += [cell(float(values[k, g])) for _, values in cols]
            out.append(" ".join(report.row_kinds(k)))
            lines.append(",".join(out) + "\n")
        yield "".join(lines)


def iter_json(report: DiffReport) -> Iterator[str]:
    """One JSON object: the run's header, every row with each getter's values, the summary."""
    trace = report.trace
    head = json_head(trace) | {
        "get_lr_raises": report.get_lr_raises,  # e.g. "NotImplementedError", or null
        "closed_form": report.closed_form is not None,  # whether the class has one
        "missing": report.missing,  # getters the object lacks: their values are null
    }
    summary = {
        "rows": trace.rows,
        "disagreeing_rows": report.disagreeing_rows,
        "kinds": [
            {"id": k.id, "rows": k.rows, "first_row": k.first_row, "note": k.note}
            for k in report.kinds
        ],
    }
    tail = {"summary": summary} | json_tail(trace, trace.notes + report.notes)
    yield from stream(head, _json_rows(report), tail)


def _json_rows(report: DiffReport) -> Iterator[list[str]]:
    trace = report.trace

    def values(array: np.ndarray | None, k: int) -> str:
        if array is None:
            return "null"
        row = [float(v) for v in array[k]]
        if all(math.isnan(v) for v in row):
            return "null"
        return "[" + ", ".join(json_number(v) for v in row) + "]"

    for start in range(0, trace.rows, CHUNK_ROWS):
        lines = []
        for k in range(start, min(start + CHUNK_ROWS, trace.rows)):
            row = trace.row(k)
            mom = ", ".join(json_number(m) for m in row["momentum"])
            lines.append(
                f'{{"step": {row["step"]}, "epoch": {row["epoch"]}, "iter": {row["iter"]}, '
                f'"x": {json_number(row["x"])}, '
                f'"lr": [{", ".join(json_number(v) for v in row["lr"])}], "momentum": [{mom}], '
                f'"get_last_lr": {values(report.last_lr, k)}, '
                f'"get_lr": {values(report.get_lr, k)}, '
                f'"closed_form": {values(report.closed_form, k)}, '
                f'"disagree": {json.dumps(report.row_kinds(k))}}}'
            )
        yield lines
