"""YOLOv5 hyperparameter files (lr0, lrf, ...) -> native data; YOLOv5 train.py's own lr code.

YOLOv5 has no package to call, so lrviz follows its `train.py` (ultralytics/yolov5 at commit
5081342, 2026-08-21; these lines are the same at v7.0, commit 915bbf2):

- lines 233-237: `smart_optimizer(model, opt.optimizer, hyp["lr0"], hyp["momentum"], ...)`,
  which (utils/torch_utils.py lines 257-290) makes three param groups: 0 biases, 1 weights
  (with weight decay), 2 norm-layer weights; SGD(momentum, nesterov=True) by default, Adam and
  AdamW with betas=(momentum, 0.999);
- lines 239-248: `lf` is linear, `(1 - x / epochs) * (1.0 - lrf) + lrf`, or with --cos-lr
  `one_cycle(1, lrf, epochs)`; `scheduler = lr_scheduler.LambdaLR(optimizer, lr_lambda=lf)`;
- lines 337-343: `nb = len(train_loader)`, `nw = max(round(warmup_epochs * nb), 100)`, and
  `scheduler.last_epoch = start_epoch - 1` (-1 in a fresh run);
- lines 376-390: at the top of every batch, `ni = i + nb * epoch`; while `ni <= nw` each
  group's lr is `np.interp(ni, [0, nw], [warmup_bias_lr if j == 0 else 0.0,
  initial_lr * lf(epoch)])` and its momentum `np.interp(ni, [0, nw], [warmup_momentum,
  momentum])`;
- line 438: `scheduler.step()` after every epoch.

torch's LambdaLR does the per-epoch part; the warm-up is the loop's own code, and lives in one
place: `YOLOv5Schedule._warmup`, written as the loop writes it (with numpy's interp). The
provider part of this module (`PREFIX`, `check_node`, `build_node`) builds that object for the
scheduler type `yolov5.train`, stepped once per batch.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..errors import Problem, SpecError, did_you_mean

if TYPE_CHECKING:
    from ..catalog import ClassInfo
    from ..spec import SchedulerSpec, Spec
    from . import Ctx

PREFIX = "yolov5."
TRAIN = "yolov5.train"
# The hyp keys train.py reads as hyp[...] (a missing one stops it); weight_decay does not shape
# the schedule but train.py needs it all the same.
HYP_KEYS = (
    "lr0",
    "lrf",
    "momentum",
    "weight_decay",
    "warmup_epochs",
    "warmup_momentum",
    "warmup_bias_lr",
)
# The scheduler node's arguments: the hyp values the lr code reads, and --cos-lr.
ARGS = ("lrf", "cos_lr", "warmup_epochs", "warmup_momentum", "warmup_bias_lr", "momentum")
OPTIMIZERS = ("SGD", "Adam", "AdamW")  # train.py's --optimizer choices; SGD is its default
GROUPS = ("bias", "weight", "norm_weight")  # smart_optimizer's order: g[2], g[0], g[1]
MIN_WARMUP = 100  # nw = max(round(warmup_epochs * nb), 100)
# Keys of an ultralytics (YOLOv8 and later) run config, whose trainer is not YOLOv5's.
ULTRALYTICS_KEYS = ("task", "mode")


def is_config(data: Any) -> bool:
    """A YOLOv5 hyp file (lr0 and lrf at the top), or a run's opt.yaml (the same under hyp:)."""
    if not isinstance(data, dict):
        return False
    hyp = data.get("hyp")
    return ("lr0" in data and "lrf" in data) or (
        isinstance(hyp, dict) and "lr0" in hyp and "lrf" in hyp
    )


# --- the hyp file -> native data --------------------------------------------------------------


