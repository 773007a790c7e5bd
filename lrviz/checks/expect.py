"""The spec's `check:` and `expect:` blocks: read, validate, and test against the run's rows."""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real
from typing import Any

from ..errors import did_you_mean
from ..spec import Spec
from ..trace import Trace
from . import registry
from .model import Finding

MONOTONIC = ("decreasing", "increasing", "non_increasing", "non_decreasing")
DEFAULT_REL = 1e-6
DEFAULT_ABS = 0.0


def located(spec: Spec, rule_id: str, key: str | None, message: str) -> Finding:
    """A finding of `rule_id` at the YAML line of `key`."""
    _, line = spec.where(key)
    return Finding(rule_id, registry.RULES[rule_id].severity, line, key, message)


def read_ignore(spec: Spec) -> tuple[set[str], list[Finding]]:
    """The rule ids `check: {ignore: [...]}` silences, and LRV001 findings for bad entries."""
    raw = spec.check.get("ignore")
    if raw is None:
        return set(), []
    if not isinstance(raw, list):
        return set(), [located(spec, "LRV001", "check.ignore", "expected a list of rule ids, "
                               "e.g. ignore: [LRV004]")]  # fmt: skip
    ids: set[str] = set()
    problems: list[Finding] = []
    for i, item in enumerate(raw):
        key = f"check.ignore[{i}]"
        rule = registry.RULES.get(item.strip().upper()) if isinstance(item, str) else None
        if rule is None:
            hint = registry.suggest(item) if isinstance(item, str) else ""
            problems.append(
                located(spec, "LRV001", key, f"unknown rule {item!r}{hint} (see 'lrviz rules')")
            )
        elif not rule.silenceable:
            problems.append(located(spec, "LRV001", key, f"{rule.id} cannot be silenced"))
        else:
            ids.add(rule.id)
    return ids, problems


@dataclass(frozen=True)
class _Tol:
    rel: float
    abs: float
    group: int

    def close(self, actual: float, expected: float) -> bool:
        return abs(actual - expected) <= self.abs + self.rel * abs(expected)

    def text(self) -> str:
        return f"rel {self.rel:g}, abs {self.abs:g}"


