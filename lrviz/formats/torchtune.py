"""torchtune recipe configs (`_component_`) -> native data; torchtune's own scheduler function.

The run follows torchtune's fine-tuning recipes (pytorch/torchtune v0.6.1, commit a6290a5;
the same in every release from v0.1 to main): `recipes/lora_finetune_single_device.py` lines
328-344 and `full_finetune_single_device.py` lines 324-337 compute

    steps_per_epoch = len(dataloader) // gradient_accumulation_steps   # floor
    if max_steps_per_epoch is not None and max_steps_per_epoch < steps_per_epoch:
        steps_per_epoch = max_steps_per_epoch
    lr_scheduler = instantiate(cfg.lr_scheduler, optimizer,
                               num_training_steps=epochs * steps_per_epoch, last_epoch=-1)

and step it right after every `optimizer.step()` (lines 716-718; 709 steps the optimizer on
every gradient_accumulation_steps-th batch, 772-775 end the epoch after max_steps_per_epoch
steps). So a row is one optimizer step and an epoch has `steps_per_epoch` rows; batches left
over by the floor train without a step of their own. The DPO, distillation, QAT and
distributed recipes count the same way.

The scheduler is torchtune's own `get_cosine_schedule_with_warmup` (a torch LambdaLR), called
from the installed torchtune: the provider part of this module (`PREFIX`, `check_node`,
`build_node`).
"""

from __future__ import annotations

import importlib.metadata
import inspect
import logging
import math
import warnings
from typing import TYPE_CHECKING, Any

from ..errors import Problem, SpecError, did_you_mean

if TYPE_CHECKING:
    from ..catalog import ClassInfo
    from ..spec import SchedulerSpec, Spec
    from . import Ctx

PREFIX = "torchtune."
INSTALL = "pip install 'lrviz[torchtune]'"
MODULE = "torchtune.training.lr_schedulers"
COSINE = f"{MODULE}.get_cosine_schedule_with_warmup"
# The scheduler functions torchtune ships (the only `_component_`s its recipes can call with
# num_training_steps=...), by the name lrviz uses -> the function's name in MODULE.
FUNCTIONS = {COSINE: "get_cosine_schedule_with_warmup"}
# Older names of the same function: torchtune.modules before v0.4 (deprecated in v0.4,
# removed in v0.5). Its body is unchanged since v0.1 (git diff v0.1.1 v0.6.1: annotations
# and comments only), so the installed function gives the numbers those releases gave.
ALIASES = {
    "torchtune.modules.get_cosine_schedule_with_warmup": COSINE,
    "torchtune.modules.lr_schedulers.get_cosine_schedule_with_warmup": COSINE,
    "torchtune.training.get_cosine_schedule_with_warmup": COSINE,  # re-exported, same object
}
# Arguments the recipes pass themselves: a config that also sets one makes instantiate fail.
RECIPE_ARGS = ("num_training_steps", "last_epoch")
COMPONENT = "_component_"
# Optimizers torchtune configs name that are AdamW with torch's AdamW lr and betas defaults
# (bitsandbytes' and torchao's low-memory variants): shown as torch.optim.AdamW.
ADAMW_LIKE = (
    "bitsandbytes.optim.AdamW",
    "bitsandbytes.optim.AdamW8bit",
    "bitsandbytes.optim.AdamW32bit",
    "bitsandbytes.optim.PagedAdamW",
    "bitsandbytes.optim.PagedAdamW8bit",
    "bitsandbytes.optim.PagedAdamW32bit",
    "torchao.optim.AdamW8bit",
    "torchao.optim.AdamW4bit",
    "torchao.optim.AdamWFp8",
    "torchao.prototype.low_bit_optim.AdamW8bit",
    "torchao.prototype.low_bit_optim.AdamW4bit",
    "torchao.prototype.low_bit_optim.AdamWFp8",
)
# Keyword arguments of those that torch's AdamW does not take (memory and paging options).
_LOW_MEMORY_ARGS: tuple[str, ...] = (
    "optim_bits",
    "args",
    "min_8bit_size",
    "percentile_clipping",
    "block_wise",
    "is_paged",
    "block_size",
    "bf16_stochastic_round",
)
# Keys of PPO configs, whose recipe counts scheduler steps from its own rollout arithmetic.
PPO_KEYS = ("ppo_epochs", "ppo_batch_size")


# --- the config -> native data ----------------------------------------------------------------


