"""Named warm-up and decay recipes: extra scheduler types that expand into torch schedulers.

A recipe never computes an lr itself. `expand` rewrites its node into native SequentialLR /
LinearLR / ConstantLR / LambdaLR specs before planning, so every value comes from torch.
Lengths are counted in scheduler steps (epochs with step: epoch, batches otherwise).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import did_you_mean

PER_BATCH_TYPES = ("cycliclr", "onecyclelr")  # catalog.PER_BATCH, lower case, without torch


@dataclass(frozen=True)
class RecipeParam:
    """One recipe parameter: name, what it accepts, default (None: required), doc line."""

    name: str
    kind: str  # steps | length | total | ratio | factor | shape | timescale
    default: Any
    doc: str
    required: bool = False


@dataclass(frozen=True)
class Recipe:
    """A named schedule: what it is, its parameters, and what it expands into."""

    name: str
    summary: str
    expands_to: str
    params: tuple[RecipeParam, ...]
    build: Callable[[dict[str, Any]], tuple[dict[str, Any], dict[str, str]]]

    def param(self, name: str) -> RecipeParam | None:
        return next((p for p in self.params if p.name == name), None)


# --- parameters ----------------------------------------------------------------------------

_WARMUP = RecipeParam(
    "warmup",
    "length",
    None,
    "warm-up length: scheduler steps, or a fraction of total below 1 (0.1 = 10%, rounded up)",
    required=True,
)
_TOTAL = RecipeParam(
    "total",
    "total",
    None,
    "length of the whole schedule in scheduler steps; default: the run's scheduler steps",
)
_MIN_RATIO = RecipeParam(
    "min_lr_ratio", "ratio", 0.0, "final lr as a fraction of each group's base lr (0..1)"
)
_START = RecipeParam(
    "start_factor",
    "factor",
    0.01,
    "lr factor at the first warm-up step (LinearLR start_factor, above 0 and at most 1)",
)


# --- expressions (lrviz's safe LambdaLR language; torch evaluates them) ----------------------


def _num(x: float) -> str:
    return repr(float(x)) if not float(x).is_integer() else str(int(x))


def _cosine(length: int, ratio: float, var: str = "epoch") -> str:
    """A factor going from 1 to `ratio` along half a cosine over `length` steps, then holding."""
    wave = f"0.5 * (1 + cos(pi * min({var}, {length}) / {length}))"
    return wave if ratio == 0 else f"{_num(ratio)} + {_num(1 - ratio)} * {wave}"


def _lambda(expr: str) -> dict[str, Any]:
    return {"type": "LambdaLR", "lr_lambda": expr}


def _sequence(phases: list[tuple[dict[str, Any], int]]) -> dict[str, Any]:
    """Phases (node, length) joined by SequentialLR; a single phase stands alone."""
    if len(phases) == 1:
        return phases[0][0]
    milestones, at = [], 0
    for _, length in phases[:-1]:
        at += length
        milestones.append(at)
    return {"type": "SequentialLR", "schedulers": [p for p, _ in phases], "milestones": milestones}


def _warm(v: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "LinearLR",
        "start_factor": v["start_factor"],
        "end_factor": 1.0,
        "total_iters": v["warmup"],
    }


# Each builder returns the native node and {generated key (relative) -> recipe parameter}.
def _warmup_cosine(v: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    decay = v["total"] - v["warmup"]
    phases = [(_warm(v), v["warmup"])] if v["warmup"] else []
    phases.append((_lambda(_cosine(decay, v["min_lr_ratio"])), decay))
    return _sequence(phases), _origins(v, "total")


def _warmup_linear(v: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    decay = v["total"] - v["warmup"]
    down = {"type": "LinearLR", "start_factor": 1.0, "end_factor": v["min_lr_ratio"]}
    down["total_iters"] = decay
    phases = [(_warm(v), v["warmup"])] if v["warmup"] else []
    phases.append((down, decay))
    return _sequence(phases), _origins(v, "total")


def _warmup_constant(v: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    return _warm(v), {"start_factor": "start_factor", "total_iters": "warmup"}


def _warmup_stable_decay(v: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    stable = v["total"] - v["warmup"] - v["decay"]
    if v["decay_shape"] == "cosine":
        down = _lambda(_cosine(v["decay"], v["min_lr_ratio"]))
    else:
        down = {"type": "LinearLR", "start_factor": 1.0, "end_factor": v["min_lr_ratio"]}
        down["total_iters"] = v["decay"]
    phases = [(_warm(v), v["warmup"])] if v["warmup"] else []
    if stable:
        phases.append(({"type": "ConstantLR", "factor": 1.0, "total_iters": stable}, stable))
    phases.append((down, v["decay"]))
    return _sequence(phases), _origins(v, "decay")


def _inverse_sqrt(v: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    tau = v["timescale"] or max(v["warmup"], 1)
    decay = _lambda(f"({tau} / (epoch + {tau})) ** 0.5")
    phases = [(_warm(v), v["warmup"])] if v["warmup"] else []
    phases.append((decay, 0))
    return _sequence(phases), _origins(v, "timescale")


def _sqrt_decay(v: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    return _lambda("(epoch + 1) ** -0.5"), {}


def _factor_decay(v: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    power = f"{_num(v['factor'])} ** epoch"
    ratio = v["min_lr_ratio"]
    return _lambda(power if ratio == 0 else f"max({_num(ratio)}, {power})"), {"lr_lambda": "factor"}


def _cosine_warmup(v: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    w, total, ratio, begin = v["warmup"], v["total"], v["min_lr_ratio"], v["start_ratio"]
    wave = _cosine(total - w, ratio, var=f"(epoch - {w})" if w else "epoch")
    expr = f"{wave} if epoch <= {total} else {_num(ratio)}"
    if w:
        ramp = f"{_num(begin)} + {_num(1 - begin)} * epoch / {w}" if begin else f"epoch / {w}"
        expr = f"{ramp} if epoch < {w} else ({expr})"
    return _lambda(expr), {"lr_lambda": "total"}


def _origins(v: dict[str, Any], decay_param: str) -> dict[str, str]:
    """Which recipe parameter the main generated keys of a warm-up + decay sequence come from."""
    if not v.get("warmup"):
        return {"lr_lambda": decay_param, "total_iters": decay_param}
    return {
        "milestones": "warmup",
        "schedulers[0]": "warmup",
        "schedulers[0].start_factor": "start_factor",
        "schedulers[0].total_iters": "warmup",
        "schedulers[1]": decay_param,
    }


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe(
            "warmup_cosine",
            "Linear warm-up, then a half cosine from the base lr down to min_lr_ratio × base lr "
            "at total, held after.",
            "SequentialLR[LinearLR(start_factor → 1 over warmup), "
            "LambdaLR(cosine over total - warmup)], milestones [warmup]",
            (_WARMUP, _TOTAL, _MIN_RATIO, _START),
            _warmup_cosine,
        ),
        Recipe(
            "warmup_linear",
            "Linear warm-up, then a straight line from the base lr down to min_lr_ratio × base "
            "lr at total.",
            "SequentialLR[LinearLR(start_factor → 1 over warmup), "
            "LinearLR(1 → min_lr_ratio over total - warmup)], milestones [warmup]",
            (_WARMUP, _TOTAL, _MIN_RATIO, _START),
            _warmup_linear,
        ),
        Recipe(
            "warmup_constant",
            "Linear warm-up, then the base lr for the rest of the run.",
            "LinearLR(start_factor → 1 over warmup)",
            (_WARMUP, _START),
            _warmup_constant,
        ),
        Recipe(
            "warmup_stable_decay",
            "Warm-up, a long stable phase at the base lr, then a short decay to min_lr_ratio "
            "ending at total (WSD, as in MiniCPM).",
            "SequentialLR[LinearLR warm-up, ConstantLR(factor 1), LinearLR or cosine LambdaLR "
            "decay], milestones [warmup, total - decay]",
            (
                _WARMUP,
                _TOTAL,
                RecipeParam(
                    "decay",
                    "length",
                    0.1,
                    "decay length: scheduler steps, or a fraction of total below 1",
                ),
                _MIN_RATIO,
                RecipeParam("decay_shape", "shape", "linear", "linear or cosine"),
                _START,
            ),
            _warmup_stable_decay,
        ),
        Recipe(
            "inverse_sqrt",
            "Linear warm-up, then lr × sqrt(timescale / (steps since warm-up + timescale)) "
            "(the Transformer paper's schedule).",
            "SequentialLR[LinearLR warm-up, LambdaLR((τ / (epoch + τ)) ** 0.5)], "
            "milestones [warmup]",
            (
                _WARMUP,
                RecipeParam(
                    "timescale",
                    "timescale",
                    None,
                    "decay timescale τ in scheduler steps; default: warmup (or 1)",
                ),
                _START,
            ),
            _inverse_sqrt,
        ),
        Recipe(
            "sqrt_decay",
            "The textbook square-root schedule: lr = base lr × (step + 1) ** -0.5.",
            "LambdaLR((epoch + 1) ** -0.5)",
            (),
            _sqrt_decay,
        ),
        Recipe(
            "factor_decay",
            "The textbook factor schedule: lr = base lr × max(min_lr_ratio, factor ** step).",
            "LambdaLR(max(min_lr_ratio, factor ** epoch))",
            (
                RecipeParam(
                    "factor", "factor", None, "multiplier per step (above 0, at most 1)", True
                ),
                _MIN_RATIO,
            ),
            _factor_decay,
        ),
        Recipe(
            "cosine_warmup",
            "The textbook cosine schedule with warm-up (one LambdaLR): linear from start_ratio "
            "× base lr, cosine to min_lr_ratio × base lr at total, held after.",
            "LambdaLR(ramp if epoch < warmup else cosine if epoch <= total else min_lr_ratio)",
            (
                _WARMUP,
                _TOTAL,
                _MIN_RATIO,
                RecipeParam(
                    "start_ratio", "ratio", 0.0, "lr at step 0 as a fraction of base lr (0..1)"
                ),
            ),
            _cosine_warmup,
        ),
    )
}


def find(type_name: str) -> Recipe | None:
    """The recipe a scheduler type names (case-insensitive, '-' or '_'), or None."""
    return RECIPES.get(type_name.lower().replace("-", "_")) if type_name else None


# --- expansion -----------------------------------------------------------------------------


@dataclass
class Expansion:
    """Native data with every recipe expanded, plus where generated keys came from."""

    data: Any
    origin: dict[str, str] = field(default_factory=dict)  # generated key -> recipe key
    notes: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (key path, message)
    expanded: bool = False


def expand(data: Any) -> Expansion:
    """Replace recipe nodes in the scheduler tree of native spec data by torch schedulers."""
    out = Expansion(data)
    if not isinstance(data, dict) or not isinstance(data.get("scheduler"), dict):
        return out
    if not any(find(str(n.get("type", ""))) for n in _nodes(data["scheduler"])):
        return out
    rows = run_rows(data)
    data = {**data, "scheduler": _walk(out, data["scheduler"], "scheduler", rows)}
    out.data, out.expanded = data, True
    return out


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [node]
    children = node.get("schedulers")
    for child in children if isinstance(children, list) else []:
        if isinstance(child, dict):
            found += _nodes(child)
    return found


def _walk(out: Expansion, node: dict[str, Any], key: str, rows: int | None) -> dict[str, Any]:
    recipe = find(str(node.get("type", ""))) if isinstance(node.get("type"), str) else None
    if recipe is not None:
        return _expand_one(out, recipe, node, key, rows)
    children = node.get("schedulers")
    if not isinstance(children, list):
        return node
    walked = [
        _walk(out, c, f"{key}.schedulers[{i}]", rows) if isinstance(c, dict) else c
        for i, c in enumerate(children)
    ]
    return {**node, "schedulers": walked}


def _expand_one(
    out: Expansion, recipe: Recipe, node: dict[str, Any], key: str, rows: int | None
) -> dict[str, Any]:
    for name in node:  # the recipe's own keys stay where the user wrote them
        out.origin[f"{key}.{name}"] = f"{key}.{name}"
    values = _values(out, recipe, node, key, rows)
    if values is None:
        return {"type": "LambdaLR", "lr_lambda": "1"}  # placeholder; the problems stop the plan
    native, origins = recipe.build(values)
    for path in _paths(native)[1:]:  # the node itself keeps its key
        probe = path
        while probe and probe not in origins:  # the nearest generated key a parameter made
            probe = probe[: probe.rindex("[")] if probe.endswith("]") else probe.rpartition(".")[0]
        param = origins.get(probe, "")
        out.origin[f"{key}.{path}"] = f"{key}.{param}" if param in node else key
    out.origin[f"{key}.type"] = f"{key}.type"
    filled = ""
    if recipe.param("total") is not None and "total" not in node:
        filled = f" (total {values['total']:,}: the run's scheduler steps)"
    out.notes.append(f"{key}: {recipe.name} expands to {_describe(native)}{filled}")
    return native


def _paths(node: Any, prefix: str = "") -> list[str]:
    paths = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            paths += _paths(v, f"{prefix}.{k}" if prefix else k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            paths += _paths(v, f"{prefix}[{i}]")
    return paths


def _describe(node: dict[str, Any]) -> str:
    """A one-line account of an expanded node, with every number in it."""
    kind = node["type"]
    if kind == "SequentialLR":
        inner = ", ".join(_describe(c) for c in node["schedulers"])
        return f"SequentialLR[{inner}] milestones {node['milestones']}"
    args = ", ".join(
        f"{k}={v!r}" if k == "lr_lambda" else f"{k}={v}" for k, v in node.items() if k != "type"
    )
    return f"{kind}({args})"


def _values(
    out: Expansion, recipe: Recipe, node: dict[str, Any], key: str, rows: int | None
) -> dict[str, Any] | None:
    """Checked parameter values, lengths resolved to whole steps; None after a problem."""
    names = [p.name for p in recipe.params]
    before = len(out.problems)
    for name in node:
        if name != "type" and recipe.param(str(name)) is None:
            listing = f" (parameters: {', '.join(names)})" if names else " (it takes no parameters)"
            out.problems.append(
                (
                    f"{key}.{name}",
                    f"unknown parameter for {recipe.name}{did_you_mean(str(name), names)}{listing}",
                )
            )
    values: dict[str, Any] = {}
    for p in recipe.params:
        if p.name not in node or node[p.name] is None:
            if p.required:
                out.problems.append((key, f"{recipe.name} needs '{p.name}': {p.doc}"))
            values[p.name] = p.default
            continue
        value = node[p.name]
        message = _check(p, value)
        if message:
            out.problems.append((f"{key}.{p.name}", message))
        values[p.name] = value
    if len(out.problems) > before:
        return None
    if recipe.param("total") is not None and values.get("total") is None:
        if rows is None:
            out.problems.append(
                (key, f"{recipe.name} needs 'total' (the run's length is not known)")
            )
            return None
        values["total"] = rows
    total = values.get("total")
    for p in recipe.params:
        value = values[p.name]
        if p.kind == "length" and isinstance(value, float):
            if total is None:
                out.problems.append(
                    (
                        f"{key}.{p.name}",
                        f"a fraction ({value!r}) needs a total length; give {p.name} in steps",
                    )
                )
                return None
            values[p.name] = math.ceil(total * value)  # as transformers rounds warmup_ratio
    return _check_lengths(out, recipe, values, key, node)


def _check(p: RecipeParam, value: Any) -> str:
    """Why a value does not fit a parameter ('' when it fits)."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    whole = isinstance(value, int) and not isinstance(value, bool)
    if p.kind == "length":
        if (whole and value >= 0) or (number and 0 < value < 1):
            return ""
        return f"expected whole steps, or a fraction of total between 0 and 1, got {value!r}"
    if p.kind in ("total", "timescale"):
        return (
            ""
            if whole and value >= 1
            else f"expected a whole number of steps (at least 1), got {value!r}"
        )
    if p.kind == "ratio":
        return "" if number and 0 <= value <= 1 else f"expected a number from 0 to 1, got {value!r}"
    if p.kind == "factor":
        return (
            ""
            if number and 0 < value <= 1
            else f"expected a number above 0 and at most 1, got {value!r}"
        )
    if p.kind == "shape":
        return "" if value in ("linear", "cosine") else f"expected linear or cosine, got {value!r}"
    return ""


