"""LightningCLI configs: lrviz's rows equal a plain torch loop of the same config, bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lrviz.cli import app
from lrviz.errors import SpecError
from lrviz.load import Options, load_plan, load_spec
from lrviz.simulation import run
from tests.reference import reference_rows

DATA = Path(__file__).parent.parent / "data" / "formats"


def _path(name: str) -> str:
    return str(DATA / name)


def _same(trace, expected: dict, epochs: int, iters: int, mode: str) -> None:
    lrs, moms, failed = reference_rows(expected, epochs, iters, mode)
    assert failed is None and trace.error is None
    assert np.array_equal(trace.lr, np.array(lrs, dtype=np.float64))  # bit for bit
    column = np.array([m[0] for m in moms], dtype=np.float64)
    assert np.array_equal(trace.momentum[:, 0], column)


def test_print_config_file_is_detected_and_matches_torch():
    spec = load_spec(_path("lightning.yaml"))
    assert (spec.name, spec.scheduler.type, spec.run.epochs) == (
        "lightning",
        "CosineAnnealingLR",
        30,
    )
    assert spec.optimizer_type == "SGD"
    assert spec.scheduler.kwargs == {"T_max": 30, "eta_min": 1e-05, "last_epoch": -1}
    trace = run(load_plan(_path("lightning.yaml")))
    expected = {
        "optimizer": {
            "type": "SGD",
            "lr": 0.1,
            "momentum": 0.9,
            "dampening": 0.0,
            "weight_decay": 0.0005,
            "nesterov": True,
        },
        "scheduler": {"type": "CosineAnnealingLR", "T_max": 30, "eta_min": 1e-5},
    }
    assert (trace.step_mode, trace.rows) == ("epoch", 30)
    _same(trace, expected, 30, 1, "epoch")


def test_interval_step_and_accumulation_give_optimizer_steps_per_epoch():
    # 50 batches / accumulate_grad_batches 2 = 25 optimizer (and scheduler) steps per epoch.
    trace = run(load_plan(_path("lightning_step.yaml"), Options(iters=50)))
    assert (trace.step_mode, trace.epochs, trace.iters_per_epoch, trace.rows) == (
        "batch",
        4,
        25,
        100,
    )
    assert trace.notes == ["50 batches / 2 accumulation = 25 optimizer steps per epoch"]
    expected = {
        "optimizer": {"type": "AdamW", "lr": 0.0001, "weight_decay": 0.01},
        "scheduler": {"type": "OneCycleLR", "max_lr": 0.001, "total_steps": 100, "pct_start": 0.1},
    }
    _same(trace, expected, 4, 25, "batch")


def test_model_init_args_layout_with_sequential_children():
    trace = run(load_plan(_path("lightning_model_args.yaml")))
    expected = {
        "optimizer": {"type": "AdamW", "lr": 0.0005, "betas": [0.9, 0.95], "weight_decay": 0.05},
        "scheduler": {
            "type": "SequentialLR",
            "schedulers": [
                {"type": "LinearLR", "start_factor": 0.01, "total_iters": 2},
                {"type": "CosineAnnealingLR", "T_max": 10, "eta_min": 1e-6},
            ],
            "milestones": [2],
        },
    }
    assert (trace.scheduler, trace.rows) == ("SequentialLR", 12)
    _same(trace, expected, 12, 1, "epoch")


def test_lightning_plateau_subclass_reads_metrics_from_the_command_line():
    metrics = "[1.0, 0.9, 0.95, 0.97, 0.96, 0.99, 0.98, 0.97]"
    trace = run(load_plan(_path("lightning_plateau.yaml"), Options((f"run.metrics={metrics}",))))
    assert trace.notes == ["monitor: val_loss (give its values with run.metrics)"]
    expected = {
        "optimizer": {"type": "Adam", "lr": 0.001},
        "scheduler": {"type": "ReduceLROnPlateau", "mode": "min", "factor": 0.5, "patience": 1},
        "run": {"metrics": [1.0, 0.9, 0.95, 0.97, 0.96, 0.99, 0.98, 0.97]},
    }
    _same(trace, expected, 8, 1, "epoch")
    assert trace.lr[-1, 0] < trace.lr[0, 0]  # the plateau did cut the lr


def test_short_class_path_and_configure_optimizers_dict_shape(tmp_path):
    f = tmp_path / "cli.yaml"
    f.write_text(
        "trainer:\n  max_steps: 30\n"
        "optimizer: torch.optim.SGD\n"
        "lr_scheduler:\n"
        "  scheduler:\n    class_path: ExponentialLR\n    init_args: {gamma: 0.9}\n"
        "  interval: step\n  frequency: 1\n"
    )
    trace = run(load_plan(str(f), Options(iters=8)))
    # 30 optimizer steps at 8 per epoch: 4 epochs, the last one cut short after 6 steps.
    assert (trace.step_mode, trace.epochs, trace.iters_per_epoch, trace.rows) == ("batch", 4, 8, 30)
    assert trace.notes == [
        "optimizer lr not set: SGD's default 0.001",
        "trainer.max_steps=30 optimizer steps at 8 per epoch end the run in epoch 3",
    ]
    expected = {
        "optimizer": {"type": "SGD", "lr": 0.001},
        "scheduler": {"type": "ExponentialLR", "gamma": 0.9},
    }
    _same(trace, expected, 30, 1, "batch")


def test_no_max_epochs_means_lightnings_default_of_1000(tmp_path):
    f = tmp_path / "cli.yaml"
    f.write_text("lr_scheduler:\n  class_path: StepLR\n  init_args: {step_size: 300}\n")
    spec = load_spec(str(f))
    assert spec.run.epochs == 1000
    assert spec.notes[-1] == "trainer.max_epochs not set: Lightning's default is 1000 epochs"
    assert load_spec(str(f), Options(epochs=7)).run.epochs == 7


def _problems(path: str, options: Options | None = None) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_plan(path, options or Options())
    return [str(p) for p in info.value.problems]


def test_a_class_outside_torch_is_refused_at_its_line():
    path = _path("lightning_bad.yaml")
    assert _problems(path) == [
        f"{path}:8: lr_scheduler.class_path: 'my_project.schedulers.WarmupCosine' is not in "
        "torch.optim.lr_scheduler; lrviz builds only torch's own scheduler classes "
        "(it never imports a module a config names)"
    ]


def test_errors_name_the_users_key_path_and_line(tmp_path):
    f = tmp_path / "cli.yaml"
    f.write_text(
        "trainer:\n"
        "  max_epochs: 10\n"
        "optimizer:\n"
        "  class_path: torch.optim.SGD\n"
        "  init_args:\n"
        "    lr: 0.1\n"
        "lr_scheduler:\n"
        "  class_path: torch.optim.lr_scheduler.StepLR\n"
        "  init_args:\n"
        "    step_sise: 3\n"
        '    gamma: "half"\n'
    )
    assert _problems(str(f)) == [
        f"{f}:9: lr_scheduler.init_args: StepLR needs 'step_size' (an integer): "
        "Period of learning rate decay.",
        f"{f}:10: lr_scheduler.init_args.step_sise: unknown argument for StepLR; "
        "did you mean 'step_size'? (arguments: step_size, gamma, last_epoch)",
        f"{f}:11: lr_scheduler.init_args.gamma: expected a number, got 'half'",
    ]
    # --set edits the user's own keys, and messages then name the --set.
    fixed = Options(("lr_scheduler.init_args.gamma=2x",))
    assert _problems(str(f), fixed)[0] == (
        "--set lr_scheduler.init_args.gamma=2x: lr_scheduler.init_args.gamma: "
        "expected a number, got '2x'"
    )


def test_frequency_other_than_one_is_refused(tmp_path):
    f = tmp_path / "cli.yaml"
    f.write_text(
        "lr_scheduler:\n  class_path: StepLR\n  init_args: {step_size: 3}\n"
        "  interval: epoch\n  frequency: 2\n"
    )
    assert _problems(str(f)) == [
        f"{f}:5: lr_scheduler.frequency: frequency 2: lrviz steps the scheduler once per "
        "epoch (frequency: 1); other frequencies are not supported"
    ]


def test_table_command_reads_a_lightning_config():
    result = CliRunner().invoke(app, ["table", _path("lightning.yaml"), "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "step,epoch,iter,x,lr_group0,momentum_group0"
    assert len(lines) == 31
    assert lines[1] == "0,0,0,0.0,0.1,0.9"
    assert result.stderr == ""


def test_from_native_forces_the_native_reader():
    path = _path("lightning.yaml")
    result = CliRunner().invoke(app, ["table", path, "--from", "native"])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[:3] == [
        f"error: {path}: scheduler: missing: every spec needs a scheduler, "
        "e.g. {type: StepLR, step_size: 30}",
        f"error: {path}: run.epochs: missing: set run.epochs in the file or pass --epochs N",
        f"error: {path}:3: seed_everything: unknown key",
    ]


def test_from_rejects_unknown_formats():
    result = CliRunner().invoke(app, ["table", _path("lightning.yaml"), "--from", "keras"])
    assert result.exit_code == 2
    assert (
        result.stderr == "error: --from must be one of native, lightning, hydra, hf, not 'keras'\n"
    )
