"""Traces -> one self-contained interactive HTML page: inline SVG and JavaScript, no network.

The page draws what the PNG draws (every group's lr, momentum on request, restarts,
milestones, reductions and the failure), reads out the exact row under the pointer (step,
epoch, iter, x, and every group's lr and momentum as Python's repr writes them) and zooms
on a dragged range. Long runs carry the rows the PNG keeps (render.plot.extrema_indices),
taken together over every group so that each kept row is read out whole.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from ..trace import Trace
from .plot import (
    FAILURE_COLOR,
    LINESTYLES,
    MARKER_LABEL,
    MARKER_STYLE,
    OKABE_ITO,
    X_AXES,
    _one_per_column,
    extrema_indices,
    row_x,
)

ASSETS = Path(__file__).parent / "assets"
BUCKETS = 1500  # per curve; about the plot's width in pixels, as the PNG's are
DASHES = {"-": "", "--": "6 4", "-.": "7 3 1.5 3", ":": "1.5 3"}  # matplotlib's, in SVG
FAILURE_COLOR_HEX = "#{0:02x}{0:02x}{0:02x}".format(round(float(FAILURE_COLOR) * 255))
NON_FINITE_COLOR = "#D55E00"  # vermillion: the palette's warning colour, as on the PNG


def render(
    traces: Sequence[Trace],
    *,
    x: str = "epoch",
    log: bool = False,
    momentum: bool = False,
    title: str | None = None,
) -> str:
    """The page: the run headers, a legend, the chart and its read-out, all in one file."""
    from .table import header_lines

    if x not in X_AXES:
        raise ValueError(f"x must be one of {X_AXES}, not {x!r}")
    data = page_data(traces, x=x, log=log, momentum=momentum)
    heading = title or " vs ".join(dict.fromkeys(t.name for t in traces)) + ": learning rate"
    script, style = _asset("viewer.js"), _asset("viewer.css")
    policy = (
        "default-src 'none'; "
        f"script-src '{_sha256(script)}'; style-src '{_sha256(style)}'; img-src data:"
    )
    headers = "\n".join(
        f'<section class="run"><h2>{_esc(t.name)}</h2><pre>'
        + _esc("\n".join([*header_lines(t), *_status_lines(t)]))
        + "</pre></section>"
        for t in traces
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        # The page may load nothing and run only its own script: no network, ever.
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="lrviz">\n<title>{_esc(heading)}</title>\n'
        f"<style>{style}</style>\n</head>\n<body>\n"
        f"<h1>{_esc(heading)}</h1>\n{headers}\n"
        f'<div id="legend">{_legend(traces, data)}</div>\n'
        '<div id="controls"><button id="reset" type="button">reset zoom</button> '
        '<span id="hint">drag across the chart to zoom; double-click to zoom out</span> '
        '<span id="range"></span></div>\n'
        '<div id="chart"></div>\n'
        '<div id="readout" aria-live="polite">point at the chart to read a row</div>\n'
        "<noscript><p>The chart needs JavaScript; the run header above and "
        "`lrviz export -o FILE.csv` give the rows.</p></noscript>\n"
        f'<script type="application/json" id="lrviz-data">{_json(data)}</script>\n'
        f"<script>{script}</script>\n</body>\n</html>\n"
    )


def page_data(
    traces: Sequence[Trace], *, x: str = "epoch", log: bool = False, momentum: bool = False
) -> dict[str, Any]:
    """What the page draws and reads out, as JSON-ready data (floats stay exact: repr)."""
    import numpy as np

    out: list[dict[str, Any]] = []
    line = 0
    for trace in traces:
        rows = kept_rows(trace)
        series = []
        for g, group in enumerate(trace.groups):
            kind = trace.momentum_kind[g]
            series.append(
                {
                    "group": group,
                    "label": trace.name if len(trace.groups) == 1 else f"{trace.name} · {group}",
                    "color": OKABE_ITO[line % len(OKABE_ITO)],
                    "dash": DASHES[LINESTYLES[(line // len(OKABE_ITO)) % len(LINESTYLES)]],
                    "lr": _values(trace.lr[rows, g]),
                    "momentum_kind": kind,
                    "momentum": None if kind is None else _values(trace.momentum[rows, g]),
                }
            )
            line += 1
        end = row_x(trace, np.asarray([trace.rows]), x)[0]
        markers = []
        for kind, event_rows in trace.events.items():
            if kind not in MARKER_STYLE or not event_rows:
                continue
            xs = _one_per_column(row_x(trace, np.asarray(event_rows), x), end, BUCKETS)
            ls, width, alpha = MARKER_STYLE[kind]
            markers.append(
                {
                    "kind": kind,
                    "x": [float(v) for v in xs],
                    "dash": DASHES[ls],
                    "width": width,
                    "opacity": alpha,
                    "color": FAILURE_COLOR_HEX if kind == "failure" else series[0]["color"],
                }
            )
        bad = np.flatnonzero(~np.isfinite(trace.lr).all(axis=1))  # drawn as crosses on top
        out.append(
            {
                "name": trace.name,
                "rows": trace.rows,
                "end": float(end),  # the last row holds for a whole step, like every other
                "offset": trace.offset,
                "per_batch": trace.per_batch,
                "iters_per_epoch": trace.iters_per_epoch,
                "kept": (rows + trace.offset).tolist(),
                "series": series,
                "markers": markers,
                "non_finite": [
                    float(v) for v in _one_per_column(row_x(trace, bad, x), end, BUCKETS)
                ],
                "non_finite_rows": len(bad),
                "failure": None if trace.error is None else trace.error.step,
            }
        )
    kinds = {k for t in traces for k in t.momentum_kind if k is not None}
    return {
        "x": x,
        "log": log,
        "momentum_panel": momentum,
        "momentum_label": {
            frozenset({"betas"}): "Adam β₁",
            frozenset({"momentum"}): "momentum",
        }.get(frozenset(kinds), "momentum / β₁"),
        "traces": out,
    }


def kept_rows(trace: Trace) -> Any:
    """Rows the page carries: every row of a short run; of a long one, each group's extrema
    per bucket (lr and momentum), the events and both ends, so no spike or restart is lost."""
    import numpy as np

    if trace.rows == 0:
        return np.zeros(0, dtype=np.int64)
    parts = [np.asarray([0, trace.rows - 1], dtype=np.int64)]
    for g, kind in enumerate(trace.momentum_kind):
        parts.append(extrema_indices(trace.lr[:, g], BUCKETS))
        if kind is not None:
            parts.append(extrema_indices(trace.momentum[:, g], BUCKETS))
    events = [r for rows in trace.events.values() for r in rows if 0 <= r < trace.rows]
    parts.append(np.asarray(events, dtype=np.int64))
    return np.unique(np.concatenate(parts))


def _values(column: Any) -> list[float | str]:
    """Floats as JSON numbers (repr: they parse back to the same double); NaN/inf as text."""
    values: list[float | str] = column.tolist()
    if all(map(math.isfinite, values)):  # type: ignore[arg-type]
        return values
    return [v if math.isfinite(v) else repr(v) for v in values]  # type: ignore[arg-type]


def _status_lines(trace: Trace) -> list[str]:
    """The run's failure, as the CLI reports it, under its header."""
    if trace.error is None:
        return []
    return [f"error: run failed at row {trace.error.step}: {trace.error.message}"]


