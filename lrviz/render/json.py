"""JSON for every command: one run header, one tail, non-finite floats written one way."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from typing import Any

from ..trace import Trace

# JSON has no NaN or Infinity; lrviz writes them as these strings everywhere.
NAN, INF, NEG_INF = "NaN", "Infinity", "-Infinity"


def finite(value: float) -> float | str:
    """A float as JSON can hold it: NaN and infinities become "NaN", "Infinity", "-Infinity"."""
    if math.isfinite(value):
        return value
    return NAN if math.isnan(value) else (INF if value > 0 else NEG_INF)


def json_number(value: float | None) -> str:
    """A float (or None) as JSON text at full precision (repr), so it reads back bit for bit."""
    if value is None:
        return "null"
    if math.isfinite(value):
        return repr(value)
    return f'"{finite(value)}"'


def plain(value: Any) -> Any:
    """Any value as JSON-safe data: non-finite floats as strings, tuples and tensors as lists,
    functions as "<function>", anything else unknown as its repr."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return finite(value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if hasattr(value, "tolist"):  # a tensor or a numpy scalar
        return plain(value.tolist())
    if callable(value):
        return "<function>"
    return repr(value)


def json_head(trace: Trace) -> dict[str, Any]:
    """The keys every JSON document about a run starts with (docs/cli.md)."""
    return {
        "name": trace.name,
        "torch_version": trace.torch_version,
        "scheduler": trace.scheduler,
        "step_mode": trace.step_mode,
        "order": trace.order,
        "iters_per_epoch": trace.iters_per_epoch,
        "groups": trace.groups,
    }


def json_tail(trace: Trace, notes: list[str] | None = None) -> dict[str, Any]:
    """The keys every JSON document about a run ends with: warnings, failure, notes."""
    return {
        "warnings": [vars(w) for w in trace.warnings],
        "error": vars(trace.error) if trace.error else None,
        "notes": trace.notes if notes is None else notes,
    }


def document(trace: Trace, body: dict[str, Any], notes: list[str] | None = None) -> str:
    """A whole JSON document about a run, indented: header, the command's keys, tail."""
    doc = json_head(trace) | body | json_tail(trace, notes)
    return json.dumps(plain(doc), indent=2, allow_nan=False) + "\n"


def stream(head: dict[str, Any], rows: Iterable[list[str]], tail: dict[str, Any]) -> Iterator[str]:
    """A JSON document in chunks: the header keys, "rows" (chunks of row texts, one row per
    line), then the tail keys; a long run is never held as one string."""
    yield json.dumps(plain(head), allow_nan=False)[:-1] + ', "rows": ['
    sep = "\n  "
    for lines in rows:
        if lines:
            yield sep + ",\n  ".join(lines)
            sep = ",\n  "
    yield "\n], " + json.dumps(plain(tail), allow_nan=False)[1:] + "\n"
