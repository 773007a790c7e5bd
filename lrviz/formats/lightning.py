"""LightningCLI configs: `optimizer:`/`lr_scheduler:` as {class_path, init_args} -> native data."""

from __future__ import annotations

from typing import Any

from . import (
    OPTIMIZER_KEYS,
    OPTIMIZER_MODULES,
    SCHEDULER_KEYS,
    SCHEDULER_MODULES,
    Ctx,
    candidates,
    class_name,
    kwargs_node,
    trainer_run,
    unknown,
)

# LightningCLI's own ReduceLROnPlateau subclass takes the monitored metric as an init arg.
PLATEAU_PATHS = (
    "lightning.pytorch.cli.ReduceLROnPlateau",
    "pytorch_lightning.cli.ReduceLROnPlateau",
)
# The keys of Lightning's LRSchedulerConfig that may sit next to the scheduler.
CONFIG_KEYS = ("interval", "frequency", "monitor", "name", "strict", "reduce_on_plateau")
INTERVALS = {"step": "batch", "epoch": "epoch"}


def convert(data: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    """Native spec data from a LightningCLI config (trainer.max_epochs -> run.epochs)."""
    native: dict[str, Any] = {}
    opt = _first(data, OPTIMIZER_KEYS)
    if opt is not None:
        native["optimizer"] = optimizer(ctx, opt[1], opt[0])
    else:
        ctx.notes.append(
            "no optimizer in the config (the LightningModule makes it): showing SGD lr=0.1; "
            "the schedule's shape does not depend on it"
        )
    found = _first(data, SCHEDULER_KEYS)
    if found is None:
        ctx.problem(
            None,
            "no lr_scheduler found: a LightningCLI config names it as "
            "lr_scheduler: {class_path: torch.optim.lr_scheduler.StepLR, init_args: {...}}",
        )
        return native
    config_key, node = found
    key = config_key
    config: dict[str, Any] = node if isinstance(node, dict) else {}
    if isinstance(node, dict) and "class_path" not in node and "scheduler" in node:
        key, node = f"{key}.scheduler", node["scheduler"]  # the configure_optimizers dict shape
        unknown(ctx, config, config_key, ("scheduler", *CONFIG_KEYS))
    native["scheduler"] = scheduler(ctx, node, key, "scheduler", top=key == config_key)
    step = _config(ctx, config, config_key)
    native["run"] = trainer_run(ctx, data, step)
    return native


def _first(data: dict[str, Any], names: tuple[str, ...]) -> tuple[str, Any] | None:
    found = list(candidates(data, names))
    for key, node in found:
        if isinstance(node, dict) and ("class_path" in node or "scheduler" in node):
            return key, node
    return next(((k, n) for k, n in found if isinstance(n, str)), None)


def _config(ctx: Ctx, config: dict[str, Any], key: str) -> str | None:
    """The LRSchedulerConfig keys: interval -> step mode; frequency must be 1."""
    step = None
    interval = config.get("interval")
    if interval is not None:
        if interval not in INTERVALS:
            ctx.problem(f"{key}.interval", f"expected step or epoch, got {interval!r}")
        else:
            step = INTERVALS[interval]
            ctx.at("run.step", f"{key}.interval")
    frequency = config.get("frequency", 1)
    if frequency != 1:
        ctx.problem(
            f"{key}.frequency",
            f"frequency {frequency!r}: lrviz steps the scheduler once per {interval or 'epoch'} "
            f"(frequency: 1); other frequencies are not supported",
        )
    if config.get("monitor") is not None:
        ctx.notes.append(f"monitor: {config['monitor']} (give its values with run.metrics)")
    return step


def optimizer(ctx: Ctx, node: Any, key: str) -> dict[str, Any]:
    """A native optimizer mapping from {class_path, init_args} (or a bare class name)."""
    path, init = (node, None) if isinstance(node, str) else (node.get("class_path"), None)
    if isinstance(node, dict):
        unknown(ctx, node, key, ("class_path", "init_args", "dict_kwargs"))
        init = node.get("init_args")
    name = class_name(ctx, path, f"{key}.class_path", OPTIMIZER_MODULES, "optimizer")
    ctx.at("optimizer", f"{key}.init_args")
    ctx.at("optimizer.type", f"{key}.class_path" if isinstance(node, dict) else key)
    kwargs = kwargs_node(ctx, init, f"{key}.init_args", "optimizer", skip=("params",))
    out: dict[str, Any] = {"type": name or "SGD", **kwargs}
    fill_lr(ctx, out)
    return out


def fill_lr(ctx: Ctx, opt: dict[str, Any]) -> None:
    """An optimizer the config leaves at its default lr gets torch's default, not lrviz's."""
    if "lr" in opt:
        return
    from .. import catalog

    try:
        info = catalog.find("optimizer", str(opt["type"]), catalog.optimizers())
    except KeyError:
        return  # build reports the unknown class
    param = info.param("lr")
    if param is not None and isinstance(param.default, (int, float)):
        opt["lr"] = float(param.default)
        ctx.notes.append(f"optimizer lr not set: {info.name}'s default {param.default:g}")


def scheduler(ctx: Ctx, node: Any, key: str, native: str, *, top: bool = False) -> dict[str, Any]:
    """A native scheduler mapping from {class_path, init_args}; children inline."""
    path: Any
    init: Any
    if isinstance(node, str):
        path, init = node, None
    elif isinstance(node, dict):
        allowed = ("class_path", "init_args", "dict_kwargs") + (CONFIG_KEYS if top else ())
        unknown(ctx, node, key, allowed)
        path, init = node.get("class_path"), node.get("init_args")
    else:
        ctx.problem(key, f"expected {{class_path: ..., init_args: ...}}, got {node!r}")
        return {"type": ""}
    plateau = path in PLATEAU_PATHS
    name = "ReduceLROnPlateau" if plateau else None
    name = name or class_name(ctx, path, f"{key}.class_path", SCHEDULER_MODULES, "scheduler")
    ctx.at(native, f"{key}.init_args")
    ctx.at(f"{native}.type", f"{key}.class_path" if isinstance(node, dict) else key)
    skip = ("optimizer", "schedulers", "monitor")
    kwargs = kwargs_node(ctx, init, f"{key}.init_args", native, skip=skip)
    if plateau and isinstance(init, dict) and init.get("monitor") is not None:
        ctx.notes.append(f"monitor: {init['monitor']} (give its values with run.metrics)")
    out: dict[str, Any] = {"type": name or "", **kwargs}
    children = init.get("schedulers") if isinstance(init, dict) else None
    if children is not None:
        ckey = f"{key}.init_args.schedulers"
        ctx.at(f"{native}.schedulers", ckey)
        if not isinstance(children, list):
            ctx.problem(ckey, "expected a list of {class_path, init_args} schedulers")
        else:
            out["schedulers"] = [
                scheduler(ctx, c, f"{ckey}[{i}]", f"{native}.schedulers[{i}]")
                for i, c in enumerate(children)
            ]
    return out
