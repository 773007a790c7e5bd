"""LightningCLI configs: `optimizer:`/`lr_scheduler:` as {class_path, init_args} -> native data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import (
    OPTIMIZER_MODULES,
    SCHEDULER_MODULES,
    Ctx,
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
NODE_KEYS = ("class_path", "init_args", "dict_kwargs")
# LightningCLI's subcommands; a config may nest its sections under one of them (`fit:`).
SUBCOMMANDS = ("fit", "validate", "test", "predict")
# Sections of a LightningCLI config that are never an optimizer or a scheduler.
SECTIONS = ("trainer", "model", "data", "seed_everything", "ckpt_path")


@dataclass
class Found:
    """An optimizer or scheduler entry of the config: where it is and what it holds."""

    key: str  # the user's key path
    value: Any
    cli: bool  # a parser-level key (optimizer:, lr_scheduler:, or a project's nested key)
    holder: dict[str, Any]  # the mapping that holds it (for sibling interval/frequency keys)
    holder_key: str


@dataclass
class Stepped:
    """One of Lightning's LRSchedulerConfig: a scheduler node and when the loop steps it."""

    node: Any
    key: str  # the node's user key path
    interval: str | None = None  # "step" or "epoch"; None when the config does not say
    interval_key: str | None = None
    frequency: int = 1
    frequency_key: str | None = None
    monitor: Any = None
    plateau: bool = False
    inline: bool = False  # the config keys sit in the node itself, next to class_path
    wrapped: bool = False  # in the {scheduler: ...} shape: Lightning's defaults apply