class _Reader:
    """Validates expect: values, collecting LRV001 findings instead of raising."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.problems: list[Finding] = []

    def bad(self, key: str, message: str) -> None:
        self.problems.append(located(self.spec, "LRV001", key, message))

    def number(self, raw: dict[str, Any], name: str, key: str, minimum: float | None = None) -> Any:
        value = raw.get(name)
        if value is None:
            return None
        ok = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or (minimum is not None and value < minimum):
            need = "a finite number" if minimum is None else f"a number >= {minimum:g}"
            self.bad(key, f"expected {need}, got {value!r}")
            return None
        return float(value)

    def tol(self, raw: dict[str, Any], prefix: str, base: _Tol | None = None) -> _Tol:
        rel = self.number(raw, "rel", f"{prefix}.rel", 0)
        tol_abs = self.number(raw, "abs", f"{prefix}.abs", 0)
        group = base.group if base else 0
        if "group" in raw:
            name = raw["group"]
            names = self.spec.group_names
            if name in names:
                group = names.index(name)
            else:
                hint = did_you_mean(str(name), names)
                self.bad(
                    f"{prefix}.group",
                    f"no param group {name!r}{hint} (groups: {', '.join(names)})",
                )
        return _Tol(
            rel if rel is not None else (base.rel if base else DEFAULT_REL),
            tol_abs if tol_abs is not None else (base.abs if base else DEFAULT_ABS),
            group,
        )


def check_expectations(spec: Spec, trace: Trace | None, planned: int = 0) -> list[Finding]:
    """LRV001 findings for a malformed expect: block, LRV017 for each expectation that fails.

    `trace` None validates only (the spec did not run); `planned` is the run's row count.
    """
    expect = spec.expect
    if not expect:
        return []
    r = _Reader(spec)
    tol = r.tol(expect, "expect")
    wanted: list[tuple[str, str, Any, _Tol]] = []  # (kind, key, value, tolerance)
    for name in ("final_lr", "max_lr", "min_lr"):
        value = r.number(expect, name, f"expect.{name}")
        if value is not None:
            wanted.append((name, f"expect.{name}", value, tol))
    items = expect.get("lr_at")
    if items is not None and not isinstance(items, list):
        r.bad("expect.lr_at", "expected a list such as [{epoch: 30, lr: 0.005}]")
        items = []
    for i, item in enumerate(items or []):
        key = f"expect.lr_at[{i}]"
        if not isinstance(item, dict):
            r.bad(key, f"expected a mapping such as {{epoch: 30, lr: 0.005}}, got {item!r}")
            continue
        where = [w for w in ("epoch", "step") if w in item]
        position = item.get(where[0]) if len(where) == 1 else None
        if len(where) != 1:
            r.bad(key, "give exactly one of epoch: or step:")
        elif isinstance(position, bool) or not isinstance(position, int) or position < 0:
            r.bad(f"{key}.{where[0]}", f"expected a whole number >= 0, got {position!r}")
            position = None
        lr = r.number(item, "lr", f"{key}.lr")
        if "lr" not in item:
            r.bad(key, "missing lr: the expected value")
        item_tol = r.tol(item, key, tol)
        if where and position is not None and lr is not None:
            wanted.append((f"lr_at {where[0]}", key, (where[0], position, lr), item_tol))
    mono = expect.get("monotonic")
    if mono is not None:
        if mono in MONOTONIC:
            wanted.append(("monotonic", "expect.monotonic", mono, tol))
        else:
            r.bad(
                "expect.monotonic",
                f"expected one of {', '.join(MONOTONIC)}, got {mono!r}"
                f"{did_you_mean(str(mono), MONOTONIC)}",
            )
    if trace is None:
        return r.problems
    failed = [
        located(spec, "LRV017", key, msg)
        for kind, key, value, t in wanted
        if (msg := _test(trace, kind, value, t, planned or trace.rows)) is not None
    ]
    return r.problems + failed


def _test(trace: Trace, kind: str, value: Any, tol: _Tol, planned: int) -> str | None:
    """None when the expectation holds, else the message saying expected vs actual."""
    import numpy as np

    rows, group = trace.rows, trace.groups[tol.group]
    col = trace.lr[:, tol.group]
    failed = f" (the run failed at row {trace.error.step:,})" if trace.error else ""
    if kind == "monotonic":
        return _monotonic(trace, value, tol)
    if kind.startswith("lr_at"):
        unit, position, expected = value
        row = (
            position if unit == "step" or not trace.per_batch else position * trace.iters_per_epoch
        )
        label = f"lr_at {unit} {position:,}"
        if row >= planned:
            last = planned - 1 if unit == "step" else _epoch_of(trace, planned - 1)
            return f"{label}: beyond the run ({unit}s 0..{last:,})"
    else:
        label, expected = kind, value
        if not rows:
            return f"{label}: no row was produced{failed}"
        if kind == "final_lr":
            if trace.error:
                return f"{label}: the last row was not produced{failed}"
            row = rows - 1
        else:
            pick = np.nanargmax if kind == "max_lr" else np.nanargmin
            row = int(pick(col)) if not np.isnan(col).all() else 0
    if row >= rows:
        return f"{label}: row {row:,} was not produced{failed}"
    actual = float(col[row])
    if tol.close(actual, expected):
        return None
    return (
        f"{label}: expected {expected!r}, got {actual!r} at row {row:,} ({group}); "
        f"tolerance {tol.text()}"
    )


def _epoch_of(trace: Trace, row: int) -> int:
    return row // trace.iters_per_epoch if trace.per_batch else row


def _monotonic(trace: Trace, kind: str, tol: _Tol) -> str | None:
    import numpy as np

    col = trace.lr[:, tol.group]
    if col.size < 2:
        return None
    prev, cur = col[:-1], col[1:]
    slack = tol.abs + tol.rel * np.abs(prev)
    bad = {
        "decreasing": ~(cur < prev),
        "increasing": ~(cur > prev),
        "non_increasing": cur > prev + slack,
        "non_decreasing": cur < prev - slack,
    }[kind]
    hits = np.flatnonzero(bad)
    if not hits.size:
        return None
    k = int(hits[0]) + 1
    a, b = float(col[k - 1]), float(col[k])
    move = "stays at" if a == b else ("rises from" if b > a else "falls from")
    to = (
        f" {a!r} at rows {k - 1:,}-{k:,}"
        if a == b
        else f" {a!r} at row {k - 1:,} to {b!r} at row {k:,}"
    )
    return (
        f"monotonic {kind}: the lr ({trace.groups[tol.group]}) {move}{to} "
        f"({hits.size:,} such step{'s' if hits.size != 1 else ''})"
    )