def _check_lengths(
    out: Expansion, recipe: Recipe, v: dict[str, Any], key: str, node: dict[str, Any]
) -> dict[str, Any] | None:
    if recipe.name == "warmup_constant" and v["warmup"] < 1:
        out.problems.append((f"{key}.warmup", "warmup_constant needs a warm-up of at least 1 step"))
        return None
    total = v.get("total")
    if total is None:
        return v
    used = v.get("warmup", 0) + v.get("decay", 0)
    if "decay" in v and v["decay"] < 1:
        out.problems.append((f"{key}.decay", f"the decay needs at least 1 step, got {v['decay']}"))
        return None
    decay_needed = 0 if "decay" in v else 1  # a decay phase needs at least one step
    if used + decay_needed > total:
        parts = " + ".join(f"{n} {v[n]}" for n in ("warmup", "decay") if n in v)
        where = f"{key}.total" if "total" in node else f"{key}.warmup"
        out.problems.append(
            (where, f"{parts} leaves no room in total {total} for the {recipe.name} decay")
        )
        return None
    return v


def run_rows(data: dict[str, Any]) -> int | None:
    """The number of scheduler steps a native spec's run makes (None when it is not valid)."""
    run = data.get("run") if isinstance(data.get("run"), dict) else {}
    assert isinstance(run, dict)
    epochs, iters, steps, step = (
        run.get(k) for k in ("epochs", "iters_per_epoch", "steps", "step")
    )
    iters = 1 if iters is None else iters
    if not _whole(iters) or (epochs is not None and not _whole(epochs)):
        return None
    if steps is not None and not _whole(steps):
        return None
    if step is None:
        types = [str(n.get("type", "")).lower() for n in _nodes(data["scheduler"])]
        step = "batch" if any(t in PER_BATCH_TYPES for t in types) else "epoch"
    if epochs is None:
        if steps is None:
            return None
        return steps
    rows = epochs if step == "epoch" else epochs * iters
    return min(rows, steps) if steps is not None else rows


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1