def _legend(traces: Sequence[Trace], data: dict[str, Any]) -> str:
    """Legend entries: one per curve, then one per marker kind (as the PNG's)."""
    items = []
    for t in data["traces"]:
        for s in t["series"]:
            items.append(_legend_item(s["label"], s["color"], s["dash"], 1.6))
    seen: set[str] = set()
    for trace, t in zip(traces, data["traces"], strict=True):
        if t["non_finite_rows"]:
            who = f"{trace.name}: " if len(traces) > 1 else ""
            count = f"{t['non_finite_rows']:,} row{'' if t['non_finite_rows'] == 1 else 's'}"
            items.append(
                '<span class="item"><span class="cross">×</span>'
                f"{_esc(f'{who}lr NaN or infinite ({count})')}</span>"
            )
        for m in t["markers"]:
            if m["kind"] == "failure":
                who = f"{trace.name}: " if len(traces) > 1 else ""
                label = f"{who}error at row {t['failure']:,}"
                items.append(_legend_item(label, FAILURE_COLOR_HEX, m["dash"], m["width"]))
            elif m["kind"] not in seen:
                seen.add(m["kind"])
                items.append(
                    _legend_item(MARKER_LABEL[m["kind"]], "#595959", m["dash"], m["width"])
                )
    return "".join(items)


def _legend_item(label: str, color: str, dash: str, width: float) -> str:
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        '<span class="item"><svg width="28" height="10" aria-hidden="true">'
        f'<line x1="1" y1="5" x2="27" y2="5" stroke="{color}" stroke-width="{width}"{dashes}/>'
        f"</svg>{_esc(label)}</span>"
    )


def _json(data: dict[str, Any]) -> str:
    # Inside <script>: "<", ">" and "&" only occur in strings, where \u escapes mean the same.
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


@cache
def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")