def convert(data: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    """Native data whose scheduler is torchtune's function, as its recipes call it."""
    hz = ctx.horizon
    ppo = next((k for k in PPO_KEYS if k in data), None)
    if ppo is not None:
        ctx.problem(
            ppo,
            "a torchtune PPO config: its recipe counts scheduler steps from rollouts "
            "(num_steps, ppo_epochs, ppo_batch_size), which lrviz does not read; "
            "write a native spec",
        )
        return {}
    sched = data.get("lr_scheduler")
    if sched is None and data.get("optimizer") is None:
        ctx.problem(
            None,
            "this torchtune config has no optimizer and no lr_scheduler: it does not train "
            "(a generation or evaluation config?), so there is no schedule to show",
        )
        return {}
    if sched is None:
        lr = _optimizer_lr(data)
        constant = f" ({lr!r})" if lr is not None else ""
        ctx.problem(
            "lr_scheduler" if "lr_scheduler" in data else None,
            f"this torchtune config has no lr_scheduler: the full fine-tuning recipes then "
            f"keep the optimizer's lr{constant} constant (the LoRA recipes require one), so "
            f"there is no schedule to show",
        )
        return {}
    scheduler = _scheduler(ctx, sched)
    optimizer = _optimizer(ctx, data.get("optimizer"))
    epochs = hz.epochs if hz.epochs is not None else _count(ctx, data, "epochs", minimum=1)
    accumulate = _count(ctx, data, "gradient_accumulation_steps", minimum=1)
    cap = _count(ctx, data, "max_steps_per_epoch", minimum=1, nullable=True)
    if ctx.problems or scheduler is None or optimizer is None:
        return {}
    assert epochs is not None and accumulate is not None
    if hz.step not in (None, "batch"):
        ctx.problem(
            None,
            f"torchtune's recipes step the scheduler after every optimizer step; "
            f"--step {hz.step} would show another loop: drop --step",
        )
        return {}
    if hz.iters is None:
        ctx.problem(
            "gradient_accumulation_steps",
            "torchtune's recipes take len(dataloader) // gradient_accumulation_steps optimizer "
            "steps per epoch, and the config does not say how many batches the dataloader "
            "has: pass --iters N (the len() of the train dataloader)",
        )
        return {}
    batches = hz.iters
    per_epoch = batches // accumulate
    split = f"{batches:,} batches // {accumulate} accumulation" if accumulate > 1 else ""
    if per_epoch == 0:
        ctx.problem(
            "gradient_accumulation_steps",
            f"{split} = 0 optimizer steps per epoch: the recipe would never step; "
            f"pass --iters N with at least {accumulate} batches",
        )
        return {}
    shape = f"{split} = {per_epoch:,}" if split else f"{per_epoch:,}"
    capped = ""
    if cap is not None and cap < per_epoch:
        capped = f", capped at max_steps_per_epoch {cap:,}"
        per_epoch = cap
        ctx.at("run.iters_per_epoch", "max_steps_per_epoch")
    else:
        ctx.at("run.iters_per_epoch", "gradient_accumulation_steps")
    total = epochs * per_epoch
    plural = "s" if epochs != 1 else ""
    ctx.notes.append(
        f"torchtune: {epochs} epoch{plural} × {shape} optimizer steps per epoch{capped} = "
        f"{total:,} scheduler steps (num_training_steps); the scheduler steps after every "
        f"optimizer step"
    )
    scheduler["num_training_steps"] = total
    ctx.at("scheduler.num_training_steps", "epochs")
    ctx.at("run.epochs", "epochs")
    run = {"epochs": epochs, "iters_per_epoch": per_epoch, "step": "batch"}
    return {"optimizer": optimizer, "scheduler": scheduler, "run": run}


def _optimizer_lr(data: dict[str, Any]) -> Any:
    opt = data.get("optimizer")
    return opt.get("lr") if isinstance(opt, dict) else None


def _scheduler(ctx: Ctx, node: Any) -> dict[str, Any] | None:
    """The lr_scheduler node as a native scheduler, or None after a problem."""
    if not isinstance(node, dict) or not isinstance(node.get(COMPONENT), str):
        ctx.problem(
            "lr_scheduler",
            f"expected a mapping with _component_: {COSINE}, got {_short(node)}",
        )
        return None
    component = node[COMPONENT].strip()
    name = ALIASES.get(component, component)
    if name not in FUNCTIONS:
        ctx.problem(
            f"lr_scheduler.{COMPONENT}",
            f"{component!r} is not one of torchtune's scheduler functions ({', '.join(FUNCTIONS)})"
            f"{did_you_mean(component, [*FUNCTIONS, *ALIASES])}; torchtune's recipes call it "
            f"with num_training_steps and last_epoch, and lrviz never imports a module a "
            f"config names",
        )
        return None
    if name != component:
        ctx.notes.append(
            f"torchtune: {component} is an older name of {name}, the same function "
            f"(unchanged since torchtune v0.1)"
        )
    out: dict[str, Any] = {"type": name}
    ctx.at("scheduler", "lr_scheduler")
    ctx.at("scheduler.type", f"lr_scheduler.{COMPONENT}")
    for key, value in node.items():
        if key == COMPONENT:
            continue
        where = f"lr_scheduler.{key}"
        if key in RECIPE_ARGS:
            ctx.problem(
                where,
                f"torchtune's recipes pass {key} themselves, so setting it here makes "
                f"instantiate fail ('got multiple values for keyword argument'); delete it",
            )
            continue
        if _interpolation(ctx, where, value):
            continue
        out[str(key)] = value
        ctx.at(f"scheduler.{key}", where)
    return out


def _optimizer(ctx: Ctx, node: Any) -> dict[str, Any] | None:
    """The optimizer node as a native optimizer, or None after a problem."""
    if not isinstance(node, dict) or not isinstance(node.get(COMPONENT), str):
        ctx.problem(
            "optimizer" if node is not None else None,
            f"expected optimizer: {{_component_: torch.optim.AdamW, lr: ...}}, got {_short(node)}",
        )
        return None
    component = node[COMPONENT].strip()
    kwargs = {str(k): v for k, v in node.items() if k != COMPONENT}
    if component.startswith("torch.optim.") and "." not in component[len("torch.optim.") :]:
        kind = component[len("torch.optim.") :]
    elif component in ADAMW_LIKE:
        kind = "AdamW"
        dropped = [k for k in kwargs if k in _LOW_MEMORY_ARGS]
        kwargs = {k: v for k, v in kwargs.items() if k not in _LOW_MEMORY_ARGS}
        also = f" (without {', '.join(dropped)})" if dropped else ""
        ctx.notes.append(
            f"torchtune: {component} shown as torch.optim.AdamW{also}, whose lr and betas "
            f"defaults it shares; the schedule does not depend on the optimizer's memory format"
        )
    else:
        ctx.problem(
            f"optimizer.{COMPONENT}",
            f"{component!r} is not a torch.optim optimizer or an AdamW variant lrviz knows; "
            f"lrviz never imports a module a config names: pass "
            f"--set optimizer._component_=torch.optim.AdamW if it is AdamW-like",
        )
        return None
    out: dict[str, Any] = {"type": kind}
    ctx.at("optimizer", "optimizer")
    ctx.at("optimizer.type", f"optimizer.{COMPONENT}")
    for key, value in kwargs.items():
        where = f"optimizer.{key}"
        if _interpolation(ctx, where, value):
            continue
        out[key] = value
        ctx.at(f"optimizer.{key}", where)
    return out


def _interpolation(ctx: Ctx, where: str, value: Any) -> bool:
    """Whether `value` is an OmegaConf interpolation lrviz cannot read (and say so)."""
    if isinstance(value, str) and "${" in value:
        ctx.problem(
            where,
            "an OmegaConf interpolation, which lrviz does not resolve in torchtune configs: "
            f"pass --set {where}=VALUE",
        )
        return True
    return False


def _count(
    ctx: Ctx, data: dict[str, Any], key: str, *, minimum: int, nullable: bool = False
) -> int | None:
    """A whole-number top-level key the recipes read as cfg.<key> (so it must be present)."""
    if key not in data:
        fix = "null" if nullable else "N"
        flag = " or pass --epochs N" if key == "epochs" else ""
        ctx.problem(
            None,
            f"{key} is missing: torchtune's recipes read cfg.{key} and stop without it; "
            f"add {key}: {fix}{flag}{did_you_mean(key, [str(k) for k in data])}",
        )
        return None
    value = data[key]
    if value is None and nullable:
        return None
    if _interpolation(ctx, key, value):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        null = " or null" if nullable else ""
        ctx.problem(key, f"expected a whole number of at least {minimum}{null}, got {value!r}")
        return None
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- torchtune's scheduler functions as a scheduler type -------------------------------------


def _module() -> tuple[Any, str | None]:
    """(torchtune.training.lr_schedulers, None), or (None, why it cannot be imported)."""
    try:
        importlib.metadata.version("torchtune")
    except importlib.metadata.PackageNotFoundError:
        return None, None
    # Import-time notices of torchtune's dependencies (torchao logs "Detected no triton" on
    # every CPU machine) are not the schedule's warnings: silence them for the import only.
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import torchtune.training.lr_schedulers as module
    except ImportError as exc:  # torchtune imports torchao and its data stack at once
        text = " ".join(str(exc).split())
        return None, f"{type(exc).__name__}: {text}"
    finally:
        logging.disable(previous)
    return module, None


def not_installed(type_name: str, why: str | None) -> str:
    """The message for a torchtune schedule when torchtune is missing or does not import."""
    if why is None:
        return (
            f"{type_name} is torchtune's own schedule, and the torchtune package is not "
            f"installed; install lrviz's optional extra: {INSTALL}"
        )
    return (
        f"{type_name} is torchtune's own schedule, and the installed torchtune does not "
        f"import ({why}); {INSTALL} pins a torchtune and torchao that do"
    )


def _function(spec: Spec, node: SchedulerSpec, problems: list[Problem]) -> Any:
    """torchtune's function for a node, or None after a problem."""
    name = ALIASES.get(node.type, node.type)
    if name not in FUNCTIONS:
        names = [*FUNCTIONS, *ALIASES]
        problems.append(
            spec.problem(
                f"{node.key}.type",
                f"{node.type!r} is not one of torchtune's scheduler functions"
                f"{did_you_mean(node.type, names)} (one of: {', '.join(FUNCTIONS)})",
            )
        )
        return None
    module, why = _module()
    if module is None:
        problems.append(spec.problem(f"{node.key}.type", not_installed(node.type, why)))
        return None
    return getattr(module, FUNCTIONS[name])


def _params(fn: Any) -> list[inspect.Parameter]:
    return [
        p
        for p in inspect.signature(fn).parameters.values()
        if p.name not in ("optimizer", "last_epoch") and p.kind is not p.VAR_KEYWORD
    ]


def check_node(spec: Spec, node: SchedulerSpec, problems: list[Problem]) -> ClassInfo | None:
    """Check a torchtune schedule node; a ClassInfo for the plan, or None after a problem."""
    fn = _function(spec, node, problems)
    if fn is None:
        return None
    params = _params(fn)
    names = [p.name for p in params]
    for key, value in node.kwargs.items():
        if key not in names:
            problems.append(
                spec.problem(
                    f"{node.key}.{key}",
                    f"unknown argument for {node.type}{did_you_mean(str(key), names)}"
                    f" (arguments: {', '.join(names)})",
                )
            )
        elif (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            problems.append(spec.problem(f"{node.key}.{key}", f"expected a number, got {value!r}"))
    for p in params:
        if p.default is p.empty and p.name not in node.kwargs:
            problems.append(
                spec.problem(node.key, f"{node.type} needs {p.name} (a number of steps)")
            )
    return _info(node.type, fn, params)


def _info(display: str, fn: Any, params: list[inspect.Parameter]) -> ClassInfo:
    import torch.optim.lr_scheduler as lr_scheduler

    from ..catalog import ClassInfo, Param

    found = tuple(
        Param(p.name, "", p.default is p.empty, None if p.default is p.empty else p.default, "")
        for p in params
    )
    summary = " ".join(inspect.cleandoc(fn.__doc__ or "").split("\n\n", 1)[0].split())
    # torchtune's schedules are torch LambdaLRs, stepped once per optimizer step.
    return ClassInfo(display, lr_scheduler.LambdaLR, found, summary, False, False, True)


def build_node(spec: Spec, node: SchedulerSpec, optimizer: Any) -> Any:
    """torchtune's own scheduler for a node, on lrviz's dummy optimizer."""
    problems: list[Problem] = []
    fn = _function(spec, node, problems)
    if fn is None:
        raise SpecError(problems)
    try:
        return fn(optimizer, **node.kwargs)
    except Exception as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise SpecError(
            [spec.problem(node.key, f"{node.type} rejected its arguments: {text}")]
        ) from exc
