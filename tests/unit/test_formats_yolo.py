"""YOLOv5 hyp files: the rows equal YOLOv5's train.py loop, value for value.

YOLOv5 is not a package, so its loop is transcribed below from ultralytics/yolov5 train.py at
commit 5081342 (lines 233-248, 337-343, 354-390, 436-438; the same at v7.0, 915bbf2) and
utils/torch_utils.py smart_optimizer (lines 257-290), with torch's LambdaLR and numpy's interp
as train.py uses them. lrviz builds the same objects through its own path
(lrviz/formats/yolo.py); the rows must be equal, not close.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler
from typer.testing import CliRunner

from lrviz.cli import app
from lrviz.document import read_document
from lrviz.errors import SpecError
from lrviz.formats import Unrecognised, detect, yolo
from lrviz.load import Options, load_plan
from lrviz.simulation import run

DATA = Path(__file__).parent.parent / "data" / "formats"
HYP = str(DATA / "yolo_hyp.yaml")
OPT = str(DATA / "yolo_opt.yaml")


def _hyp(path: str) -> dict[str, Any]:
    data, _, problems = read_document(Path(path).read_text(), path)
    assert not problems
    return data.get("hyp", data)


def _one_cycle(y1: float = 0.0, y2: float = 1.0, steps: int = 100) -> Any:
    # ultralytics/utils/torch_utils.py, imported by train.py as one_cycle
    return lambda x: max((1 - math.cos(x * math.pi / steps)) / 2, 0) * (y2 - y1) + y1


def _train_py(
    hyp: dict[str, Any], epochs: int, nb: int, optimizer_name: str = "SGD", cos_lr: bool = False
) -> tuple[list[list[float]], list[list[float]]]:
    """(lr, momentum) of every param group at every batch of YOLOv5's train.py."""
    # smart_optimizer(model, opt.optimizer, hyp["lr0"], hyp["momentum"], hyp["weight_decay"])
    g = [torch.zeros(1, requires_grad=True) for _ in range(3)]  # weights, norm weights, biases
    lr, momentum, decay = hyp["lr0"], hyp["momentum"], hyp["weight_decay"]
    if optimizer_name == "Adam":
        optimizer = torch.optim.Adam([g[2]], lr=lr, betas=(momentum, 0.999))
    elif optimizer_name == "AdamW":
        optimizer = torch.optim.AdamW([g[2]], lr=lr, betas=(momentum, 0.999), weight_decay=0.0)
    else:
        optimizer = torch.optim.SGD([g[2]], lr=lr, momentum=momentum, nesterov=True)
    optimizer.add_param_group({"params": [g[0]], "weight_decay": decay})
    optimizer.add_param_group({"params": [g[1]], "weight_decay": 0.0})

    # Scheduler
    if cos_lr:
        lf = _one_cycle(1, hyp["lrf"], epochs)  # cosine 1->hyp['lrf']
    else:

        def lf(x):
            return (1 - x / epochs) * (1.0 - hyp["lrf"]) + hyp["lrf"]  # linear

    scheduler = lr_scheduler.LambdaLR(optimizer, lr_lambda=lf)

    start_epoch = 0
    nw = max(round(hyp["warmup_epochs"] * nb), 100)
    scheduler.last_epoch = start_epoch - 1  # do not move
    lrs: list[list[float]] = []
    moms: list[list[float]] = []
    for epoch in range(start_epoch, epochs):
        for i in range(nb):
            ni = i + nb * epoch
            # Warmup
            if ni <= nw:
                xi = [0, nw]
                for j, x in enumerate(optimizer.param_groups):
                    x["lr"] = np.interp(
                        ni,
                        xi,
                        [hyp["warmup_bias_lr"] if j == 0 else 0.0, x["initial_lr"] * lf(epoch)],
                    )
                    if "momentum" in x:
                        x["momentum"] = np.interp(ni, xi, [hyp["warmup_momentum"], hyp["momentum"]])
            # the lr and momentum scaler.step(optimizer) uses at this batch
            lrs.append([float(x["lr"]) for x in optimizer.param_groups])
            moms.append(
                [
                    float(x["momentum"] if "momentum" in x else x["betas"][0])
                    for x in optimizer.param_groups
                ]
            )
            optimizer.step()
        scheduler.step()
    return lrs, moms


def _rows(path: str, options: Options) -> tuple[list[list[float]], list[list[float]]]:
    trace = run(load_plan(path, options))
    assert trace.error is None
    return trace.lr.tolist(), trace.momentum.tolist()


def _problems(path: str, options: Options | None = None) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_plan(path, options or Options())
    return [str(p) for p in info.value.problems]


