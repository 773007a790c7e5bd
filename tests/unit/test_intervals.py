"""Per-epoch stepping with several batches per epoch, and scheduler lists at mixed intervals.

Each case is compared value for value with a plain torch loop written here, the way training
code (and Lightning's `_update_learning_rates`, mmengine's ParamSchedulerHook) writes it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from torch.optim import lr_scheduler as L
from typer.testing import CliRunner

import lrviz
from lrviz.cli import app
from lrviz.errors import SpecError, UsageError


def sgd(lr: float = 0.1, groups: int = 1) -> torch.optim.SGD:
    params = [{"params": [torch.zeros(1, requires_grad=True)]} for _ in range(groups)]
    return torch.optim.SGD(params, lr=lr)


def nested_loop(optimizer, epochs: int, iters: int, batch=(), epoch=(), plateau=None):
    """Record lr per batch; step `batch` members after each batch, `epoch` ones after each epoch.

    Members are (scheduler, frequency); frequency counts like Lightning's: batch index within
    the epoch + 1, epoch index + 1.
    """
    rows = []
    metrics = iter(plateau or [])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for e in range(epochs):
            for i in range(iters):
                rows.append([g["lr"] for g in optimizer.param_groups])
                optimizer.step()
                for sched, f in batch:
                    if (i + 1) % f == 0:
                        sched.step()
            for sched, f in epoch:
                if (e + 1) % f == 0:
                    if isinstance(sched, L.ReduceLROnPlateau):
                        sched.step(next(metrics))
                    else:
                        sched.step()
    return rows


def test_step_epoch_keeps_one_row_per_batch():
    trace = lrviz.run(
        {"scheduler": {"type": "StepLR", "step_size": 2, "gamma": 0.5}},
        epochs=5,
        iters_per_epoch=4,
        step="epoch",
    )
    opt = sgd()
    expected = nested_loop(opt, 5, 4, epoch=[(L.StepLR(opt, 2, 0.5), 1)])
    assert trace.rows == 20
    assert trace.lr.tolist() == expected
    assert trace.row(5)["epoch"] == 1 and trace.row(5)["iter"] == 1
    assert trace.lr[:4, 0].tolist() == [0.1] * 4  # an epoch's rows share its lr


def test_plateau_per_epoch_takes_one_metric_per_epoch():
    metrics = [1.0, 1.0, 1.0, 0.5]
    trace = lrviz.run(
        {
            "scheduler": {"type": "ReduceLROnPlateau", "patience": 0},
            "run": {"metrics": metrics},
        },
        epochs=4,
        iters_per_epoch=3,
    )
    opt = sgd()
    expected = nested_loop(
        opt, 4, 3, epoch=[(L.ReduceLROnPlateau(opt, patience=0), 1)], plateau=metrics
    )
    assert trace.lr.tolist() == expected and trace.rows == 12
    with pytest.raises(SpecError, match=r"3 values for 4 scheduler steps"):
        lrviz.run(
            {"scheduler": {"type": "ReduceLROnPlateau"}, "run": {"metrics": [1, 1, 1]}},
            epochs=4,
            iters_per_epoch=3,
        )


def test_scheduler_first_per_epoch_steps_at_the_top_of_each_epoch():
    trace = lrviz.run(
        {"scheduler": {"type": "ExponentialLR", "gamma": 0.5}, "run": {"order": "scheduler_first"}},
        epochs=3,
        iters_per_epoch=2,
    )
    opt = sgd()
    sched = L.ExponentialLR(opt, 0.5)
    expected = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3):
            sched.step()
            for _ in range(2):
                expected.append([opt.param_groups[0]["lr"]])
                opt.step()
    assert trace.lr.tolist() == expected


LIST = {
    "optimizer": {"type": "SGD", "lr": 0.1},
    "param_groups": [{"name": "body", "lr": 0.01}, {"name": "head", "lr": 0.1}],
    "scheduler": [
        {"type": "LinearLR", "start_factor": 0.1, "total_iters": 6, "step": "batch"},
        {"type": "CosineAnnealingLR", "T_max": 5, "step": "epoch"},
    ],
}


def torch_list(epochs: int, iters: int, batch_f: int = 1, epoch_f: int = 1):
    opt = torch.optim.SGD(
        [
            {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.01},
            {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.1},
        ],
        lr=0.1,
    )
    warm = L.LinearLR(opt, start_factor=0.1, total_iters=6)
    cosine = L.CosineAnnealingLR(opt, T_max=5)
    return nested_loop(opt, epochs, iters, batch=[(warm, batch_f)], epoch=[(cosine, epoch_f)])


def test_a_scheduler_list_steps_each_member_at_its_own_interval():
    trace = lrviz.run(LIST, epochs=5, iters_per_epoch=4)
    assert trace.lr.tolist() == torch_list(5, 4)
    assert (trace.scheduler, trace.step_mode, trace.rows) == (
        "LinearLR + CosineAnnealingLR",
        "mixed",
        20,
    )


def test_frequency_counts_batches_within_the_epoch_and_epochs():
    data = {
        **LIST,
        "scheduler": [
            {**LIST["scheduler"][0], "frequency": 3},
            {**LIST["scheduler"][1], "frequency": 2},
        ],
    }
    trace = lrviz.run(data, epochs=6, iters_per_epoch=4)
    assert trace.lr.tolist() == torch_list(6, 4, batch_f=3, epoch_f=2)


def test_onecycle_in_a_list_is_filled_with_its_own_step_count():
    data = {
        "scheduler": [
            {"type": "OneCycleLR", "max_lr": 0.5},  # per batch by nature
            {"type": "StepLR", "step_size": 1, "gamma": 0.9, "step": "epoch"},
        ]
    }
    plan = lrviz.make_plan(data, epochs=3, iters_per_epoch=5)
    assert plan.filled == {"scheduler[0]": {"total_steps": 15}}
    opt = sgd()
    expected = nested_loop(
        opt,
        3,
        5,
        batch=[(L.OneCycleLR(opt, max_lr=0.5, total_steps=15), 1)],
        epoch=[(L.StepLR(opt, 1, 0.9), 1)],
    )
    assert lrviz.run(data, epochs=3, iters_per_epoch=5).lr.tolist() == expected


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        (
            {"run": {"step": "batch"}},
            "run.step",
            "run.step does not apply to a scheduler list: give each member its own step: batch "
            "or step: epoch",
        ),
        (
            {"run": {"order": "scheduler_first"}},
            "run.order",
            "a scheduler list is stepped after each batch and epoch, as Lightning and mmengine "
            "do: use optimizer_first",
        ),
    ],
)
def test_list_level_errors(change: dict, key: str, message: str):
    with pytest.raises(SpecError) as err:
        lrviz.run({**LIST, **change}, epochs=2, iters_per_epoch=2)
    assert [(p.key, p.message) for p in err.value.problems] == [(key, message)]


def test_member_keys_are_checked(tmp_path: Path):
    f = tmp_path / "list.yaml"
    f.write_text(
        "scheduler:\n"
        "  - {type: LinearLR, step: batches}\n"
        "  - {type: StepLR, step_size: 2, frequency: 0}\n"
        "run: {epochs: 2, iters_per_epoch: 3}\n"
    )
    result = CliRunner().invoke(app, ["table", str(f)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {f}:2: scheduler[0].step: expected batch or epoch, got 'batches'; did you mean "
        "'batch'? (a list member steps after each batch or after each epoch)\n"
        f"error: {f}:3: scheduler[1].frequency: expected a whole number of at least 1, got 0\n"
    )


def test_resume_and_code_follow_the_list(tmp_path: Path):
    report = lrviz.resume(LIST, at=7, epochs=5, iters_per_epoch=4)
    assert report.ok
    from lrviz.build import build
    from lrviz.inspect.code import generate

    plan = lrviz.make_plan(LIST, epochs=5, iters_per_epoch=4)
    source = generate(plan, build(plan).momentum_keys)
    assert "cosine_annealing_lr.step()" in source and "linear_lr.step()" in source
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(source, "snippet.py", "exec"), namespace)
    assert namespace["lrs"] == torch_list(5, 4)


def test_code_of_per_epoch_stepping_with_batches_runs_the_same_rows():
    from lrviz.build import build
    from lrviz.inspect.code import generate

    for order in ("optimizer_first", "scheduler_first"):
        data = {"scheduler": {"type": "StepLR", "step_size": 2}, "run": {"order": order}}
        plan = lrviz.make_plan(data, epochs=4, iters_per_epoch=3, step="epoch")
        namespace: dict = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(generate(plan, build(plan).momentum_keys), "s.py", "exec"), namespace)
        assert namespace["lrs"] == lrviz.run(data, epochs=4, iters_per_epoch=3).lr.tolist()


def test_diff_refuses_a_list_in_one_line():
    with pytest.raises(UsageError) as err:
        lrviz.diff(LIST, epochs=2, iters_per_epoch=2)
    assert str(err.value) == (
        "diff inspects one scheduler object, and spec has a list of 2 (LinearLR + "
        "CosineAnnealingLR); write one member as its own spec"
    )
