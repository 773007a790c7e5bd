"""Configs users already have (LightningCLI, Hydra, transformers) -> native spec data; no torch."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..document import locate
from ..errors import Problem, SpecError, did_you_mean

FORMATS = ("native", "lightning", "hydra", "hf", "mmengine", "torchtune", "yolo")
# Modules whose classes a foreign config may name; lrviz maps these names to its catalog by
# string prefix and never imports a module a config names.
SCHEDULER_MODULES = ("torch.optim.lr_scheduler.",)
OPTIMIZER_MODULES = ("torch.optim.",)
# TrainingArguments keys that say "this is a transformers config" (any one is enough).
HF_KEYS = (
    "lr_scheduler_type",
    "learning_rate",
    "num_train_epochs",
    "warmup_ratio",
    "warmup_steps",
    "gradient_accumulation_steps",
    "per_device_train_batch_size",
    "max_steps",
)


@dataclass
class Horizon:
    """The run length the command line gives (--epochs, --iters, --step)."""

    epochs: int | None = None
    iters: int | None = None  # batches per epoch (len(train_dataloader))
    step: str | None = None


@dataclass
class Ctx:
    """What a converter writes besides the data: origins, notes, problems."""

    source: str
    lines: dict[str, int]
    overridden: dict[str, str]
    horizon: Horizon
    file: Path | None = None  # the config file, when there is one (Hydra composes beside it)
    tree: Path | None = None  # the project tree every file a config names must stay in
    origin: dict[str, str] = field(default_factory=dict)  # native key -> the user's key
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def at(self, native: str, original: str) -> None:
        """Record that native key path `native` comes from the user's key path `original`."""
        self.origin[native] = original

    def problem(self, original: str | None, message: str) -> None:
        """A problem located at one of the user's key paths."""
        source, line = locate(self.source, self.lines, self.overridden, original)
        self.problems.append(Problem(source, original or None, line, message))


# Keys only one framework writes: a reader claims a file on its own markers, and never a file
# that carries another framework's (a wrong guess that produces numbers is the worst outcome).
MARKERS = {
    "lightning": ("class_path",),
    "hydra": ("_target_",),
    "torchtune": ("_component_",),
}
# Formats lrviz recognises but has no reader for yet: refused by name, never guessed at.
UNREAD = {
    "mmcv": "an mmcv 1.x config (lr_config)",
}
LOOKED_FOR = (
    "a native spec (scheduler: {type: ...}), LightningCLI (class_path), Hydra (_target_), "
    "transformers TrainingArguments (learning_rate, lr_scheduler_type, ...), torchtune "
    "(_component_), mmengine (param_scheduler, a .py config) or a YOLOv5 hyp file (lr0, lrf)"
)
_SCAN_LIMIT = 200_000  # nodes; read_document already bounds documents to this size


class Unrecognised(Exception):
    """No reader may claim this document; the message says why, in one line."""


def detect(data: Any) -> str:
    """Which format a parsed document is written in: native, lightning, hydra or hf.

    Raises Unrecognised when no reader recognises the file, when it carries the markers of
    several frameworks, or when it is a known format lrviz has no reader for.
    """
    if not isinstance(data, dict):
        return "native"
    sched = data.get("scheduler")
    if _native_scheduler(sched):
        return "native"
    found = _markers(data)
    from .mmengine import is_config

    if is_config(data):
        return _alone(
            "mmengine",
            "mmengine keys (param_scheduler, optim_wrapper, train_cfg)",
            "it is one",
            found,
        )
    own = _torchtune_or_yolo(data, found)
    if own is not None:
        return own
    unread = _unread(data, found)
    if unread is not None:
        raise Unrecognised(
            f"this looks like {UNREAD[unread]}, which lrviz cannot read yet; "
            f"write a native spec, or pass --from FORMAT if it is really another format"
        )
    nodes = list(candidates(data, OPTIMIZER_KEYS + SCHEDULER_KEYS))
    lightning = "lightning" in found and any(_is_lightning(n) for _, n in nodes)
    hydra = "hydra" in found and any(_is_hydra(n) for _, n in nodes)
    if lightning and hydra:
        raise Unrecognised(
            f"this file has both LightningCLI (class_path at {found['lightning']}) and Hydra "
            f"(_target_ at {found['hydra']}) markers; pass --from lightning or --from hydra"
        )
    if lightning:
        return "lightning"
    if hydra:
        return "hydra"
    if isinstance(data.get("defaults"), list) and "lightning" not in found:
        return "hydra"  # a Hydra primary config: its defaults list names the files it composes
    hf_keys = [k for k in HF_KEYS if k in data]
    if hf_keys and "scheduler" not in data:
        what = f"transformers keys ({', '.join(hf_keys[:3])})"
        return _alone("hf", what, "it is TrainingArguments", found)
    cli = _lightning_cli(data) or found.get("lightning")
    if cli and "hydra" in found:
        raise Unrecognised(
            f"this file has both LightningCLI ({cli}) and Hydra (_target_ at {found['hydra']}) "
            f"markers; pass --from lightning or --from hydra"
        )
    if cli:
        return "lightning"
    if "hydra" in found:
        return "hydra"
    if _nativeish(data):
        return "native"
    raise Unrecognised(
        f"not a schedule file lrviz recognises: looked for {LOOKED_FOR}; "
        f"pass --from FORMAT to say which it is"
    )