# --- the rows equal train.py ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("epochs", "batches"),
    [
        (5, 40),  # nw = 120: the warm-up crosses two epoch boundaries and ends mid-epoch
        (3, 7),  # nw = 100 (the minimum) outlasts the whole 21-batch run
        (4, 100),  # nw = 300: ends exactly at an epoch boundary
        (6, 33),  # nw = round(99) = 100
    ],
)
def test_hyp_rows_equal_train_py(epochs: int, batches: int) -> None:
    expected = _train_py(_hyp(HYP), epochs, batches)
    assert _rows(HYP, Options(epochs=epochs, iters=batches)) == expected


@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "AdamW"])
@pytest.mark.parametrize("cos_lr", [False, True])
def test_optimizer_and_cos_lr_follow_train_py(optimizer: str, cos_lr: bool) -> None:
    options = Options(
        epochs=8, iters=30, overrides=(f"optimizer={optimizer}", f"cos_lr={str(cos_lr).lower()}")
    )
    expected = _train_py(_hyp(HYP), 8, 30, optimizer, cos_lr)
    assert _rows(HYP, options) == expected


def test_run_opt_yaml_with_nested_hyp() -> None:
    # opt.yaml of a run: epochs 12, AdamW, --cos-lr, warmup_epochs 0.5 (nw = max(75, 100))
    expected = _train_py(_hyp(OPT), 12, 150, "AdamW", cos_lr=True)
    assert _rows(OPT, Options(iters=150)) == expected
    # --epochs replaces the run's own count, for lf as well as for the loop
    assert _rows(OPT, Options(iters=150, epochs=4)) == _train_py(_hyp(OPT), 4, 150, "AdamW", True)


def test_warmup_epochs_zero_still_warms_up_for_100_batches() -> None:
    options = Options(epochs=4, iters=50, overrides=("warmup_epochs=0",))
    hyp = {**_hyp(HYP), "warmup_epochs": 0}
    lrs, _ = _rows(HYP, options)
    assert (lrs, _) == _train_py(hyp, 4, 50)
    assert lrs[0] == [0.1, 0.0, 0.0]
    assert lrs[50][1] == 0.01 * 0.5 * ((1 - 1 / 4) * (1.0 - 0.01) + 0.01)  # halfway, lf(1)


def test_after_warmup_an_epoch_trains_at_the_previous_epochs_factor() -> None:
    # train.py sets scheduler.last_epoch = -1, so the first scheduler.step() computes lf(0):
    # epoch e trains at lr0 * lf(e - 1) once the warm-up (100 batches, to epoch 2) is over
    lrs, _ = _rows(HYP, Options(epochs=10, iters=50, overrides=("warmup_epochs=0",)))

    def lf(x: int) -> float:
        return (1 - x / 10) * (1.0 - 0.01) + 0.01

    assert lrs[100] == [0.01 * lf(2)] * 3  # the warm-up's last batch: lr0 * lf(epoch)
    assert lrs[150] == [0.01 * lf(2)] * 3  # epoch 3
    assert lrs[200] == [0.01 * lf(3)] * 3  # epoch 4
    assert lrs[499] == [0.01 * lf(8)] * 3  # the last batch of epoch 9


def test_plan_shape_groups_and_notes() -> None:
    plan = load_plan(HYP, Options(epochs=5, iters=40))
    spec = plan.spec
    assert (plan.epochs, plan.iters_per_epoch, plan.step_mode, plan.rows) == (5, 40, "batch", 200)
    assert spec.group_names == ["bias", "weight", "norm_weight"]
    assert spec.optimizer_type == "SGD"
    assert spec.optimizer_kwargs == {"lr": 0.01, "momentum": 0.937, "nesterov": True}
    assert spec.scheduler.type == yolo.TRAIN
    assert plan.notes == (
        "yolov5: SGD (train.py's default --optimizer; --set optimizer=Adam or AdamW) and "
        "linear lf (no --cos-lr; --set cos_lr=true for it)",
        "yolov5: warm-up over nw = max(round(3 × 40), 100) = 120 batches (to epoch 3); one "
        "row per batch: train.py steps the optimizer every max(round(64 / batch size), 1) "
        "batches, at that batch's lr",
        "yolov5: train.py sets scheduler.last_epoch = -1 after building its LambdaLR, so "
        "epoch e > 0 trains at lr0 × lf(e - 1) once the warm-up is over",
    )


def test_state_dict_round_trip_continues_the_same_rows() -> None:
    from lrviz.build import build

    plan = load_plan(HYP, Options(epochs=5, iters=40))
    first = build(plan)
    for _ in range(90):
        first.optimizer.step()
        first.scheduler.step()
    second = build(plan)
    second.optimizer.load_state_dict(first.optimizer.state_dict())
    second.scheduler.load_state_dict(first.scheduler.state_dict())
    for _ in range(60):
        assert second.scheduler.get_last_lr() == first.scheduler.get_last_lr()
        first.scheduler.step()
        second.scheduler.step()


