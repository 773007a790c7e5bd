"""transformers TrainingArguments: the run's numbers as Trainer derives them, and the schedule
from transformers' own get_scheduler (compared bit for bit where transformers is installed)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lrviz.cli import app
from lrviz.errors import SpecError
from lrviz.load import Options, load_plan, load_spec
from lrviz.simulation import run

DATA = Path(__file__).parent.parent / "data" / "formats"
JSON = str(DATA / "hf_args.json")
YAML = str(DATA / "hf_args.yaml")
NOT_INSTALLED = (
    "transformers.get_scheduler is transformers' own schedule, and the transformers package "
    "is not installed; install lrviz's optional extra: pip install 'lrviz[hf]'"
)


def _problems(path: str, options: Options) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_plan(path, options)
    return [str(p) for p in info.value.problems]


@pytest.fixture
def no_transformers(monkeypatch):
    """Make `import transformers...` fail as it does when the package is not installed."""
    monkeypatch.setitem(sys.modules, "transformers", None)
    monkeypatch.setitem(sys.modules, "transformers.optimization", None)


def test_epochs_batches_and_accumulation_give_trainers_step_counts():
    spec = load_spec(JSON, Options(iters=250))
    # 250 batches / 4 accumulation = 63 optimizer steps per epoch (Trainer rounds up),
    # 3 epochs = 189 steps, warmup_ratio 0.1 -> ceil(18.9) = 19 steps.
    assert spec.scheduler.type == "transformers.get_scheduler"
    assert spec.scheduler.kwargs == {
        "name": "cosine",
        "num_warmup_steps": 19,
        "num_training_steps": 189,
        "scheduler_specific_kwargs": {},
    }
    assert (spec.run.epochs, spec.run.iters_per_epoch, spec.run.steps, spec.run.step) == (
        3,
        63,
        None,
        "batch",
    )
    assert spec.optimizer_type == "AdamW"
    assert spec.optimizer_kwargs == {
        "lr": 2e-05,
        "betas": [0.9, 0.999],
        "eps": 1e-08,
        "weight_decay": 0.01,
    }
    assert spec.notes == [
        "hf: 3 epochs × 250 batches / 4 accumulation = 189 optimizer steps "
        "(63 per epoch, rounded up); warmup 19 steps (warmup_ratio 0.1)"
    ]


def test_max_steps_beats_epochs_and_a_small_warmup_steps_is_a_ratio():
    spec = load_spec(YAML, Options(iters=1000))
    # 1000 batches / 8 = 125 steps per epoch; max_steps 500 -> 4 epochs; 0.03 * 500 = 15.
    assert spec.scheduler.kwargs == {
        "name": "cosine_with_min_lr",
        "num_warmup_steps": 15,
        "num_training_steps": 500,
        "scheduler_specific_kwargs": {"min_lr_rate": 0.1},
    }
    assert (spec.run.epochs, spec.run.iters_per_epoch, spec.run.steps) == (4, 125, None)
    assert spec.optimizer_kwargs["lr"] == 2e-4
    assert spec.notes == [
        "hf: max_steps = 500 optimizer steps at 1,000 batches / 8 accumulation = 125 per "
        "epoch (4 epochs); warmup 15 steps (ratio 0.03)"
    ]
    alone = load_spec(YAML)  # no --iters: max_steps is the whole run
    assert (alone.run.epochs, alone.run.iters_per_epoch) == (1, 500)


def test_fractional_epochs_end_the_run_inside_an_epoch(tmp_path):
    f = tmp_path / "args.json"
    f.write_text('{"num_train_epochs": 2.5, "gradient_accumulation_steps": 3, "warmup_steps": 2}')
    spec = load_spec(str(f), Options(iters=10))
    # ceil(10 / 3) = 4 steps per epoch; ceil(2.5 * 4) = 10 steps over 3 epochs (12 slots).
    assert (spec.run.epochs, spec.run.iters_per_epoch, spec.run.steps) == (3, 4, 10)
    assert spec.scheduler.kwargs["num_warmup_steps"] == 2
    assert spec.scheduler.kwargs["name"] == "linear"  # TrainingArguments' default


def test_epochs_need_the_number_of_batches():
    assert _problems(JSON, Options()) == [
        f"{JSON}:19: num_train_epochs: num_train_epochs needs the number of batches per epoch "
        "to count optimizer steps: pass --iters N (the len() of the train dataloader)"
    ]


def test_bad_values_name_their_keys(tmp_path):
    f = tmp_path / "args.yaml"
    f.write_text(
        "learning_rate: fast\nlr_scheduler_type: reduce_lr_on_plateau\n"
        "gradient_accumulation_steps: 0\n"
    )
    assert _problems(str(f), Options(iters=10)) == [
        f"{f}:1: learning_rate: expected a number, got 'fast'",
        f"{f}:2: lr_scheduler_type: reduce_lr_on_plateau steps on evaluation metrics, which "
        "TrainingArguments do not contain; write a native spec with ReduceLROnPlateau and "
        "run.metrics",
        f"{f}:3: gradient_accumulation_steps: must be at least 1, got 0",
    ]


def test_without_transformers_the_user_is_told_how_to_install_it(no_transformers):
    assert _problems(JSON, Options(iters=250)) == [f"{JSON}:21: lr_scheduler_type: {NOT_INSTALLED}"]
    result = CliRunner().invoke(app, ["table", JSON, "--iters", "250"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"error: {JSON}:21: lr_scheduler_type: {NOT_INSTALLED}\n"


def test_hydra_transformers_target_without_transformers(no_transformers):
    path = str(DATA / "hydra_hf.yaml")
    assert _problems(path, Options(iters=50)) == [
        f"{path}:11: model.scheduler._target_: transformers.get_cosine_schedule_with_warmup is "
        "transformers' own schedule, and the transformers package is not installed; install "
        "lrviz's optional extra: pip install 'lrviz[hf]'"
    ]


# --- with transformers installed: its own get_scheduler is the reference -------------------


def _transformers_rows(name: str, lr: float, warmup: int, total: int, extra: dict) -> list:
    import torch

    transformers = pytest.importorskip("transformers")
    opt = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = transformers.get_scheduler(
        name,
        opt,
        num_warmup_steps=warmup,
        num_training_steps=total,
        scheduler_specific_kwargs=extra,
    )
    rows = []
    for _ in range(total):  # Trainer: optimizer.step(); lr_scheduler.step() per update
        rows.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return rows


def test_json_args_equal_transformers_bit_for_bit():
    pytest.importorskip("transformers")
    plan = load_plan(JSON, Options(iters=250))
    assert plan.scheduler_class == "transformers.get_scheduler('cosine')"
    trace = run(plan)
    expected = _transformers_rows("cosine", 2e-05, 19, 189, {})
    assert trace.error is None and trace.rows == 189
    assert np.array_equal(trace.lr[:, 0], np.array(expected, dtype=np.float64))
    assert trace.lr[0, 0] == 0.0 and trace.lr[19, 0] == 2e-05  # the warm-up peak


def test_yaml_args_equal_transformers_bit_for_bit():
    pytest.importorskip("transformers")
    trace = run(load_plan(YAML, Options(iters=1000)))
    expected = _transformers_rows("cosine_with_min_lr", 2e-4, 15, 500, {"min_lr_rate": 0.1})
    assert np.array_equal(trace.lr[:, 0], np.array(expected, dtype=np.float64))
    assert math.isclose(trace.lr[-1, 0], 2e-5, rel_tol=1e-3)  # ends near min_lr_rate × lr


def test_hydra_function_target_equals_transformers():
    transformers = pytest.importorskip("transformers")
    import torch

    trace = run(load_plan(str(DATA / "hydra_hf.yaml"), Options(iters=50)))
    opt = torch.optim.AdamW(
        [torch.zeros(1, requires_grad=True)], lr=0.0003, betas=(0.9, 0.95), weight_decay=0.1
    )
    sched = transformers.get_cosine_schedule_with_warmup(opt, 20, 200, num_cycles=0.5)
    expected = []
    for _ in range(200):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert (trace.step_mode, trace.rows) == ("batch", 200)
    assert np.array_equal(trace.lr[:, 0], np.array(expected, dtype=np.float64))


def test_unknown_names_and_kwargs_are_located(tmp_path):
    pytest.importorskip("transformers")
    f = tmp_path / "args.yaml"
    f.write_text(
        "lr_scheduler_type: cosine_with_restart\nmax_steps: 100\n"
        "lr_scheduler_kwargs:\n  num_cycle: 2\n"
    )
    assert _problems(str(f), Options()) == [
        f"{f}:1: lr_scheduler_type: unknown transformers scheduler 'cosine_with_restart'; "
        "did you mean 'cosine_with_restarts'? (one of: linear, cosine, cosine_with_restarts, "
        "polynomial, constant, constant_with_warmup, inverse_sqrt, reduce_lr_on_plateau, "
        "cosine_with_min_lr, cosine_warmup_with_min_lr, warmup_stable_decay, greedy)"
    ]
    f.write_text(
        "lr_scheduler_type: cosine_with_restarts\nmax_steps: 100\n"
        "lr_scheduler_kwargs:\n  num_cycle: 2\n"
    )
    assert _problems(str(f), Options()) == [
        f"{f}:4: lr_scheduler_kwargs.num_cycle: unknown argument for "
        "get_cosine_with_hard_restarts_schedule_with_warmup; did you mean 'num_cycles'? "
        "(arguments: num_warmup_steps, num_training_steps, num_cycles)"
    ]


def test_table_and_json_output_for_hf_args():
    pytest.importorskip("transformers")
    result = CliRunner().invoke(app, ["table", JSON, "--iters", "250", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    import json

    data = json.loads(result.stdout)
    assert (data["name"], data["step_mode"], len(data["rows"])) == ("hf_args", "batch", 189)
    assert data["rows"][63]["epoch"] == 1 and data["rows"][63]["iter"] == 0