def convert(data: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    """Native data for YOLOv5's train.py with this hyp file and the command line's run."""
    hz = ctx.horizon
    found = next((k for k in ULTRALYTICS_KEYS if k in data), None)
    if found is not None:
        ctx.problem(
            found,
            "an ultralytics (YOLOv8 and later) run config: its trainer picks the optimizer and "
            "lr itself (optimizer: auto) and warms up unlike YOLOv5's train.py, which is what "
            "lrviz follows; write a native spec",
        )
        return {}
    nested = "lr0" not in data and isinstance(data.get("hyp"), dict)
    hyp: dict[str, Any] = data["hyp"] if nested else data
    prefix = "hyp." if nested else ""
    values: dict[str, float] = {}
    for key in HYP_KEYS:
        where = f"{prefix}{key}"
        if key not in hyp:
            ctx.problem(
                "hyp" if nested else None,
                f"{where} is missing: YOLOv5's train.py reads hyp[{key!r}]"
                f"{did_you_mean(key, [str(k) for k in hyp])}",
            )
            continue
        value = hyp[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            ctx.problem(where, f"expected a number, got {value!r}")
            continue
        values[key] = value
    if "warmup_epochs" in values and values["warmup_epochs"] < 0:
        ctx.problem(
            f"{prefix}warmup_epochs", f"must be at least 0, got {values['warmup_epochs']!r}"
        )
    optimizer = data.get("optimizer", "SGD")
    if optimizer not in OPTIMIZERS:
        ctx.problem(
            "optimizer",
            f"train.py's --optimizer is one of {', '.join(OPTIMIZERS)}, got {optimizer!r}"
            f"{did_you_mean(str(optimizer), OPTIMIZERS)}",
        )
    cos_lr = data.get("cos_lr", False)
    if not isinstance(cos_lr, bool):
        ctx.problem("cos_lr", f"expected true or false (train.py's --cos-lr), got {cos_lr!r}")
    epochs = hz.epochs if hz.epochs is not None else data.get("epochs")
    if epochs is not None and (
        isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1
    ):
        ctx.problem("epochs", f"expected a whole number of at least 1, got {epochs!r}")
    if hz.step not in (None, "batch"):
        ctx.problem(
            None,
            f"YOLOv5's train.py changes the lr every batch during its warm-up and steps its "
            f"LambdaLR every epoch; --step {hz.step} would show another loop: drop --step",
        )
    warmup_key = f"{prefix}warmup_epochs" if "warmup_epochs" in hyp else None
    _flags(ctx, epochs is None, hz.iters is None, warmup_key)
    if ctx.problems:
        return {}
    assert isinstance(epochs, int) and hz.iters is not None
    batches = hz.iters

    opt: dict[str, Any] = {"type": optimizer, "lr": values["lr0"]}
    if optimizer == "SGD":
        opt.update(momentum=values["momentum"], nesterov=True)
        ctx.at("optimizer.momentum", f"{prefix}momentum")
    else:  # Adam/AdamW: beta1 is the momentum hyp; AdamW's bias group has no decay
        opt["betas"] = [values["momentum"], 0.999]
        ctx.at("optimizer.betas", f"{prefix}momentum")
        if optimizer == "AdamW":
            opt["weight_decay"] = 0.0
    ctx.at("optimizer.lr", f"{prefix}lr0")
    if "optimizer" in data:
        ctx.at("optimizer.type", "optimizer")
    scheduler: dict[str, Any] = {"type": TRAIN, "cos_lr": cos_lr}
    for key in ARGS:
        if key != "cos_lr":
            scheduler[key] = values[key]
            ctx.at(f"scheduler.{key}", f"{prefix}{key}")
    ctx.at("scheduler.cos_lr", "cos_lr")
    ctx.at("scheduler", f"{prefix}lrf")
    if "epochs" in data and hz.epochs is None:
        ctx.at("run.epochs", "epochs")

    nw = warmup_batches(values["warmup_epochs"], batches)
    defaults = []
    if "optimizer" not in data:
        defaults.append("SGD (train.py's default --optimizer; --set optimizer=Adam or AdamW)")
    if "cos_lr" not in data:
        defaults.append("linear lf (no --cos-lr; --set cos_lr=true for it)")
    if defaults:
        ctx.notes.append(f"yolov5: {' and '.join(defaults)}")
    end = "the whole run" if nw >= epochs * batches else f"epoch {nw // batches}"
    ctx.notes.append(
        f"yolov5: warm-up over nw = max(round({values['warmup_epochs']:g} × {batches:,}), "
        f"{MIN_WARMUP}) = {nw:,} batches (to {end}); one row per batch: train.py steps the "
        f"optimizer every max(round(64 / batch size), 1) batches, at that batch's lr"
    )
    ctx.notes.append(
        "yolov5: train.py sets scheduler.last_epoch = -1 after building its LambdaLR, so "
        "epoch e > 0 trains at lr0 × lf(e - 1) once the warm-up is over"
    )
    groups = [{"name": name} for name in GROUPS]
    run = {"epochs": epochs, "iters_per_epoch": batches, "step": "batch"}
    return {"optimizer": opt, "param_groups": groups, "scheduler": scheduler, "run": run}


def _flags(ctx: Ctx, no_epochs: bool, no_iters: bool, warmup_key: str | None) -> None:
    """One problem naming the command-line flags the run needs and the file cannot give."""
    if no_epochs and no_iters:
        ctx.problem(
            None,
            "a YOLOv5 hyp file has no epoch count (train.py's --epochs) and no batches per "
            "epoch (its warm-up counts batches): pass --epochs N --iters N (len(train_loader))",
        )
    elif no_epochs:
        ctx.problem(
            None,
            "a YOLOv5 hyp file has no epoch count (train.py takes it as --epochs): pass --epochs N",
        )
    elif no_iters:
        ctx.problem(
            warmup_key,
            "YOLOv5 warms up per batch, over max(round(warmup_epochs × batches per epoch), "
            "100) batches, and the file does not say how many batches an epoch has: "
            "pass --iters N (len(train_loader))",
        )


def warmup_batches(warmup_epochs: float, batches: int) -> int:
    """train.py's nw: the number of warm-up iterations (line 338)."""
    return max(round(warmup_epochs * batches), MIN_WARMUP)


# --- train.py's lr code -----------------------------------------------------------------------


def lr_function(cos_lr: bool, lrf: float, epochs: int) -> Any:
    """train.py's `lf` (lines 240-246): the LambdaLR's factor for an epoch."""
    if cos_lr:
        return one_cycle(1, lrf, epochs)

    def lf(x: int) -> float:
        return (1 - x / epochs) * (1.0 - lrf) + lrf  # linear

    return lf


def one_cycle(y1: float = 0.0, y2: float = 1.0, steps: int = 100) -> Any:
    """ultralytics.utils.torch_utils.one_cycle, which train.py imports (a cosine ramp)."""
    # YOLOv5 v7.0's own copy has no max(..., 0); it never binds, since cos(...) <= 1.
    return lambda x: max((1 - math.cos(x * math.pi / steps)) / 2, 0) * (y2 - y1) + y1


class YOLOv5Schedule:
    """train.py's lr code on an optimizer: its LambdaLR per epoch and its warm-up per batch.

    `step()` is called after every batch, as lrviz's loop calls a per-batch scheduler; it
    does what train.py does between one batch's optimizer step and the next: the epoch's
    `scheduler.step()` after its last batch, then the next batch's warm-up.
    """

    def __init__(
        self,
        optimizer: Any,
        *,
        epochs: int,
        batches: int,
        lrf: float,
        cos_lr: bool,
        warmup_epochs: float,
        warmup_momentum: float,
        warmup_bias_lr: float,
        momentum: float,
    ) -> None:
        import numpy as np
        from torch.optim import lr_scheduler

        self.optimizer = optimizer
        self.lf = lr_function(cos_lr, lrf, epochs)
        self.scheduler = lr_scheduler.LambdaLR(optimizer, lr_lambda=self.lf)
        self.scheduler.last_epoch = -1  # train.py line 343: start_epoch - 1, "do not move"
        self.nb = batches
        self.nw = warmup_batches(warmup_epochs, batches)
        self.warmup_momentum = warmup_momentum
        self.warmup_bias_lr = warmup_bias_lr
        self.momentum = momentum
        self.ni = 0  # train.py's ni: batches since the start of training
        self._interp = np.interp
        self._warmup()

    def step(self) -> None:
        """After batch ni: the epoch's scheduler.step() if it was the last, then the warm-up."""
        self.ni += 1
        if self.ni % self.nb == 0:
            self.scheduler.step()  # train.py line 438
        self._warmup()

    def _warmup(self) -> None:
        """train.py lines 381-390, for the batch about to run."""
        ni, nw = self.ni, self.nw
        epoch = ni // self.nb
        if ni <= nw:
            xi = [0, nw]  # x interp
            for j, x in enumerate(self.optimizer.param_groups):
                # bias lr falls from warmup_bias_lr to lr0, all other lrs rise from 0.0 to lr0
                x["lr"] = self._interp(
                    ni,
                    xi,
                    [self.warmup_bias_lr if j == 0 else 0.0, x["initial_lr"] * self.lf(epoch)],
                )
                if "momentum" in x:
                    x["momentum"] = self._interp(ni, xi, [self.warmup_momentum, self.momentum])

    def get_last_lr(self) -> list[float]:
        """The lr of every group now (what train.py logs before scheduler.step(), line 437)."""
        return [float(x["lr"]) for x in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """The LambdaLR's state and the batch count."""
        return {"scheduler": self.scheduler.state_dict(), "ni": self.ni, "nw": self.nw}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state_dict() (the optimizer's own state holds the groups' lr and momentum)."""
        self.scheduler.load_state_dict(state["scheduler"])
        self.ni = state["ni"]
        self.nw = state["nw"]


# --- the provider ------------------------------------------------------------------------------


def check_node(spec: Spec, node: SchedulerSpec, problems: list[Problem]) -> ClassInfo | None:
    """Check a yolov5.train node and the run it needs; a ClassInfo, or None after a problem."""
    if node.type != TRAIN:
        problems.append(
            spec.problem(
                f"{node.key}.type",
                f"{node.type!r} is not a YOLOv5 schedule{did_you_mean(node.type, [TRAIN])} "
                f"(lrviz knows {TRAIN}: train.py's LambdaLR and warm-up)",
            )
        )
        return None
    ok = True
    for key, value in node.kwargs.items():
        if key not in ARGS:
            problems.append(
                spec.problem(
                    f"{node.key}.{key}",
                    f"unknown argument for {TRAIN}{did_you_mean(str(key), ARGS)}"
                    f" (arguments: {', '.join(ARGS)})",
                )
            )
            ok = False
        elif key == "cos_lr":
            if not isinstance(value, bool):
                problems.append(
                    spec.problem(f"{node.key}.{key}", f"expected true or false, got {value!r}")
                )
                ok = False
        elif (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            problems.append(spec.problem(f"{node.key}.{key}", f"expected a number, got {value!r}"))
            ok = False
    missing = [k for k in ARGS if k != "cos_lr" and k not in node.kwargs]
    if missing:
        problems.append(spec.problem(node.key, f"{TRAIN} needs {', '.join(missing)}"))
        ok = False
    run = spec.run
    if run.step not in (None, "batch"):
        problems.append(
            spec.problem(
                "run.step",
                f"{TRAIN} is train.py's per-batch lr code (warm-up every batch, LambdaLR every "
                f"epoch): it runs with step: batch, not {run.step}",
            )
        )
        ok = False
    if run.order != "optimizer_first":
        problems.append(
            spec.problem(
                "run.order",
                f"{TRAIN} follows train.py, which steps its LambdaLR after the epoch's "
                f"optimizer steps: use optimizer_first",
            )
        )
        ok = False
    return _info() if ok else None


def _info() -> ClassInfo:
    from ..catalog import ClassInfo, Param

    params = tuple(
        Param(name, "", name != "cos_lr", False if name == "cos_lr" else None, "") for name in ARGS
    )
    summary = "YOLOv5 train.py's LambdaLR (per epoch) with its per-batch warm-up"
    return ClassInfo(TRAIN, YOLOv5Schedule, params, summary, False, False, False)


def build_node(spec: Spec, node: SchedulerSpec, optimizer: Any) -> Any:
    """train.py's lr code on lrviz's dummy optimizer, for the spec's epochs and batches."""
    kwargs = dict(node.kwargs)
    try:
        return YOLOv5Schedule(
            optimizer,
            epochs=spec.run.epochs,
            batches=spec.run.iters_per_epoch,
            lrf=kwargs["lrf"],
            cos_lr=bool(kwargs.get("cos_lr", False)),
            warmup_epochs=kwargs["warmup_epochs"],
            warmup_momentum=kwargs["warmup_momentum"],
            warmup_bias_lr=kwargs["warmup_bias_lr"],
            momentum=kwargs["momentum"],
        )
    except Exception as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise SpecError([spec.problem(node.key, f"{TRAIN} could not be built: {text}")]) from exc