def _native_scheduler(sched: Any) -> bool:
    """A native `scheduler:`: a mapping with a type, or a list of them."""
    if isinstance(sched, list):
        return bool(sched) and all(isinstance(s, dict) and "type" in s for s in sched)
    return isinstance(sched, dict) and "type" in sched


def _nativeish(data: dict[str, Any]) -> bool:
    """Whether a document is meant as a native spec: a native key, or a near miss of one."""
    import difflib

    from ..spec import TOP_KEYS

    return not data or any(
        str(k) in TOP_KEYS or difflib.get_close_matches(str(k), TOP_KEYS, n=1, cutoff=0.75)
        for k in data
    )


def _markers(data: Any) -> dict[str, str]:
    """Framework -> the key path of its first marker, anywhere in the document."""
    found: dict[str, str] = {}
    stack: list[tuple[Any, str]] = [(data, "")]
    seen = 0
    while stack and seen < _SCAN_LIMIT:
        node, path = stack.pop()
        seen += 1
        if isinstance(node, dict):
            for key, value in node.items():
                sub = f"{path}.{key}" if path else str(key)
                for kind, keys in MARKERS.items():
                    if key in keys:
                        found.setdefault(kind, sub)
                stack.append((value, sub))
        elif isinstance(node, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(node))
    return found


def _torchtune_or_yolo(data: dict[str, Any], found: dict[str, str]) -> str | None:
    """torchtune (_component_) or a YOLOv5 hyp file (lr0 and lrf), on their own markers only."""
    from .yolo import is_config

    if "torchtune" in found:
        mine, others = found["torchtune"], [(k, w) for k, w in found.items() if k != "torchtune"]
        if others:
            kind, where = others[0]
            raise Unrecognised(
                f"this file has both torchtune (_component_ at {mine}) and {kind} markers "
                f"(at {where}); pass --from torchtune or --from {kind}"
            )
        return "torchtune"
    if is_config(data):
        hint = "it is a YOLOv5 hyp file"
        return _alone("yolo", "YOLOv5 hyperparameters (lr0, lrf)", hint, found)
    return None


def _alone(fmt: str, what: str, hint: str, found: dict[str, str]) -> str:
    """`fmt`, claimed on keys alone, unless another framework's markers are in the file too."""
    if found:
        kind, where = next(iter(found.items()))
        raise Unrecognised(
            f"{what} next to {kind} markers (at {where}): not guessing; pass --from {fmt} if {hint}"
        )
    return fmt


def _unread(data: dict[str, Any], found: dict[str, str]) -> str | None:
    """A known format that lrviz has no reader for, or None."""
    if "lr_config" in data:
        return "mmcv"
    return None


OPTIMIZER_KEYS = ("optimizer",)
SCHEDULER_KEYS = ("lr_scheduler", "scheduler")


