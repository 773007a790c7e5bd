"""lrviz.training: the table's rows drive a real training run; plateau on the real loss; seeds."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import lrviz
from lrviz import training
from lrviz.errors import SpecError, UsageError
from lrviz.load import Options, load_plan, load_spec
from lrviz.render import training as render
from lrviz.simulation import run as simulate
from tests.docs.markdown import PageRun

EPOCHS = 3


@pytest.fixture(scope="module")
def data():
    """96 training images in 6 batches of 16, 24 held out: a run takes a few milliseconds."""
    return training.digits(16, limit=96)


def train_one(spec, data, *sets: str, epochs: int = EPOCHS, seed: int = 0, model: str = "lenet"):
    train_loader, test_loader = data
    plan = training.training_plan(spec, Options(tuple(sets), epochs), len(train_loader))
    return training.run_plan(plan, training.make_model(model), train_loader, test_loader, seed=seed)


def table_rows(spec, data, *sets: str, epochs: int = EPOCHS):
    """What `lrviz table SPEC --epochs E --iters N` shows for the same spec."""
    return simulate(load_plan(spec, Options(tuple(sets), epochs, len(data[0]))))


# --- the schedule the model is trained with is the table's --------------------------------

SAME_ROWS = [
    ("steplr", ("scheduler.step_size=1", "scheduler.gamma=0.5")),  # per epoch
    ("onecyclelr", ()),  # per batch, momentum cycled too
    ("cosine_warm", ()),  # fractional, backbone and head groups
    ("steplr", ("scheduler.step_size=1", "run.order=scheduler_first")),
    ("exponentiallr", ("run.step=batch", "scheduler.gamma=0.9")),
    (
        {
            "scheduler": {
                "type": "SequentialLR",
                "schedulers": [
                    {"type": "LinearLR", "start_factor": 0.1, "total_iters": 1},
                    {"type": "ExponentialLR", "gamma": 0.5},
                ],
                "milestones": [1],
            }
        },
        (),
    ),
    ("textbook_cosine_warmup", ()),  # a recipe (LambdaLR)
    (  # a scheduler list: one member per batch, one per epoch
        {
            "scheduler": [
                {"type": "LinearLR", "start_factor": 0.5, "total_iters": 3, "step": "batch"},
                {"type": "ExponentialLR", "gamma": 0.5, "step": "epoch"},
            ]
        },
        (),
    ),
]


@pytest.mark.parametrize(("spec", "sets"), SAME_ROWS)
def test_the_real_optimizer_steps_with_the_tables_rows(data, spec, sets):
    result = train_one(spec, data, *sets)
    table = table_rows(spec, data, *sets)
    assert result.trace.error is None and table.error is None
    assert np.array_equal(result.trace.lr, table.lr)
    assert np.array_equal(result.trace.momentum, table.momentum, equal_nan=True)
    # the lr in the real optimizer at each of its steps, not only the scheduler's twin
    assert np.array_equal(result.used_lr, table.lr)
    assert result.epochs == EPOCHS and len(result.train_loss) == EPOCHS


def test_param_groups_train_the_parts_they_name(data):
    model = training.make_model("lenet")()
    spec = load_spec("cosine_warm")
    groups, parts = training.assign_groups(model, spec)
    assert parts == ["backbone", "head"]
    assert [sum(p.numel() for p in g) for g in groups] == [
        sum(p.numel() for p in model.backbone.parameters()),
        sum(p.numel() for p in model.head.parameters()),
    ]
    result = train_one("cosine_warm", data)
    assert result.parts == ["backbone", "head"]
    assert result.trace.lr[0].tolist() == [0.01, 0.1]


def test_one_unnamed_group_trains_the_whole_model():
    model = training.make_model("mlp")()
    groups, parts = training.assign_groups(model, load_spec("steplr"))
    assert parts == ["the whole model"]
    assert len(groups[0]) == len(list(model.parameters()))


def _groups_spec(*names: str) -> dict:
    return {
        "param_groups": [{"name": n, "lr": 0.1} for n in names],
        "scheduler": {"type": "StepLR", "step_size": 2},
        "run": {"epochs": 2},
    }


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (
            ("encoder", "decoder"),
            "<dict>: param_groups[0].name: group 'encoder' names no part of the model (its parts: "
            "backbone, head); name each group after a part, or use one group for the whole model",
        ),
        (
            ("backbone",),
            "<dict>: param_groups: the groups leave head untrained (2 parameter tensors); add a "
            "group for each part (the model's parts: backbone, head)",
        ),
        (
            ("backbone", "head", "head.0"),
            "<dict>: param_groups[2].name: groups 'head' and 'head.0' share parameters; give each "
            "part of the model to one group",
        ),
    ],
)
def test_groups_that_do_not_fit_the_model_are_refused_in_one_line(names, message):
    model = training.make_model("mlp")()
    with pytest.raises(SpecError) as caught:
        training.assign_groups(model, load_spec(_groups_spec(*names)))
    assert str(caught.value) == message


def test_a_dotted_group_name_takes_that_submodule(data):
    spec = _groups_spec("backbone.1", "head")
    groups, parts = training.assign_groups(training.make_model("mlp")(), load_spec(spec))
    assert parts == ["backbone.1", "head"] and [len(g) for g in groups] == [2, 2]


# --- ReduceLROnPlateau: the real held-out loss, not run.metrics ---------------------------

PLATEAU = ("scheduler.patience=0", "scheduler.threshold=0.2")


def test_plateau_steps_on_the_held_out_loss_and_differs_from_the_replayed_one(data):
    epochs = 6
    result = train_one("reducelronplateau", data, *PLATEAU, epochs=epochs)
    # stepped once per epoch, after the epoch's measures: on exactly that held-out loss
    assert result.fed_metrics == result.test_loss
    assert len(result.fed_metrics) == epochs
    replayed = table_rows("reducelronplateau", data, *PLATEAU, epochs=epochs)
    assert not np.array_equal(result.trace.lr, replayed.lr)  # the honest difference
    fed = f"run.metrics={result.fed_metrics!r}"
    assert np.array_equal(
        result.trace.lr, table_rows("reducelronplateau", data, *PLATEAU, fed, epochs=epochs).lr
    )
    assert result.trace.notes[-1] == (
        "ReduceLROnPlateau is fed the held-out loss of the model as it steps "
        "(run.metrics is not used)"
    )


def test_plateau_needs_no_metrics_in_the_spec(data):
    spec = {"scheduler": {"type": "ReduceLROnPlateau", "patience": 0}, "run": {"epochs": 2}}
    result = train_one(spec, data)
    assert result.fed_metrics == result.test_loss
    assert result.trace.notes[-1] == (
        "ReduceLROnPlateau is fed the held-out loss of the model as it steps"
    )


def test_plateau_per_batch_measures_after_every_step(data):
    result = train_one("reducelronplateau", data, "run.step=batch", epochs=2)
    assert result.fed_metrics is not None and len(result.fed_metrics) == 2 * len(data[0])
    # the last step of each epoch sees the model the epoch's measures saw
    assert result.fed_metrics[len(data[0]) - 1 :: len(data[0])] == result.test_loss


# --- determinism ----------------------------------------------------------------------------


def _csv(result) -> str:
    return "".join(render.iter_csv([result]))


def test_same_seed_same_numbers_byte_for_byte(data):
    first, second = train_one("textbook_factor", data), train_one("textbook_factor", data)
    assert _csv(first) == _csv(second)
    assert first.test_loss == second.test_loss
    other = train_one("textbook_factor", data, seed=1)
    assert other.train_loss != first.train_loss
    assert np.array_equal(other.trace.lr, first.trace.lr)  # the schedule does not care


def test_global_torch_state_is_left_as_it_was(data):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    threads = torch.get_num_threads()
    train_one("steplr", data, epochs=1)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads
    assert not torch.are_deterministic_algorithms_enabled()


# --- failures -------------------------------------------------------------------------------


def test_a_scheduler_failure_keeps_the_epochs_before_it(data):
    result = train_one("onecyclelr", data, "scheduler.total_steps=8")
    assert result.trace.error is not None
    assert result.trace.error.step == 9 and result.trace.rows == 9
    assert result.epochs == 1  # epoch 0 (6 batches) finished; epoch 1 did not
    assert result.used_lr.shape == (9, 1)


def test_a_model_that_raises_is_a_training_error_with_its_cause(data):
    def broken():
        return nn.Sequential(OrderedDict(backbone=nn.Flatten(), head=nn.Linear(63, 10)))

    train_loader, test_loader = data
    plan = training.training_plan("steplr", Options(epochs=1), len(train_loader))
    with pytest.raises(training.TrainingError) as caught:
        training.run_plan(plan, broken, train_loader, test_loader)
    assert str(caught.value) == (
        "steplr: training failed at row 0 (epoch 0): RuntimeError: mat1 and mat2 shapes "
        "cannot be multiplied (16x64 and 63x10)"
    )
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert caught.value.exit_code == 1


def test_run_steps_is_refused(data):
    spec = {"scheduler": {"type": "StepLR", "step_size": 2}, "run": {"epochs": 2, "steps": 3}}
    with pytest.raises(SpecError) as caught:
        training.training_plan(spec, Options(), len(data[0]))
    assert str(caught.value) == (
        "<dict>: run.steps: lrviz train runs whole epochs; drop run.steps and set run.epochs"
    )


def test_without_scikit_learn_the_message_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(UsageError) as caught:
        training.digits()
    assert str(caught.value) == (
        "lrviz train needs scikit-learn for the digits data: pip install 'lrviz[train]'"
    )
    assert caught.value.exit_code == 2


def test_lbfgs_steps_with_a_closure(data):
    lbfgs = "optimizer={type: LBFGS, lr: 0.1}"
    result = train_one("steplr", data, lbfgs, epochs=1)
    assert result.trace.error is None and result.epochs == 1
    assert np.array_equal(result.used_lr, table_rows("steplr", data, lbfgs, epochs=1).lr)


# --- the Python API -------------------------------------------------------------------------


def test_train_api_with_your_own_model_and_loaders():
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    x = torch.randn(96, 4)
    y = (x.sum(dim=1) > 0).long()
    train_loader = DataLoader(TensorDataset(x[:64], y[:64]), batch_size=16, shuffle=True)
    test_loader = DataLoader(TensorDataset(x[64:], y[64:]), batch_size=32)

    def make_model():
        return nn.Sequential(
            OrderedDict(body=nn.Sequential(nn.Linear(4, 8), nn.ReLU()), head=nn.Linear(8, 2))
        )

    spec = {
        "param_groups": [{"name": "body", "lr": 0.05}, {"name": "head", "lr": 0.5}],
        "scheduler": {"type": "CosineAnnealingLR", "T_max": 5},
    }
    runs = lrviz.train(make_model, train_loader, test_loader, [spec, "steplr"], epochs=5)
    assert [r.name for r in runs] == ["spec", "steplr"]
    assert runs[0].parts == ["body", "head"] and runs[0].trace.rows == 5 * 4
    again = lrviz.train(make_model, train_loader, test_loader, spec, epochs=5)
    assert again[0].test_acc == runs[0].test_acc  # seeded: the loaders' shuffles too
    expected = simulate(load_plan(spec, Options(epochs=5, iters=4)))
    assert np.array_equal(runs[0].used_lr, expected.lr)


def test_a_loader_without_length_is_refused():
    with pytest.raises(UsageError, match="train_loader needs a length"):
        lrviz.train(lambda: None, iter([]), [], "steplr")


def test_the_training_page_example_runs(tmp_path: Path):
    page = Path(__file__).parents[2] / "docs" / "train.md"
    outcome = PageRun(page, tmp_path, only={"python", "text"}).run()
    assert outcome.executed == 2 and outcome.compared == 1  # the example and what it prints
    assert (tmp_path / "quadrants.png").stat().st_size > 0
    assert (tmp_path / "quadrants.csv").read_text().startswith("spec,epoch,lr_body,lr_head,")


# --- output ---------------------------------------------------------------------------------


def test_csv_has_one_row_per_epoch_and_an_lr_column_per_group(data):
    runs = [train_one("steplr", data), train_one("cosine_warm", data)]
    rows = list(csv.DictReader(io.StringIO("".join(render.iter_csv(runs)))))
    assert list(rows[0]) == [
        "spec", "epoch", "lr_group0", "lr_backbone", "lr_head",
        "train_loss", "train_acc", "test_loss", "test_acc",
    ]  # fmt: skip
    assert [(r["spec"], r["epoch"]) for r in rows] == [
        (name, str(e)) for name in ("steplr", "cosine_warm") for e in range(EPOCHS)
    ]
    assert rows[0]["lr_backbone"] == "" and rows[EPOCHS]["lr_group0"] == ""
    # each epoch's lr is the table's at the epoch's first step
    table = table_rows("cosine_warm", data)
    assert [float(r["lr_head"]) for r in rows[EPOCHS:]] == table.lr[:: len(data[0]), 1].tolist()
    assert [float(r["test_acc"]) for r in rows[:EPOCHS]] == runs[0].test_acc


def test_json_round_trips_every_number(data):
    result = train_one("reducelronplateau", data, *PLATEAU)
    setup = {"data": "digits", "seed": 0}
    doc = json.loads("".join(render.iter_json([result], setup)))
    assert doc["data"] == "digits" and doc["seed"] == 0
    (run,) = doc["runs"]
    assert run["name"] == "reducelronplateau" and run["groups"] == ["group0"]
    assert run["parts"] == ["the whole model"]
    assert [e["test_loss"] for e in run["epochs"]] == result.test_loss
    assert [e["lr"] for e in run["epochs"]] == result.epoch_lr()
    assert run["plateau_metrics"] == result.fed_metrics
    assert run["error"] is None and run["warnings"] == []


def test_figure_has_a_column_per_measure_and_a_line_per_run(data):
    runs = [train_one("steplr", data), train_one("cosine_warm", data)]
    fig = training.figure(runs)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["learning rate", "train loss (log)", "train accuracy", "test accuracy"]
    lr_ax, loss_ax, acc_ax, test_ax = fig.axes
    assert acc_ax.get_lines()[0].get_ydata().tolist() == runs[0].train_acc
    assert [ln.get_gid() for ln in lr_ax.get_lines()] == ["lr:0:0", "lr:1:0", "lr:1:1"]
    assert lr_ax.get_lines()[2].get_ydata().tolist() == runs[1].trace.lr[:, 1].tolist()
    assert test_ax.get_lines()[1].get_ydata().tolist() == runs[1].test_acc
    assert test_ax.get_lines()[1].get_xdata().tolist() == [1.0, 2.0, 3.0]  # end of each epoch
    assert loss_ax.get_yscale() == "log"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["steplr", "cosine_warm"]


def test_to_csv_writes_the_same_text(tmp_path: Path, data):
    result = train_one("steplr", data)
    training.to_csv([result], tmp_path / "runs.csv")
    assert (tmp_path / "runs.csv").read_text() == _csv(result)


def test_epoch_lr_is_the_first_step_of_each_epoch(data):
    result = train_one("onecyclelr", data)
    iters = len(data[0])
    assert result.epoch_lr() == [[float(result.trace.lr[e * iters, 0])] for e in range(EPOCHS)]
