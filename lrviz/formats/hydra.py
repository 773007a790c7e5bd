"""Hydra configs: `_target_` nodes for the optimizer and scheduler -> native data."""

from __future__ import annotations

import re
from typing import Any

from . import (
    OPTIMIZER_KEYS,
    OPTIMIZER_MODULES,
    SCHEDULER_KEYS,
    SCHEDULER_MODULES,
    Ctx,
    candidates,
    class_name,
    trainer_run,
)
from .hf import HF_PREFIX
from .lightning import fill_lr

# Hydra's own instantiate keys: they steer instantiation and are not constructor keywords.
META_KEYS = ("_target_", "_partial_", "_recursive_", "_convert_")
# A trainer node with this _target_ is Lightning's, whose max_epochs defaults to 1000.
LIGHTNING = ("lightning.", "pytorch_lightning.")
_INTERPOLATION = re.compile(r"^\$\{([A-Za-z_][\w.]*)\}$")


def convert(data: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    """Native spec data from a Hydra config (the lightning-hydra-template layout works)."""
    native: dict[str, Any] = {}
    opt = _first(data, OPTIMIZER_KEYS)
    if opt is not None:
        key, node = opt
        name = class_name(ctx, node["_target_"], f"{key}._target_", OPTIMIZER_MODULES, "optimizer")
        ctx.at("optimizer", key)
        ctx.at("optimizer.type", f"{key}._target_")
        kwargs = _kwargs(ctx, data, node, key, "optimizer", skip=("params",))
        native["optimizer"] = {"type": name or "SGD", **kwargs}
        fill_lr(ctx, native["optimizer"])
    else:
        ctx.notes.append(
            "no optimizer _target_ in the config: showing SGD lr=0.1; "
            "the schedule's shape does not depend on it"
        )
    found = _first(data, SCHEDULER_KEYS)
    if found is None:
        ctx.problem(
            None,
            "no scheduler found: a Hydra config names it as scheduler: "
            "{_target_: torch.optim.lr_scheduler.StepLR, _partial_: true, ...}",
        )
        return native
    native["scheduler"] = scheduler(ctx, data, found[1], found[0], "scheduler")
    types = [native["scheduler"].get("type", "")]
    types += [c.get("type", "") for c in native["scheduler"].get("schedulers", [])]
    # transformers' schedules count optimizer steps: the loop steps them once per batch.
    step = "batch" if any(str(t).startswith(HF_PREFIX) for t in types) else None
    trainer = data.get("trainer")
    target = str(trainer.get("_target_", "")) if isinstance(trainer, dict) else ""
    native["run"] = trainer_run(ctx, data, step, lightning=target.startswith(LIGHTNING))
    return native


def _first(data: dict[str, Any], names: tuple[str, ...]) -> tuple[str, dict[str, Any]] | None:
    for key, node in candidates(data, names):
        if isinstance(node, dict) and "_target_" in node:
            return key, node
    return None


def scheduler(ctx: Ctx, data: dict[str, Any], node: Any, key: str, native: str) -> dict[str, Any]:
    """A native scheduler mapping from a `_target_` node; nested children inline."""
    if not isinstance(node, dict) or "_target_" not in node:
        ctx.problem(
            key, "expected a node with a _target_, e.g. _target_: torch.optim.lr_scheduler.StepLR"
        )
        return {"type": ""}
    target = node["_target_"]
    if isinstance(target, str) and target.startswith(HF_PREFIX):
        name: str | None = HF_PREFIX + target[len(HF_PREFIX) :].removeprefix("optimization.")
    else:
        name = class_name(ctx, target, f"{key}._target_", SCHEDULER_MODULES, "scheduler")
    ctx.at(native, key)
    ctx.at(f"{native}.type", f"{key}._target_")
    kwargs = _kwargs(ctx, data, node, key, native, skip=("optimizer", "schedulers"))
    out: dict[str, Any] = {"type": name or "", **kwargs}
    children = node.get("schedulers")
    if children is not None:
        ckey = f"{key}.schedulers"
        ctx.at(f"{native}.schedulers", ckey)
        if not isinstance(children, list):
            ctx.problem(ckey, "expected a list of _target_ nodes")
        else:
            out["schedulers"] = [
                scheduler(ctx, data, c, f"{ckey}[{i}]", f"{native}.schedulers[{i}]")
                for i, c in enumerate(children)
            ]
    return out


def _kwargs(
    ctx: Ctx,
    data: dict[str, Any],
    node: dict[str, Any],
    key: str,
    native: str,
    skip: tuple[str, ...],
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in node.items():
        if name in META_KEYS or name in skip:
            continue
        if name == "_args_":
            ctx.problem(f"{key}._args_", "positional _args_ are not supported; name each argument")
            continue
        out[str(name)] = resolve(ctx, data, value, f"{key}.{name}")
        ctx.at(f"{native}.{name}", f"{key}.{name}")
    return out


def resolve(ctx: Ctx, data: dict[str, Any], value: Any, key: str, depth: int = 0) -> Any:
    """A value with OmegaConf's absolute `${a.b}` interpolations looked up in the config."""
    if isinstance(value, list):
        return [resolve(ctx, data, v, f"{key}[{i}]", depth) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value
    match = _INTERPOLATION.match(value.strip())
    if match is None or depth > 10:
        ctx.problem(
            key, f"cannot resolve {value!r}: lrviz follows only whole-value ${{a.b.c}} references"
        )
        return value
    node: Any = data
    for part in match.group(1).split("."):
        if not isinstance(node, dict) or part not in node:
            ctx.problem(
                key, f"{value!r} refers to {match.group(1)!r}, which the config does not set"
            )
            return value
        node = node[part]
    return resolve(ctx, data, node, key, depth + 1)
