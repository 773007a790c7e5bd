"""transformers TrainingArguments -> native data; transformers' own get_scheduler builds it.

The numbers Trainer derives from TrainingArguments changed between transformers releases, so
the conversion follows the *installed* release (read from its package metadata; transformers
is never imported for this):

- optimizer steps per epoch: floor(batches / accumulation) before 4.52, ceil from 4.52 on
  (Trainer then also steps on an epoch's last, partial accumulation group);
- warmup_steps: a whole number of steps before 5.0; from 5.0 a value below 1 is a ratio of the
  training steps (ceil), and 1 or more is int(warmup_steps);
- warmup_ratio: before 5.0 used when warmup_steps is 0 (ceil(total × ratio)); deprecated in
  5.0, where TrainingArguments copies it into warmup_steps; removed in 5.15 (TrainingArguments
  refuses it). lrviz reads a removed warmup_ratio with its 4.x meaning and says so.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import json
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import Problem, SpecError, did_you_mean

if TYPE_CHECKING:
    from ..catalog import ClassInfo
    from ..spec import SchedulerSpec, Spec
    from . import Ctx

HF_PREFIX = "transformers."
GET_SCHEDULER = "transformers.get_scheduler"
INSTALL = "pip install 'lrviz[hf]'"
# Schedules that step on evaluation metrics, which TrainingArguments cannot supply.
METRIC_DRIVEN = ("reduce_lr_on_plateau", "greedy")
# TrainingArguments defaults (transformers 4.30 .. 5.x agree on these; warmup_ratio is handled
# apart, because whether a file sets it at all matters from 5.0 on).
DEFAULTS: dict[str, Any] = {
    "learning_rate": 5e-5,
    "lr_scheduler_type": "linear",
    "num_train_epochs": 3.0,
    "max_steps": -1,
    "gradient_accumulation_steps": 1,
    "warmup_steps": 0,
    "warmup_ratio": 0.0,
    "weight_decay": 0.0,
    "adam_beta1": 0.9,
    "adam_beta2": 0.999,
    "adam_epsilon": 1e-8,
    "optim": "adamw_torch",
}
_OPTIMIZERS = {"sgd": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop"}
# Releases where Trainer's arithmetic changed (see the module docstring).
CEIL_PER_EPOCH = (4, 52)  # set_initial_training_values rounds steps per epoch up
FRACTIONAL_WARMUP = (5, 0)  # warmup_steps < 1 is a ratio; warmup_ratio deprecated
RATIO_REMOVED = (5, 15)  # TrainingArguments has no warmup_ratio
# The start of the note (and of LRV019's message) about a deprecated or removed warmup_ratio.
RATIO_NOTE = "hf: warmup_ratio "


@dataclass(frozen=True)
class Release:
    """The installed transformers release, as far as Trainer's step arithmetic goes."""

    text: str  # "5.24.0"
    major_minor: tuple[int, int]

    @property
    def ceil_per_epoch(self) -> bool:
        return self.major_minor >= CEIL_PER_EPOCH

    @property
    def fractional_warmup(self) -> bool:
        return self.major_minor >= FRACTIONAL_WARMUP


def installed() -> Release | None:
    """The installed transformers release (from package metadata), or None."""
    try:
        text = importlib.metadata.version("transformers")
    except importlib.metadata.PackageNotFoundError:
        return None
    match = re.match(r"(\d+)\.(\d+)", text)
    # An unparsable version string (a local build): assume the newest rules.
    return Release(text, (int(match[1]), int(match[2])) if match else (10**6, 0))


def is_hf_type(type_name: str) -> bool:
    """Whether a scheduler type names one of transformers' scheduler functions."""
    return type_name.startswith(HF_PREFIX)


def ratio_message(notes: list[str]) -> str | None:
    """The warmup_ratio deprecation/removal message among a converted spec's notes (LRV019)."""
    for note in notes:
        if note.startswith(RATIO_NOTE):
            return note.removeprefix("hf: ")
    return None


# --- TrainingArguments -> native data ------------------------------------------------------