def convert(data: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    """Native spec data from a LightningCLI config (trainer.max_epochs -> run.epochs)."""
    level = _level(ctx, data)
    if level is None:
        return {}
    root, prefix = level
    native: dict[str, Any] = {}
    opts = find(root, prefix, "optim")
    scheds = find(root, prefix, "sched")
    chosen = _choose(ctx, opts, scheds, prefix)
    if chosen is None:
        return native
    opt, sched = chosen
    if opt is not None:
        native["optimizer"] = optimizer(ctx, opt.value, opt.key, fixed=opt.cli)
    else:
        ctx.notes.append(
            "no optimizer in the config (the LightningModule makes it): showing SGD lr=0.1; "
            "the schedule's shape does not depend on it"
        )
    configs = steppings(ctx, sched.value, sched.key, _plain)
    if not sched.cli and len(configs) == 1 and configs[0].interval_key is None:
        _siblings(ctx, configs[0], sched)
    # The parser-level lr_scheduler goes through LightningCLI.configure_optimizers, which
    # returns it without an interval: Lightning's default, epoch (lightning/pytorch/cli.py).
    default = "epoch" if sched.cli else None

    def build(s: Stepped, native_key: str) -> dict[str, Any]:
        fixed = sched.cli and s.key == sched.key
        return scheduler(ctx, s.node, s.key, native_key, fixed=fixed, config=s.inline)

    trainer = root.get("trainer")
    accumulate = trainer.get("accumulate_grad_batches") if isinstance(trainer, dict) else None
    step = place(ctx, native, configs, build, default, accumulate)
    if step is None and isinstance(native.get("scheduler"), dict):
        unstated(ctx, native["scheduler"], sched.key)
    native["run"] = trainer_run(ctx, root, step, prefix=prefix)
    if isinstance(native.get("scheduler"), list):
        native["run"].pop("step", None)  # each member has its own
    return native


def _level(ctx: Ctx, data: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    """The config's sections, and the key prefix they sit under (`fit.` when nested)."""
    subs = [s for s in SUBCOMMANDS if isinstance(data.get(s), dict)]
    if not subs:
        return data, ""
    if "fit" in subs:
        return data["fit"], "fit."
    ctx.problem(
        subs[0],
        f"this config is for `{subs[0]}`, which does not train: lrviz shows the schedule "
        f"that `fit` runs (a fit: section)",
    )
    return None


def find(root: dict[str, Any], prefix: str, word: str) -> list[Found]:
    """Entries whose key names an optimizer ("optim") or a scheduler ("sched").

    Parser-level keys (LightningCLI's optimizer/lr_scheduler, or a project's own nested keys
    such as optimizer_init) count in any form; a model's arguments only as a class node.
    """
    found = [
        Found(f"{prefix}{k}", v, True, root, prefix.rstrip("."))
        for k, v in root.items()
        if isinstance(k, str) and word in k.lower() and k not in SECTIONS and _cli_entry(v)
    ]
    model = root.get("model")
    if isinstance(model, dict):
        args = model.get("init_args")
        for holder, base in ((args, f"{prefix}model.init_args"), (model, f"{prefix}model")):
            if not isinstance(holder, dict):
                continue
            for k, v in holder.items():
                if isinstance(k, str) and word in k.lower() and _model_entry(v):
                    found.append(Found(f"{base}.{k}", v, False, holder, base))
    return found


def _cli_entry(value: Any) -> bool:
    """A parser-level value that can be a class: a node, a class name, a list, or null."""
    if isinstance(value, str):
        return value[:1].isupper() or ("." in value and " " not in value)
    return value is None or isinstance(value, (dict, list))


def _model_entry(value: Any) -> bool:
    """A model argument that is an optimizer/scheduler: a class node, a dotted name, or null."""
    if value is None:
        return True
    if isinstance(value, str):
        return "." in value and " " not in value
    if isinstance(value, list):
        return bool(value) and all(_model_entry(v) and v is not None for v in value)
    return isinstance(value, dict) and (
        "class_path" in value or "_target_" in value or isinstance(value.get("scheduler"), dict)
    )


def _plain(node: Any) -> bool:
    """Whether a mapping is a scheduler node itself (not the {scheduler: ...} config shape)."""
    return isinstance(node, dict) and ("class_path" in node or "scheduler" not in node)


def _choose(
    ctx: Ctx, opts: list[Found], scheds: list[Found], prefix: str
) -> tuple[Found | None, Found] | None:
    """The optimizer and scheduler LightningCLI uses, or None after a problem.

    LightningCLI's configure_optimizers replaces the model's whenever the parser-level
    `optimizer` is set, and uses `lr_scheduler` only together with it
    (LightningCLI._add_configure_optimizers_method_to_model).
    """
    cli_s = [f for f in scheds if f.cli and f.value is not None]
    model_s = [f for f in scheds if not f.cli and f.value is not None]
    cli_o = [f for f in opts if f.cli and f.value is not None]
    model_o = [f for f in opts if not f.cli and f.value is not None]
    for group, kind in ((cli_s, "schedulers"), (cli_o, "optimizers")):
        if len(group) > 1:
            _several(ctx, group, kind)
            return None
    auto_opt = next((f for f in cli_o if f.key == f"{prefix}optimizer"), None)
    opt_null = next((f for f in opts if f.cli and f.value is None), None)
    if cli_s:
        sched = cli_s[0]
        if not cli_o and opt_null is not None:
            ctx.problem(
                opt_null.key,
                f"optimizer is null, and LightningCLI's configure_optimizers uses "
                f"{sched.key} only together with an optimizer (otherwise the model's own "
                f"configure_optimizers runs): pass --set {opt_null.key}.class_path="
                f"torch.optim.NAME",
            )
            return None
        for other in model_s:
            ctx.notes.append(
                f"{other.key} is not used: LightningCLI replaces the model's "
                f"configure_optimizers when {prefix}optimizer is set"
            )
        return (cli_o[0] if cli_o else model_o[0] if len(model_o) == 1 else None), sched
    if len(model_s) > 1:
        _several(ctx, model_s, "schedulers")
        return None
    nulls = [f for f in scheds if f.value is None]
    if model_s:
        sched = model_s[0]
        if auto_opt is not None:
            ctx.problem(
                sched.key,
                f"{auto_opt.key} is set, so LightningCLI replaces the model's "
                f"configure_optimizers and this scheduler is not used (the config has no "
                f"{prefix}lr_scheduler); pass --set {auto_opt.key}=null if the model takes "
                f"its optimizer from its own arguments",
            )
            return None
        if len(model_o) > 1:
            _several(ctx, model_o, "optimizers")
            return None
        return (cli_o[0] if cli_o else model_o[0] if model_o else None), sched
    if nulls:
        ctx.problem(
            nulls[0].key,
            "this config has no scheduler (null): the lr stays at the optimizer's for the "
            "whole run, so there is no schedule to show",
        )
        return None
    ctx.problem(
        None,
        "no lr_scheduler found: a LightningCLI config names it as "
        "lr_scheduler: {class_path: torch.optim.lr_scheduler.StepLR, init_args: {...}}",
    )
    return None


def _several(ctx: Ctx, found: list[Found], kind: str) -> None:
    keys = ", ".join(f.key for f in found)
    ctx.problem(
        found[1].key,
        f"several {kind} ({keys}) and lrviz shows one schedule: keep one, e.g. "
        f"--set {found[1].key}=null",
    )


def steppings(
    ctx: Ctx,
    value: Any,
    key: str,
    is_node: Callable[[Any], bool],
    read: Callable[[Any, str], Any] = lambda v, k: v,
) -> list[Stepped]:
    """Lightning's LRSchedulerConfig entries in a value: a node, the dict shape, or a list.

    `is_node` tells a scheduler node from the {scheduler: node, interval: ...} shape that
    configure_optimizers returns; `read` resolves a value at a key path (Hydra's ${...}).
    """
    items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
    if isinstance(value, list) and not value:
        ctx.problem(key, "expected a scheduler or a list of schedulers, got an empty list")
    out = []
    for i, item in items:
        k = key if i is None else f"{key}[{i}]"
        if isinstance(item, dict) and not is_node(item):
            unknown(ctx, item, k, ("scheduler", *CONFIG_KEYS))
            s = Stepped(item["scheduler"], f"{k}.scheduler", wrapped=True)
            _config(ctx, s, item, k, read)
        else:
            s = Stepped(item, k, inline=isinstance(item, dict))
            if isinstance(item, dict):
                _config(ctx, s, item, k, read)
        out.append(s)
    return out


def _config(
    ctx: Ctx, s: Stepped, config: dict[str, Any], key: str, read: Callable[[Any, str], Any]
) -> None:
    """Read interval, frequency and monitor from an LRSchedulerConfig mapping."""
    if "interval" in config:
        interval = read(config["interval"], f"{key}.interval")
        if interval not in INTERVALS:
            ctx.problem(f"{key}.interval", f"expected step or epoch, got {interval!r}")
        else:
            s.interval, s.interval_key = interval, f"{key}.interval"
    if "frequency" in config:
        frequency = read(config["frequency"], f"{key}.frequency")
        if isinstance(frequency, bool) or not isinstance(frequency, int) or frequency < 1:
            ctx.problem(f"{key}.frequency", f"expected a whole number >= 1, got {frequency!r}")
        else:
            s.frequency, s.frequency_key = frequency, f"{key}.frequency"
    if config.get("monitor") is not None:
        s.monitor = read(config["monitor"], f"{key}.monitor")


def _siblings(ctx: Ctx, s: Stepped, found: Found) -> None:
    """A model's own `interval`/`frequency` arguments next to its scheduler argument.

    Projects pass them on as the LRSchedulerConfig keys of the same names; lrviz reads them
    so and says so (a model that ignores them would step per epoch, Lightning's default).
    """
    present = [k for k in ("interval", "frequency", "monitor") if k in found.holder]
    if not present:
        return
    _config(ctx, s, found.holder, found.holder_key, lambda v, k: v)
    keys = ", ".join(f"{found.holder_key}.{k}" for k in present)
    ctx.notes.append(f"{keys}: the model's arguments, read as Lightning's LRSchedulerConfig keys")


def place(
    ctx: Ctx,
    native: dict[str, Any],
    configs: list[Stepped],
    build: Callable[[Stepped, str], dict[str, Any]],
    default: str | None,
    accumulate: Any,
) -> str | None:
    """Put Lightning's scheduler configs into native data; return the run's step mode.

    One config stepped every interval is a plain `scheduler:`; several, or a frequency,
    make a scheduler list (docs/spec.md) whose members step as Lightning's fit loop does
    (TrainingEpochLoop.update_lr_schedulers): after each batch that steps the optimizer, the
    `step` ones whose frequency divides the batch number (counted from 1 in every epoch);
    after the epoch's last batch, the `epoch` ones whose frequency divides the epoch number;
    ReduceLROnPlateau ones after the others of their interval.
    """
    if not configs:
        return None
    accumulate = accumulate if isinstance(accumulate, int) and accumulate > 1 else 1
    for s in configs:
        s.plateau = _is_plateau(s.node)
    if len(configs) == 1 and configs[0].frequency == 1:
        s = configs[0]
        native["scheduler"] = build(s, "scheduler")
        _monitor(ctx, s)
        if s.interval_key is not None:
            ctx.at("run.step", s.interval_key)
        if s.interval:
            return INTERVALS[s.interval]
        # The {scheduler: ...} shape is what configure_optimizers returns: Lightning's
        # default interval, epoch (LRSchedulerConfig); a bare node's is the model's to say.
        return "epoch" if s.wrapped else default
    if not _list_allowed(ctx, configs):
        native["scheduler"] = {"type": ""}
        return None
    # Lightning steps step-interval configs, then epoch-interval ones, then the plateau ones
    # of each interval after validation: the list order lrviz's loop follows.
    rank = {(False, "step"): 0, (True, "step"): 1, (False, "epoch"): 2, (True, "epoch"): 3}
    ordered = sorted(configs, key=lambda c: rank[(c.plateau, c.interval or default or "epoch")])
    members = []
    for i, s in enumerate(ordered):
        interval = s.interval or default or "epoch"
        member = build(s, f"scheduler[{i}]")
        member["step"] = INTERVALS[interval]
        if s.interval_key is not None:
            ctx.at(f"scheduler[{i}].step", s.interval_key)
        frequency = s.frequency
        if interval == "step" and accumulate > 1:
            if frequency % accumulate:
                ctx.problem(
                    s.frequency_key,
                    f"frequency {frequency} with accumulate_grad_batches {accumulate}: "
                    f"Lightning counts frequency in batches and steps the scheduler only on "
                    f"batches that step the optimizer; lrviz follows this when the frequency "
                    f"is a multiple of the accumulation",
                )
            frequency = max(1, frequency // accumulate)  # in optimizer steps
        if frequency != 1:
            member["frequency"] = frequency
            if s.frequency_key is not None:
                ctx.at(f"scheduler[{i}].frequency", s.frequency_key)
        _monitor(ctx, s)
        members.append(member)
    native["scheduler"] = members
    if ctx.horizon.step is not None:
        ctx.problem(
            None,
            f"--step {ctx.horizon.step} sets one interval, and this config's schedulers each "
            f"have their own (interval, frequency): leave --step out",
        )
    return "batch" if any(m["step"] == "batch" for m in members) else "epoch"


def _list_allowed(ctx: Ctx, configs: list[Stepped]) -> bool:
    plateaus = [c for c in configs if c.plateau]
    if len(plateaus) > 1:
        ctx.problem(
            plateaus[1].key,
            "several ReduceLROnPlateau schedulers: lrviz replays one metric (run.metrics)",
        )
        return False
    # Lightning steps a step-interval plateau after the epoch-interval schedulers of the
    # epoch's last batch, an order a scheduler list cannot express.
    step_plateau = any(c.plateau and c.interval == "step" for c in configs)
    if step_plateau and any(not c.plateau and c.interval != "step" for c in configs):
        ctx.problem(
            plateaus[0].key,
            "a ReduceLROnPlateau stepped per step next to schedulers stepped per epoch: "
            "Lightning steps it after them at the end of an epoch, which lrviz cannot "
            "reproduce",
        )
        return False
    return True


def unstated(ctx: Ctx, native: dict[str, Any], key: str) -> None:
    """Say when the interval is in the model's code and lrviz shows torch's documented use."""
    from .. import catalog

    types = [str(native.get("type", ""))]
    types += [str(c.get("type", "")) for c in native.get("schedulers", [])]
    per_batch = [t for t in types if t in catalog.PER_BATCH]
    if per_batch and ctx.horizon.step is None:
        ctx.notes.append(
            f"{key} does not say when it steps (the model's configure_optimizers does): "
            f"showing it per batch, as torch documents {per_batch[0]}; pass --step epoch if "
            f"the model returns interval: epoch (Lightning's default)"
        )


def _is_plateau(node: Any) -> bool:
    path = node.get("class_path") if isinstance(node, dict) else node
    if isinstance(node, dict) and "_target_" in node:
        path = node["_target_"]
    if not isinstance(path, str):
        return False
    return path in PLATEAU_PATHS or path.rsplit(".", 1)[-1] == "ReduceLROnPlateau"


def _monitor(ctx: Ctx, s: Stepped) -> None:
    if s.monitor is not None and s.plateau:  # Lightning reads monitor only for these
        ctx.notes.append(f"monitor: {s.monitor} (give its values with run.metrics)")


def optimizer(ctx: Ctx, node: Any, key: str, *, fixed: bool = False) -> dict[str, Any]:
    """A native optimizer mapping from {class_path, init_args}, a class name, or its arguments.

    `fixed`: a parser-level key, which LightningCLI's add_optimizer_args(SomeClass) saves
    without a class_path; the class is then inferred where only one torch class fits.
    """
    path, init, init_key = _parts(ctx, node, key, ())
    if path is None and fixed and isinstance(node, dict):
        path = infer(ctx, init, key, "optimizer")
        if path is None:
            return {"type": "SGD", "lr": 0.1}
    name = class_name(ctx, path, f"{key}.class_path", OPTIMIZER_MODULES, "optimizer")
    ctx.at("optimizer", init_key)
    ctx.at("optimizer.type", f"{key}.class_path" if isinstance(node, dict) else key)
    kwargs = kwargs_node(ctx, init, init_key, "optimizer", skip=("params",))
    out: dict[str, Any] = {"type": name or "SGD", **kwargs}
    fill_lr(ctx, out)
    return out


def _parts(
    ctx: Ctx, node: Any, key: str, extra: tuple[str, ...]
) -> tuple[Any, dict[str, Any] | None, str]:
    """(class path, constructor arguments, their key path) of a node.

    Arguments sit in init_args, or (jsonargparse accepts both, and a fixed-class config has
    no class_path at all) next to class_path.
    """
    if isinstance(node, str):
        return node, None, key
    if not isinstance(node, dict):
        return None, None, key
    if "init_args" in node:
        unknown(ctx, node, key, NODE_KEYS + extra)
        init = node["init_args"]
        return node.get("class_path"), init, f"{key}.init_args"
    flat = {k: v for k, v in node.items() if k not in NODE_KEYS + extra}
    return node.get("class_path"), flat, key


def infer(ctx: Ctx, init: Any, key: str, kind: str) -> str | None:
    """The one torch class that accepts every argument of a node saved without class_path."""
    from .. import catalog

    table = catalog.optimizers() if kind == "optimizer" else catalog.schedulers()
    given = sorted(str(k) for k in (init or {}))
    fits = [
        name
        for name, info in table.items()
        if set(given) <= {p.name for p in info.params} and not info.composite
    ]
    module = "torch.optim" if kind == "optimizer" else "torch.optim.lr_scheduler"
    if kind != "optimizer" and "monitor" in given:
        # Only LightningCLI's ReduceLROnPlateau subclass takes the monitored metric.
        plateau = {p.name for p in table["ReduceLROnPlateau"].params} | {"monitor"}
        fits = ["ReduceLROnPlateau"] if set(given) <= plateau else []
    shown = ", ".join(given[:6]) + (", ..." if len(given) > 6 else "") or "none"
    if len(fits) == 1:
        ctx.notes.append(
            f"{key} has no class_path (a fixed-class add_{_what(kind)}_args config): "
            f"{module}.{fits[0]} is the only torch {kind} class that takes all of its "
            f"arguments ({shown})"
        )
        return f"{module}.{fits[0]}"
    which = (
        f"{len(fits)} torch {kind} classes take all of its arguments ({', '.join(fits[:5])})"
        if fits
        else f"no torch {kind} class takes all of its arguments ({shown})"
    )
    ctx.problem(
        key,
        f"no class_path, and {which}: lrviz does not guess; pass "
        f"--set {key}.class_path={module}.NAME",
    )
    return None


def _what(kind: str) -> str:
    return "optimizer" if kind == "optimizer" else "lr_scheduler"


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


def scheduler(
    ctx: Ctx, node: Any, key: str, native: str, *, fixed: bool = False, config: bool = False
) -> dict[str, Any]:
    """A native scheduler mapping from {class_path, init_args}; children inline.

    `config`: the node is also its LRSchedulerConfig (interval, frequency, ... beside it).
    """
    if not isinstance(node, (str, dict)):
        ctx.problem(key, f"expected {{class_path: ..., init_args: ...}}, got {node!r}")
        return {"type": ""}
    path, init, init_key = _parts(ctx, node, key, CONFIG_KEYS if config else ())
    if path is None and fixed and isinstance(node, dict):
        path = infer(ctx, init, key, "scheduler")
        if path is None:
            return {"type": ""}
    plateau = path in PLATEAU_PATHS
    name = "ReduceLROnPlateau" if plateau else None
    name = name or class_name(ctx, path, f"{key}.class_path", SCHEDULER_MODULES, "scheduler")
    ctx.at(native, init_key)
    ctx.at(f"{native}.type", f"{key}.class_path" if isinstance(node, dict) else key)
    skip = ("optimizer", "schedulers", "monitor")
    kwargs = kwargs_node(ctx, init, init_key, native, skip=skip)
    if plateau and isinstance(init, dict) and init.get("monitor") is not None:
        ctx.notes.append(f"monitor: {init['monitor']} (give its values with run.metrics)")
    out: dict[str, Any] = {"type": name or "", **kwargs}
    children = init.get("schedulers") if isinstance(init, dict) else None
    if children is not None:
        ckey = f"{init_key}.schedulers"
        ctx.at(f"{native}.schedulers", ckey)
        if not isinstance(children, list):
            ctx.problem(ckey, "expected a list of {class_path, init_args} schedulers")
        else:
            out["schedulers"] = [
                scheduler(ctx, c, f"{ckey}[{i}]", f"{native}.schedulers[{i}]")
                for i, c in enumerate(children)
            ]
    return out
