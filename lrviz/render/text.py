"""Trace -> CSV, JSON and Markdown text (docs/cli.md), streamed in chunks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..trace import Trace
from .json import json_head, json_number, json_tail, stream

CHUNK_ROWS = 10_000  # rows per chunk: a few MB of text at a time, and few writes


def number(value: float) -> str:
    """A float at full precision (repr), so it reads back bit for bit."""
    return repr(value)


def header(trace: Trace) -> list[str]:
    """CSV column names: positions, one lr per group, then one momentum per group if any."""
    names = ["step", "epoch", "iter", "x"] + [f"lr_{g}" for g in trace.groups]
    if trace.has_momentum:
        names += [f"momentum_{g}" for g in trace.groups]
    return names


def csv_field(text: str) -> str:
    """A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180)."""
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def markdown_cell(text: str) -> str:
    """A Markdown table cell: `|` escaped, line breaks as spaces (a group may be named `a|b`)."""
    return " ".join(text.replace("|", "\\|").split("\n"))


def _text_columns(trace: Trace, start: int, stop: int, num: Any = number) -> list[list[str]]:
    """Rows [start, stop) as text, one column at a time (map over lists is the fast path)."""
    step, epoch, it, x = trace.positions(start, stop)
    cols = [
        list(map(str, step.tolist())),
        list(map(str, epoch.tolist())),
        list(map(str, it.tolist())),
        list(map(num, x.tolist())),
    ]
    done: list[tuple[Any, list[str]]] = []  # columns already formatted, with their text
    for g in range(len(trace.groups)):
        cols.append(_column(trace.lr[start:stop, g], num, done))
    if trace.has_momentum:
        for g, kind in enumerate(trace.momentum_kind):
            values = trace.momentum[start:stop, g]
            cols.append([""] * len(values) if kind is None else _column(values, num, done))
    return cols


def _column(values: Any, num: Any, done: list[tuple[Any, list[str]]]) -> list[str]:
    """A float column's text, reused when an earlier column holds the same bits (groups often
    share a momentum or an lr: formatting, not comparing, is the cost)."""
    import numpy as np

    bits = np.ascontiguousarray(values).view(np.int64)
    for other, text in done:
        if np.array_equal(bits, other):
            return text
    text = _floats(values, num)
    done.append((bits, text))
    return text


def _floats(values: Any, num: Any) -> list[str]:
    """Text of a float column; repr is the cost, so each distinct value is formatted once."""
    import numpy as np

    # Distinct by bit pattern, so -0.0 and NaN payloads keep their own text.
    uniq, inverse = np.unique(np.ascontiguousarray(values).view(np.int64), return_inverse=True)
    if 2 * len(uniq) > len(values):  # mostly distinct (cosine, one-cycle): format directly
        return list(map(num, values.tolist()))
    texts = list(map(num, uniq.view(np.float64).tolist()))
    return [texts[i] for i in inverse.tolist()]


def iter_csv(trace: Trace, *, with_header: bool = True) -> Iterator[str]:
    """CSV text of every row, in chunks (without the header line for later chunks of a stream)."""
    if with_header:
        yield ",".join(map(csv_field, header(trace))) + "\n"
    for start in range(0, trace.rows, CHUNK_ROWS):
        cols = _text_columns(trace, start, start + CHUNK_ROWS)
        yield "".join(",".join(r) + "\n" for r in zip(*cols, strict=True))


def iter_json(trace: Trace, extra: dict[str, Any] | None = None) -> Iterator[str]:
    """The JSON document of docs/cli.md, in chunks, one row per line."""
    yield from stream(json_head(trace) | (extra or {}), _json_rows(trace), json_tail(trace))


def _json_rows(trace: Trace) -> Iterator[list[str]]:
    """The rows of docs/cli.md as JSON text, a chunk at a time."""
    n_groups = len(trace.groups)
    for start in range(0, trace.rows, CHUNK_ROWS):
        cols = _text_columns(trace, start, start + CHUNK_ROWS, json_number)
        lrs = cols[4 : 4 + n_groups]
        moms = cols[4 + n_groups :]
        lines = []
        for k in range(len(cols[0])):
            mom = (
                ", ".join(m[k] or "null" for m in moms) if moms else ", ".join(["null"] * n_groups)
            )
            lines.append(
                f'{{"step": {cols[0][k]}, "epoch": {cols[1][k]}, "iter": {cols[2][k]}, '
                f'"x": {cols[3][k]}, "lr": [{", ".join(c[k] for c in lrs)}], '
                f'"momentum": [{mom}]}}'
            )
        yield lines


def markdown(trace: Trace) -> str:
    """Every row as a GitHub-flavoured Markdown table."""
    names = [markdown_cell(n) for n in header(trace)]
    out = ["| " + " | ".join(names) + " |", "|" + "---:|" * len(names)]
    for start in range(0, trace.rows, CHUNK_ROWS):
        cols = _text_columns(trace, start, start + CHUNK_ROWS)
        out.extend("| " + " | ".join(r) + " |" for r in zip(*cols, strict=True))
    return "\n".join(out) + "\n"