def candidates(data: dict[str, Any], names: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    """(key path, node) where an optimizer or scheduler may sit: at the top or under model."""
    for name in names:
        if name in data:
            yield name, data[name]
    model = data.get("model")
    if isinstance(model, dict):
        args = model.get("init_args")
        for name in names:
            if isinstance(args, dict) and name in args:
                yield f"model.init_args.{name}", args[name]
            if name in model:
                yield f"model.{name}", model[name]


def _is_lightning(node: Any) -> bool:
    if isinstance(node, list):  # several LRSchedulerConfigs
        return bool(node) and all(_is_lightning(n) for n in node)
    if isinstance(node, dict) and isinstance(node.get("scheduler"), dict):
        node = node["scheduler"]  # the LRSchedulerConfig dict shape
    return isinstance(node, dict) and "class_path" in node


def _is_hydra(node: Any) -> bool:
    if isinstance(node, list):
        return bool(node) and all(_is_hydra(n) for n in node)
    if isinstance(node, dict) and isinstance(node.get("scheduler"), dict):
        node = node["scheduler"]  # Lightning's LRSchedulerConfig shape, written for Hydra
    return isinstance(node, dict) and "_target_" in node


# Sections only a LightningCLI config has (LightningCLI's parser and its subcommands).
CLI_SECTIONS = ("trainer", "model", "data", "optimizer", "lr_scheduler", "ckpt_path")


def _lightning_cli(data: dict[str, Any]) -> str | None:
    """A LightningCLI-only key that marks a config without any class_path, or None.

    seed_everything (every --print_config writes it), a subcommand section (fit: {trainer:
    ...}), or lr_scheduler next to a trainer: section, LightningCLI's layout.
    """
    if "seed_everything" in data:
        return "seed_everything"
    for sub in ("fit", "validate", "test", "predict"):
        section = data.get(sub)
        if isinstance(section, dict) and any(k in section for k in CLI_SECTIONS):
            return f"{sub}: section"
    if "lr_scheduler" in data and isinstance(data.get("trainer"), dict):
        return "lr_scheduler next to trainer"
    return None


def class_name(
    ctx: Ctx,
    dotted: Any,
    key: str,
    modules: tuple[str, ...],
    kind: str,
    extra: tuple[str, ...] = (),
) -> str | None:
    """A class name from a dotted or short name, refusing modules lrviz does not build from."""
    if not isinstance(dotted, str) or not dotted.strip():
        ctx.problem(key, f"expected a {kind} class name such as {_example(kind)}, got {dotted!r}")
        return None
    text = dotted.strip()
    for prefix in modules:
        if text.startswith(prefix) and "." not in text[len(prefix) :]:
            return text[len(prefix) :]
    if text in extra:
        return text
    if "." not in text:
        return text  # the short form (class_path: CosineAnnealingLR); build checks the name
    allowed = " or ".join(m.rstrip(".") for m in modules)
    ctx.problem(
        key,
        f"{text!r} is not in {allowed}; lrviz builds only torch's own {kind} classes "
        f"(it never imports a module a config names)",
    )
    return None


def _example(kind: str) -> str:
    return "torch.optim.AdamW" if kind == "optimizer" else "torch.optim.lr_scheduler.StepLR"


def trainer_run(
    ctx: Ctx, data: dict[str, Any], step: str | None, *, lightning: bool = True, prefix: str = ""
) -> dict[str, Any]:
    """Native run data from a Lightning `trainer:` section and the command line.

    Without trainer.max_epochs/max_steps a LightningCLI run lasts Lightning's default 1000
    epochs; elsewhere (`lightning=False`) the run length must come from --epochs. `prefix`:
    where the sections sit in the user's file (`fit.` for a subcommand's config).
    """
    where = f"{prefix}trainer"
    trainer = data.get("trainer")
    trainer = trainer if isinstance(trainer, dict) else {}
    hz = ctx.horizon
    run: dict[str, Any] = {}
    step = hz.step or step
    if step:
        run["step"] = step
    per_batch = step in ("batch", "fractional")
    accumulate = _int(ctx, trainer, "accumulate_grad_batches", where, 1) or 1
    # Lightning steps the optimizer on the last, partial group of an epoch too.
    per_epoch = -(-hz.iters // accumulate) if hz.iters is not None else None
    if per_batch and per_epoch is None:
        # One batch per epoch would be a guess that still produces numbers: refuse.
        ctx.problem(
            _where(
                ctx, (f"{prefix}lr_scheduler.interval", f"{prefix}scheduler.interval", "run.step")
            ),
            "the scheduler steps every batch, and the config does not say how many batches "
            "an epoch has: pass --iters N (the len() of the train dataloader)",
        )
    if per_epoch is not None or per_batch:
        # A row is one optimizer step in every mode: per-epoch stepping too has --iters rows.
        run["iters_per_epoch"] = per_epoch or 1
        if accumulate > 1 and hz.iters is not None:
            ctx.at("run.iters_per_epoch", f"{where}.accumulate_grad_batches")
            ctx.notes.append(
                f"{hz.iters:,} batches / {accumulate} accumulation = {per_epoch:,} optimizer "
                f"steps per epoch"
            )
    max_epochs = _int(ctx, trainer, "max_epochs", where, None)
    max_steps = _int(ctx, trainer, "max_steps", where, None)
    max_epochs = None if max_epochs is None or max_epochs < 0 else max_epochs
    max_steps = None if max_steps is None or max_steps < 1 else max_steps
    if hz.epochs is not None:
        run["epochs"] = hz.epochs
        return run
    if max_epochs is not None:
        run["epochs"] = max_epochs
        ctx.at("run.epochs", f"{where}.max_epochs")
    elif max_steps is None and lightning:
        run["epochs"] = 1000
        ctx.notes.append("trainer.max_epochs not set: Lightning's default is 1000 epochs")
    if max_steps is not None:
        if per_epoch is None:
            ctx.problem(
                f"{where}.max_steps",
                f"trainer.max_steps={max_steps:,} counts optimizer steps, and the config does "
                f"not say how many an epoch has: pass --iters N (batches per epoch) or --epochs N",
            )
            return run
        needed = -(-max_steps // per_epoch)
        if max_epochs is None or needed <= max_epochs:
            run["epochs"] = needed
            ctx.at("run.epochs", f"{where}.max_steps")
            if max_steps < needed * per_epoch:
                run["steps"] = max_steps
                ctx.at("run.steps", f"{where}.max_steps")
            ctx.notes.append(
                f"trainer.max_steps={max_steps:,} optimizer steps at {per_epoch:,} per epoch "
                f"end the run in epoch {needed - 1}"
            )
    return run


def _where(ctx: Ctx, keys: tuple[str, ...]) -> str | None:
    """The first of `keys` the user's file has (for locating a problem), else None."""
    return next((k for k in keys if k in ctx.lines or k in ctx.overridden), None)


def _int(ctx: Ctx, node: dict[str, Any], name: str, where: str, default: int | None) -> int | None:
    value = node.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        ctx.problem(f"{where}.{name}", f"expected a whole number, got {value!r}")
        return default
    return value


def kwargs_node(
    ctx: Ctx, raw: Any, key: str, native: str, skip: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Constructor keywords from a mapping, each recorded at its user key path."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        ctx.problem(key, f"expected a mapping of constructor arguments, got {raw!r}")
        return {}
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if name in skip:
            continue
        out[str(name)] = value
        ctx.at(f"{native}.{name}", f"{key}.{name}")
    return out


def unknown(ctx: Ctx, node: dict[str, Any], key: str, allowed: tuple[str, ...]) -> None:
    """A problem for every key of `node` that is not in `allowed`."""
    for name in node:
        if name not in allowed:
            ctx.problem(f"{key}.{name}", f"unknown key{did_you_mean(str(name), allowed)}")


def convert(fmt: str, data: Any, ctx: Ctx, stem: str) -> dict[str, Any]:
    """Native spec data from a document in `fmt`; raises SpecError when it cannot be read."""
    from . import hf, hydra, lightning, mmengine, torchtune, yolo

    if not isinstance(data, dict):
        ctx.problem(None, f"expected a {fmt} config (a mapping), got {type(data).__name__}")
        raise SpecError(ctx.problems)
    converter = {
        "lightning": lightning.convert,
        "hydra": hydra.convert,
        "hf": hf.convert,
        "mmengine": mmengine.convert,
        "torchtune": torchtune.convert,
        "yolo": yolo.convert,
    }[fmt]
    native = converter(data, ctx)
    if ctx.problems:
        raise SpecError(ctx.problems)
    native.setdefault("name", stem)
    return native


def key_paths(data: Any, prefix: str = "") -> Iterator[str]:
    """Every key path in plain data, parents before children."""
    if isinstance(data, dict):
        for name, value in data.items():
            path = f"{prefix}.{name}" if prefix else str(name)
            yield path
            yield from key_paths(value, path)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            path = f"{prefix}[{i}]"
            yield path
            yield from key_paths(value, path)