def convert(data: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    """Native data whose scheduler is transformers.get_scheduler, as the installed Trainer
    calls it."""
    release = installed()
    args = {**DEFAULTS, **{k: v for k, v in data.items() if v is not None}}
    has_ratio = data.get("warmup_ratio") is not None
    hz = ctx.horizon
    lr = _number(ctx, args, "learning_rate", minimum=0.0)
    epochs_f = _number(ctx, args, "num_train_epochs", minimum=0.0)
    max_steps = _whole(ctx, args, "max_steps", minimum=None)
    accumulate = _whole(ctx, args, "gradient_accumulation_steps", minimum=1)
    warmup_steps = _warmup_steps(ctx, args, release)
    warmup_ratio = _number(ctx, args, "warmup_ratio", minimum=0.0, maximum=1.0)
    kind = args["lr_scheduler_type"]
    if not isinstance(kind, str):
        ctx.problem("lr_scheduler_type", f"expected a scheduler name such as cosine, got {kind!r}")
        kind = "linear"
    if kind in METRIC_DRIVEN:
        ctx.problem(
            "lr_scheduler_type",
            f"{kind} steps on evaluation metrics, which TrainingArguments do not contain; "
            f"write a native spec with ReduceLROnPlateau and run.metrics",
        )
    extra = _scheduler_kwargs(ctx, args.get("lr_scheduler_kwargs"))
    if release is None:  # the numbers depend on the release: refuse rather than guess one
        ctx.problem("lr_scheduler_type", not_installed(GET_SCHEDULER))
    if ctx.problems or release is None:
        return {}
    if hz.epochs is not None:
        epochs_f = float(hz.epochs)

    # Trainer.set_initial_training_values: optimizer steps per epoch (rounded as the installed
    # release rounds them), max_steps beats num_train_epochs.
    batches = hz.iters
    origin_total = "max_steps" if max_steps > 0 else "num_train_epochs"
    if batches is None and max_steps <= 0:
        ctx.problem(
            "num_train_epochs" if "num_train_epochs" in data else None,
            "num_train_epochs needs the number of batches per epoch to count optimizer steps: "
            "pass --iters N (the len() of the train dataloader)",
        )
        return {}
    if batches is None:  # max_steps alone: one pass of max_steps optimizer steps
        per_epoch, total, epochs = max_steps, max_steps, 1
        shape = f"max_steps = {total:,} optimizer steps (no --iters: shown as one epoch)"
    else:
        leftover = batches % accumulate
        per_epoch = max(batches // accumulate + int(release.ceil_per_epoch and leftover > 0), 1)
        split = f"{batches:,} batches / {accumulate} accumulation" if accumulate > 1 else ""
        rounded = ""
        if leftover and per_epoch > batches // accumulate:
            rounded = ", rounded up"
        elif leftover:
            # Before 4.52 the schedule counts floor(batches / accumulation) steps per epoch
            # while the leftover batches still train (carried into the next epoch's first
            # step before 4.47, stepped at the epoch's end from 4.47), so Trainer's own epoch
            # boundaries drift from the epoch column; every row's lr is still the one used.
            rounded = (
                f", rounded down; the {leftover:,} leftover batches still train, so Trainer's "
                f"epoch boundaries drift from the epoch column"
            )
        if max_steps > 0:
            total = max_steps
            epochs = -(-total // per_epoch)
            source = f"{split} = {per_epoch:,}" if split else f"{per_epoch:,}"
            shape = (
                f"max_steps = {total:,} optimizer steps at {source} per epoch{rounded} "
                f"({epochs} epochs)"
            )
        else:
            total = math.ceil(epochs_f * per_epoch)
            epochs = math.ceil(epochs_f)
            batches_text = split or f"{batches:,} batches"
            shape = (
                f"{epochs_f:g} epochs × {batches_text} = {total:,} optimizer steps "
                f"({per_epoch:,} per epoch{rounded})"
            )
    warmup, warm_text, warm_key, ratio_note = _warmup(
        release, warmup_steps, warmup_ratio, has_ratio, total
    )
    ctx.notes.append(f"hf (transformers {release.text}): {shape}; {warm_text}")
    if ratio_note:
        ctx.notes.append(f"hf: {ratio_note}")  # starts with RATIO_NOTE

    ctx.at("optimizer", "optim")
    ctx.at("optimizer.lr", "learning_rate")
    ctx.at("scheduler", "lr_scheduler_type")
    ctx.at("scheduler.type", "lr_scheduler_type")
    ctx.at("scheduler.name", "lr_scheduler_type")
    ctx.at("scheduler.scheduler_specific_kwargs", "lr_scheduler_kwargs")
    ctx.at("scheduler.num_warmup_steps", warm_key)
    ctx.at("scheduler.num_training_steps", origin_total)
    ctx.at("run.epochs", origin_total)
    ctx.at("run.steps", origin_total)
    ctx.at("run.iters_per_epoch", "gradient_accumulation_steps")
    run: dict[str, Any] = {
        "epochs": epochs,
        "iters_per_epoch": per_epoch,
        "step": hz.step or "batch",
    }
    if total < epochs * per_epoch:
        run["steps"] = total
    scheduler = {
        "type": GET_SCHEDULER,
        "name": kind,
        "num_warmup_steps": warmup,
        "num_training_steps": total,
        "scheduler_specific_kwargs": extra,
    }
    return {"optimizer": _optimizer(ctx, args, lr), "scheduler": scheduler, "run": run}


def _warmup_steps(ctx: Ctx, args: dict[str, Any], release: Release | None) -> float:
    """warmup_steps as the installed TrainingArguments accepts it (whole before 5.0)."""
    if release is None or release.fractional_warmup:
        return _number(ctx, args, "warmup_steps", minimum=0.0)
    value = args["warmup_steps"]
    if isinstance(value, float) and not math.isnan(value):
        hint = f"; a fraction of the run is warmup_ratio: {value!r} there" if value < 1 else ""
        ctx.problem(
            "warmup_steps",
            f"transformers {release.text} takes a whole number of warmup steps, got {value!r} "
            f"(a warmup_steps below 1 is a ratio only from transformers 5.0{hint})",
        )
        return 0
    return _whole(ctx, args, "warmup_steps", minimum=0)


def _warmup(
    release: Release, steps: float, ratio: float, has_ratio: bool, total: int
) -> tuple[int, str, str, str]:
    """TrainingArguments.get_warmup_steps of the installed release.

    (warmup steps, how the note says it, the user's key it comes from, a warmup_ratio note).
    """

    def from_steps(value: float) -> tuple[int, str]:  # 5.x; 4.x has whole numbers only
        if value >= 1:
            return int(value), f"warmup {int(value):,} steps"
        n = math.ceil(total * value)
        return n, f"warmup {n:,} steps (ratio {value:g})"

    def from_ratio() -> int:
        return math.ceil(total * ratio)

    if not release.fractional_warmup:  # 4.x: warmup_steps if > 0 else ceil(total × ratio)
        if steps > 0:
            n, text = from_steps(steps)
            return n, text, "warmup_steps", ""
        if ratio > 0:
            n = from_ratio()
            return n, f"warmup {n:,} steps (warmup_ratio {ratio:g})", "warmup_ratio", ""
        return 0, "no warmup", "warmup_steps", ""
    if not has_ratio:
        if steps > 0:
            n, text = from_steps(steps)
            return n, text, "warmup_steps", ""
        return 0, "no warmup", "warmup_steps", ""
    if release.major_minor < RATIO_REMOVED:
        # 5.0 .. 5.14: TrainingArguments.__post_init__ copies warmup_ratio into warmup_steps.
        n, _ = from_steps(ratio)
        replacing = f" (replacing warmup_steps: {steps:g})" if steps > 0 else ""
        note = (
            f"warmup_ratio is deprecated since transformers 5.0 and removed in 5.15; the "
            f"installed {release.text} copies it into warmup_steps{replacing}, so {n:,} warmup "
            f"steps; write warmup_steps: {ratio!r} instead"
        )
        return n, f"warmup {n:,} steps (warmup_ratio {ratio:g})", "warmup_ratio", note
    # 5.15 on: TrainingArguments refuses warmup_ratio; read it as 4.x did.
    head = (
        f"warmup_ratio was removed in transformers 5.15, and the installed {release.text} "
        f"refuses this file; lrviz reads it as transformers 4 did"
    )
    if steps > 0:
        n, text = from_steps(steps)
        note = f"{head} (ignored, since warmup_steps: {steps:g} is set); delete it"
        return n, text, "warmup_ratio", note
    n = from_ratio()
    if ratio == 0:
        fix = "delete it"
    elif ratio >= 1:
        fix = f"write warmup_steps: {total} (the whole run) instead"
    else:
        fix = f"write warmup_steps: {ratio!r} instead"
    note = f"{head} (ceil({total:,} × {ratio:g}) = {n:,} warmup steps); {fix}"
    return n, f"warmup {n:,} steps (warmup_ratio {ratio:g}, as in 4.x)", "warmup_ratio", note


def _optimizer(ctx: Ctx, args: dict[str, Any], lr: float) -> dict[str, Any]:
    optim = str(args.get("optim") or "adamw_torch")
    wd = _number(ctx, args, "weight_decay", minimum=0.0)
    name = _OPTIMIZERS.get(optim)
    if name is not None:
        return {"type": name, "lr": lr, "weight_decay": wd}
    if not (optim.startswith("adamw") or optim.startswith("paged_adamw")):
        ctx.notes.append(f"optim {optim!r} shown as AdamW; the schedule does not depend on it")
    ctx.at("optimizer.betas", "adam_beta1")
    ctx.at("optimizer.eps", "adam_epsilon")
    ctx.at("optimizer.weight_decay", "weight_decay")
    betas = [_number(ctx, args, "adam_beta1"), _number(ctx, args, "adam_beta2")]
    eps = _number(ctx, args, "adam_epsilon", minimum=0.0)
    return {"type": "AdamW", "lr": lr, "betas": betas, "eps": eps, "weight_decay": wd}


def _scheduler_kwargs(ctx: Ctx, raw: Any) -> dict[str, Any]:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):  # the command line form: --lr_scheduler_kwargs '{"num_cycles": 2}'
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            ctx.problem("lr_scheduler_kwargs", f"not a JSON object: {exc.msg}")
            return {}
    if not isinstance(raw, dict):
        ctx.problem(
            "lr_scheduler_kwargs", f"expected a mapping such as {{num_cycles: 2}}, got {raw!r}"
        )
        return {}
    return dict(raw)


def _number(
    ctx: Ctx,
    args: dict[str, Any],
    key: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    value = args[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        ctx.problem(key, f"expected a number, got {value!r}")
        return float(DEFAULTS[key])
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        span = (
            f"at least {minimum:g}" if maximum is None else f"between {minimum:g} and {maximum:g}"
        )
        ctx.problem(key, f"must be {span}, got {value!r}")
        return float(DEFAULTS[key])
    return value


def _whole(ctx: Ctx, args: dict[str, Any], key: str, *, minimum: int | None) -> int:
    value = args[key]
    if isinstance(value, bool) or not isinstance(value, int):
        ctx.problem(key, f"expected a whole number, got {value!r}")
        return int(DEFAULTS[key])
    if minimum is not None and value < minimum:
        ctx.problem(key, f"must be at least {minimum}, got {value}")
        return int(DEFAULTS[key])
    return value


# --- transformers' scheduler functions as a scheduler type ---------------------------------


def _transformers() -> Any:
    """transformers.optimization, or None when transformers is not installed."""
    try:
        import transformers.optimization as tro
    except ImportError:
        return None
    return tro


def not_installed(type_name: str) -> str:
    """The message for a transformers schedule when transformers is missing."""
    return (
        f"{type_name} is transformers' own schedule, and the transformers package is not "
        f"installed; install lrviz's optional extra: {INSTALL}"
    )


def _functions(tro: Any) -> dict[str, tuple[str, Any]]:
    """transformers' scheduler functions by function name -> (SchedulerType value, function)."""
    return {f.__name__: (t.value, f) for t, f in tro.TYPE_TO_SCHEDULER_FUNCTION.items()}


def _resolve(
    spec: Spec, node: SchedulerSpec, tro: Any, problems: list[Problem]
) -> tuple[str, Any, tuple[str, ...]] | None:
    """(display name, function, keyword names it takes) for a transformers node, or None."""
    fn_name = node.type[len(HF_PREFIX) :]
    functions = _functions(tro)
    by_type = {t: f for t, f in functions.values()}
    if fn_name == "get_scheduler":
        kind = node.kwargs.get("name")
        if kind not in by_type:
            problems.append(
                spec.problem(
                    f"{node.key}.name",
                    f"unknown transformers scheduler {kind!r}"
                    f"{did_you_mean(str(kind), list(by_type))} (one of: {', '.join(by_type)})",
                )
            )
            return None
        fn = by_type[kind]
        allowed = ("name", "num_warmup_steps", "num_training_steps", "scheduler_specific_kwargs")
        return f"transformers.get_scheduler({kind!r})", fn, allowed
    if fn_name not in functions:
        names = [*functions, "get_scheduler"]
        problems.append(
            spec.problem(
                f"{node.key}.type",
                f"{node.type!r} is not one of transformers' scheduler functions"
                f"{did_you_mean(fn_name, names)} (one of: {', '.join(names)})",
            )
        )
        return None
    fn = functions[fn_name][1]
    return node.type, fn, _params(fn)


def _params(fn: Any) -> tuple[str, ...]:
    sig = inspect.signature(fn)
    return tuple(
        p.name
        for p in sig.parameters.values()
        if p.name not in ("optimizer", "last_epoch") and p.kind is not p.VAR_KEYWORD
    )


def check_node(spec: Spec, node: SchedulerSpec, problems: list[Problem]) -> ClassInfo | None:
    """Check a transformers schedule node; a ClassInfo for the plan, or None after a problem."""
    tro = _transformers()
    if tro is None:
        problems.append(spec.problem(f"{node.key}.type", not_installed(node.type)))
        return None
    found = _resolve(spec, node, tro, problems)
    if found is None:
        return None
    display, fn, allowed = found
    kind = next((t for t, f in _functions(tro).values() if f is fn), "")
    if kind in METRIC_DRIVEN:
        problems.append(
            spec.problem(
                node.key,
                f"{kind} steps on metrics; use ReduceLROnPlateau with run.metrics instead",
            )
        )
        return None
    for key in node.kwargs:
        if key not in allowed:
            problems.append(
                spec.problem(
                    f"{node.key}.{key}",
                    f"unknown argument for {display}{did_you_mean(str(key), allowed)}"
                    f" (arguments: {', '.join(allowed)})",
                )
            )
    extra = node.kwargs.get("scheduler_specific_kwargs")
    if display.startswith("transformers.get_scheduler") and extra is not None:
        takes = _params(fn)
        if not isinstance(extra, dict):
            problems.append(
                spec.problem(
                    f"{node.key}.scheduler_specific_kwargs", f"expected a mapping, got {extra!r}"
                )
            )
        else:
            for key in extra:
                if key not in takes:
                    problems.append(
                        spec.problem(
                            f"{node.key}.scheduler_specific_kwargs.{key}",
                            f"unknown argument for {fn.__name__}{did_you_mean(str(key), takes)}"
                            f" (arguments: {', '.join(takes)})",
                        )
                    )
    for key in ("num_warmup_steps", "num_training_steps"):
        value = node.kwargs.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            problems.append(
                spec.problem(
                    f"{node.key}.{key}", f"expected a whole number of steps, got {value!r}"
                )
            )
    return _info(display, fn)


def _info(display: str, fn: Any) -> ClassInfo:
    import torch.optim.lr_scheduler as lr_scheduler

    from ..catalog import ClassInfo, Param

    params = tuple(
        Param(p.name, "", p.default is p.empty, None if p.default is p.empty else p.default, "")
        for p in inspect.signature(fn).parameters.values()
        if p.name not in ("optimizer", "last_epoch") and p.kind is not p.VAR_KEYWORD
    )
    summary = " ".join(inspect.cleandoc(fn.__doc__ or "").split("\n\n", 1)[0].split())
    # Every non-metric transformers schedule is a torch LambdaLR (stepped once per batch).
    return ClassInfo(display, lr_scheduler.LambdaLR, params, summary, False, False, True)


def build_node(spec: Spec, node: SchedulerSpec, optimizer: Any) -> Any:
    """transformers' own scheduler for a node, on lrviz's dummy optimizer."""
    tro = _transformers()
    if tro is None:
        raise SpecError([spec.problem(f"{node.key}.type", not_installed(node.type))])
    kwargs = dict(node.kwargs)
    try:
        if node.type == GET_SCHEDULER:
            return tro.get_scheduler(optimizer=optimizer, **kwargs)
        _, fn = _functions(tro)[node.type[len(HF_PREFIX) :]]  # only names in transformers' table
        return fn(optimizer, **kwargs)
    except Exception as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise SpecError(
            [spec.problem(node.key, f"{node.type} rejected its arguments: {text}")]
        ) from exc