# --- detection -------------------------------------------------------------------------------


def test_detected_on_lr0_and_lrf() -> None:
    assert detect(_hyp(HYP)) == "yolo"
    data, _, _ = read_document(Path(OPT).read_text(), OPT)
    assert detect(data) == "yolo"


def test_not_claimed_next_to_another_frameworks_markers() -> None:
    data = {**_hyp(HYP), "model": {"_target_": "models.yolo.Model"}}
    with pytest.raises(Unrecognised) as info:
        detect(data)
    assert str(info.value) == (
        "YOLOv5 hyperparameters (lr0, lrf) next to hydra markers (at model._target_): not "
        "guessing; pass --from yolo if it is a YOLOv5 hyp file"
    )


# --- refused in one line ---------------------------------------------------------------------


def test_missing_flags_are_named_in_one_line() -> None:
    assert _problems(HYP) == [
        f"{HYP}: a YOLOv5 hyp file has no epoch count (train.py's --epochs) and no batches per "
        "epoch (its warm-up counts batches): pass --epochs N --iters N (len(train_loader))"
    ]
    assert _problems(HYP, Options(iters=40)) == [
        f"{HYP}: a YOLOv5 hyp file has no epoch count (train.py takes it as --epochs): "
        "pass --epochs N"
    ]
    assert _problems(HYP, Options(epochs=30)) == [
        f"{HYP}:8: warmup_epochs: YOLOv5 warms up per batch, over max(round(warmup_epochs × "
        "batches per epoch), 100) batches, and the file does not say how many batches an epoch "
        "has: pass --iters N (len(train_loader))"
    ]
    assert _problems(OPT) == [
        f"{OPT}:9: hyp.warmup_epochs: YOLOv5 warms up per batch, over max(round(warmup_epochs "
        "× batches per epoch), 100) batches, and the file does not say how many batches an "
        "epoch has: pass --iters N (len(train_loader))"
    ]


def test_missing_hyp_key_is_named(tmp_path: Path) -> None:
    f = tmp_path / "hyp.yaml"
    f.write_text(Path(HYP).read_text().replace("warmup_bias_lr: 0.1", "warmup_bias: 0.1"))
    assert _problems(str(f), Options(epochs=3, iters=40)) == [
        f"{f}: warmup_bias_lr is missing: YOLOv5's train.py reads hyp['warmup_bias_lr']; "
        "did you mean 'warmup_bias'?"
    ]


def test_other_step_modes_and_optimizers_are_refused() -> None:
    assert _problems(HYP, Options(epochs=3, iters=40, step="epoch")) == [
        f"{HYP}: YOLOv5's train.py changes the lr every batch during its warm-up and steps its "
        "LambdaLR every epoch; --step epoch would show another loop: drop --step"
    ]
    assert _problems(HYP, Options(epochs=3, iters=40, overrides=("optimizer=RMSProp",))) == [
        "--set optimizer=RMSProp: optimizer: train.py's --optimizer is one of SGD, Adam, AdamW, "
        "got 'RMSProp'"
    ]


def test_ultralytics_run_config_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "args.yaml"
    f.write_text(
        "task: detect\nmode: train\nmodel: yolov8n.pt\ndata: coco8.yaml\nepochs: 100\n"
        "batch: 16\noptimizer: auto\ncos_lr: false\nlr0: 0.01\nlrf: 0.01\nmomentum: 0.937\n"
        "weight_decay: 0.0005\nwarmup_epochs: 3.0\nwarmup_momentum: 0.8\nwarmup_bias_lr: 0.1\n"
    )
    assert _problems(str(f), Options(iters=40)) == [
        f"{f}:1: task: an ultralytics (YOLOv8 and later) run config: its trainer picks the "
        "optimizer and lr itself (optimizer: auto) and warms up unlike YOLOv5's train.py, which "
        "is what lrviz follows; write a native spec"
    ]


# --- the command line ------------------------------------------------------------------------


def test_cli_export_and_refusal(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["table", HYP, "--epochs", "3", "--iters", "50", "--format", "csv"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "step,epoch,iter,x,lr_bias,lr_weight,lr_norm_weight,"
        "momentum_bias,momentum_weight,momentum_norm_weight"
    )
    lrs, moms = _train_py(_hyp(HYP), 3, 50)
    rows = [[float(v) for v in line.split(",")[4:]] for line in lines[1:]]
    assert rows == [a + b for a, b in zip(lrs, moms, strict=True)]

    result = runner.invoke(app, ["table", HYP])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {HYP}: a YOLOv5 hyp file has no epoch count (train.py's --epochs) and no "
        "batches per epoch (its warm-up counts batches): pass --epochs N --iters N "
        "(len(train_loader))\n"
    )
