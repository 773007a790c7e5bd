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
    from lrviz.formats import FORMATS

    result = CliRunner().invoke(app, ["table", _path("lightning.yaml"), "--from", "keras"])
    assert result.exit_code == 2
    assert result.stderr == f"error: --from must be one of {', '.join(FORMATS)}, not 'keras'\n"


# --- Compared with the real Lightning: Trainer.fit on a tiny model, and LightningCLI itself.

LIGHTNING_WARNINGS = [
    # Lightning's advice about DataLoader workers, raised by design on a tiny CPU run.
    pytest.mark.filterwarnings("ignore:The '.*' does not have many workers"),
    # lightning 2.6's pytree helper on torch 2.13 (a library deprecation, not lrviz's).
    pytest.mark.filterwarnings("ignore:`isinstance\\(treespec, LeafSpec\\)` is deprecated"),
]


def _rows_equal(trace, recorder) -> None:
    """lrviz's rows are Lightning's optimizer steps, value for value."""
    assert trace.error is None
    assert trace.lr.tolist() == recorder.lr  # float equality: bit for bit
    moms = [[m if m is not None else float("nan") for m in row] for row in recorder.momentum]
    assert np.array_equal(trace.momentum, np.array(moms), equal_nan=True)


def _lightning(func):
    for mark in LIGHTNING_WARNINGS:
        func = mark(func)
    return func


@_lightning
def test_print_config_file_equals_lightningcli_fit(tmp_path):
    from tests.lightning_reference import cli_rows

    trace = run(load_plan(_path("lightning.yaml"), Options(iters=3, epochs=6)))
    # 3 batches per epoch: a row per optimizer step; CosineAnnealingLR steps once per epoch.
    assert (trace.step_mode, trace.rows, trace.iters_per_epoch) == ("epoch", 18, 3)
    config = _yaml("lightning.yaml")
    config["trainer"]["max_epochs"] = 6
    _rows_equal(trace, cli_rows(config, 3, tmp=tmp_path))


@_lightning
def test_fit_subcommand_nesting_equals_lightningcli(tmp_path):
    from tests.lightning_reference import cli_rows

    spec = load_spec(_path("lightning_fit.yaml"))
    assert (spec.optimizer_type, spec.scheduler.type, spec.run.epochs) == ("AdamW", "StepLR", 6)
    assert spec.scheduler.kwargs == {"step_size": 2, "gamma": 0.5, "last_epoch": -1}
    trace = run(load_plan(_path("lightning_fit.yaml"), Options(iters=4)))
    assert trace.rows == 24
    _rows_equal(trace, cli_rows(DATA / "lightning_fit.yaml", 4, tmp=tmp_path))


def test_fit_nesting_locates_problems_under_fit(tmp_path):
    f = tmp_path / "config.yaml"
    f.write_text(
        "fit:\n"
        "  trainer:\n"
        "    max_epochs: 10\n"
        "  optimizer:\n"
        "    class_path: torch.optim.SGD\n"
        "    init_args: {lr: 0.1}\n"
        "  lr_scheduler:\n"
        "    class_path: torch.optim.lr_scheduler.StepLR\n"
        "    init_args: {step_sise: 3}\n"
    )
    assert _problems(str(f), Options(("fit.trainer.max_epochs=ten",))) == [
        "--set fit.trainer.max_epochs=ten: fit.trainer.max_epochs: expected a whole number, "
        "got 'ten'"
    ]
    assert _problems(str(f)) == [
        f"{f}:9: fit.lr_scheduler.init_args.step_sise: unknown argument for StepLR; "
        "did you mean 'step_size'? (arguments: step_size, gamma, last_epoch)",
        f"{f}:9: fit.lr_scheduler.init_args: StepLR needs 'step_size' (an integer): "
        "Period of learning rate decay.",
    ]


def test_a_config_for_test_only_does_not_train(tmp_path):
    f = tmp_path / "config.yaml"
    f.write_text("test:\n  ckpt_path: best.ckpt\n  trainer:\n    devices: 1\n")
    assert _problems(str(f)) == [
        f"{f}:1: test: this config is for `test`, which does not train: lrviz shows the "
        "schedule that `fit` runs (a fit: section)"
    ]


def _fixed_cli(optimizer, scheduler):
    from lightning.pytorch.cli import LightningCLI

    class FixedCLI(LightningCLI):
        def add_arguments_to_parser(self, parser):
            parser.add_optimizer_args(optimizer)
            parser.add_lr_scheduler_args(scheduler)

    return FixedCLI


@_lightning
def test_fixed_class_config_infers_the_only_class_that_takes_its_arguments(tmp_path):
    import torch

    from tests.lightning_reference import cli_rows

    spec = load_spec(_path("lightning_fixed.yaml"))
    assert (spec.optimizer_type, spec.scheduler.type) == (
        ["torch", "optim", "SGD"][-1],
        "CosineAnnealingLR",
    )
    assert spec.notes[:2] == [
        "optimizer has no class_path (a fixed-class add_optimizer_args config): "
        "torch.optim.SGD is the only torch optimizer class that takes all of its arguments "
        "(dampening, differentiable, foreach, fused, lr, maximize, ...)",
        "lr_scheduler has no class_path (a fixed-class add_lr_scheduler_args config): "
        "torch.optim.lr_scheduler.CosineAnnealingLR is the only torch scheduler class that "
        "takes all of its arguments (T_max, eta_min, last_epoch)",
    ]
    trace = run(load_plan(_path("lightning_fixed.yaml"), Options(iters=2)))
    cli = _fixed_cli(torch.optim.SGD, torch.optim.lr_scheduler.CosineAnnealingLR)
    data = _yaml("lightning_fixed.yaml")
    _rows_equal(trace, cli_rows(data, 2, tmp=tmp_path, cli=cli))


@_lightning
def test_fixed_class_config_that_fits_two_classes_is_refused_until_set(tmp_path):
    import torch

    from tests.lightning_reference import cli_rows

    path = _path("lightning_fixed_adamw.yaml")
    assert _problems(path) == [
        f"{path}:14: optimizer: no class_path, and 2 torch optimizer classes take all of its "
        "arguments (Adam, AdamW): lrviz does not guess; pass "
        "--set optimizer.class_path=torch.optim.NAME"
    ]
    options = Options(("optimizer.class_path=torch.optim.AdamW",), iters=3)
    trace = run(load_plan(path, options))
    # LightningCLI returns the scheduler without an interval: OneCycleLR steps per EPOCH.
    assert (trace.step_mode, trace.rows) == ("epoch", 15)
    cli = _fixed_cli(torch.optim.AdamW, torch.optim.lr_scheduler.OneCycleLR)
    _rows_equal(trace, cli_rows(_yaml("lightning_fixed_adamw.yaml"), 3, tmp=tmp_path, cli=cli))


@_lightning
def test_model_init_args_with_project_names_interval_frequency_and_accumulation(tmp_path):
    from tests.lightning_reference import InitArgsModel, cli_rows

    path = DATA / "lightning_init_args.yaml"
    trace = run(load_plan(str(path), Options(iters=10)))
    # 10 batches / 2 accumulation = 5 optimizer steps per epoch; frequency 4 counts batches,
    # so ExponentialLR steps after optimizer steps 2 and 4 of every epoch.
    assert (trace.rows, trace.iters_per_epoch) == (15, 5)
    assert trace.notes == [
        "model.init_args.interval, model.init_args.frequency: the model's arguments, read as "
        "Lightning's LRSchedulerConfig keys",
        "10 batches / 2 accumulation = 5 optimizer steps per epoch",
    ]
    recorder = cli_rows(path, 10, tmp=tmp_path, model=InitArgsModel, keep_model_args=True)
    _rows_equal(trace, recorder)


@_lightning
def test_several_scheduler_configs_are_a_scheduler_list(tmp_path):
    from tests.lightning_reference import ListModel, cli_rows

    path = _path("lightning_schedulers.yaml")
    spec = load_spec(path, Options(iters=4))
    assert [(m.type, m.interval, m.frequency) for m in spec.scheduler.members] == [
        ("LinearLR", "batch", 1),
        ("ExponentialLR", "epoch", 2),
    ]
    trace = run(load_plan(path, Options(iters=4)))
    assert trace.rows == 24
    recorder = cli_rows(Path(path), 4, tmp=tmp_path, model=ListModel, keep_model_args=True)
    _rows_equal(trace, recorder)


@_lightning
def test_lightning_plateau_equals_lightningcli_with_logged_metrics(tmp_path):
    from tests.lightning_reference import cli_rows

    metrics = [1.0, 0.9, 0.95, 0.97, 0.96, 0.99, 0.98, 0.97]
    trace = run(load_plan(_path("lightning_plateau.yaml"), Options((f"run.metrics={metrics}",))))
    recorder = cli_rows(DATA / "lightning_plateau.yaml", 1, tmp=tmp_path, metrics=metrics)
    _rows_equal(trace, recorder)
    assert trace.lr[-1, 0] < trace.lr[0, 0]


@_lightning
def test_interval_step_with_accumulation_equals_trainer_fit():
    import torch

    from tests.lightning_reference import fit_rows

    trace = run(load_plan(_path("lightning_step.yaml"), Options(iters=50)))

    def configure(params):
        opt = torch.optim.AdamW(params, lr=0.0001, weight_decay=0.01)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=0.001, total_steps=100, pct_start=0.1
        )
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    _rows_equal(trace, fit_rows(configure, epochs=4, batches=50, accumulate_grad_batches=2))


@_lightning
def test_frequency_counts_epochs_as_lightning_does(tmp_path):
    import torch

    from tests.lightning_reference import fit_rows

    f = tmp_path / "cli.yaml"
    f.write_text(
        "trainer: {max_epochs: 7}\n"
        "optimizer: {class_path: torch.optim.SGD, init_args: {lr: 0.5}}\n"
        "lr_scheduler:\n  class_path: StepLR\n  init_args: {step_size: 1, gamma: 0.5}\n"
        "  interval: epoch\n  frequency: 3\n"
    )
    trace = run(load_plan(str(f), Options(iters=2)))
    assert trace.lr[::2, 0].tolist() == [0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]

    def configure(params):
        opt = torch.optim.SGD(params, lr=0.5)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        config = {"scheduler": sched, "interval": "epoch", "frequency": 3}
        return {"optimizer": opt, "lr_scheduler": config}

    _rows_equal(trace, fit_rows(configure, epochs=7, batches=2))


@_lightning
def test_step_frequency_restarts_every_epoch(tmp_path):
    import torch

    from tests.lightning_reference import fit_rows

    f = tmp_path / "cli.yaml"
    f.write_text(
        "trainer: {max_epochs: 3}\n"
        "optimizer: {class_path: torch.optim.SGD, init_args: {lr: 1.0}}\n"
        "lr_scheduler:\n"
        "  scheduler: {class_path: ExponentialLR, init_args: {gamma: 0.5}}\n"
        "  interval: step\n  frequency: 3\n"
    )
    # 7 batches: Lightning steps after batches 3 and 6 of each epoch (batch_idx + 1), not 7.
    trace = run(load_plan(str(f), Options(iters=7)))

    def configure(params):
        opt = torch.optim.SGD(params, lr=1.0)
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        config = {"scheduler": sched, "interval": "step", "frequency": 3}
        return {"optimizer": opt, "lr_scheduler": config}

    _rows_equal(trace, fit_rows(configure, epochs=3, batches=7))


def test_frequency_that_accumulation_does_not_divide_is_refused(tmp_path):
    f = tmp_path / "cli.yaml"
    f.write_text(
        "trainer: {max_epochs: 3, accumulate_grad_batches: 2}\n"
        "optimizer: {class_path: torch.optim.SGD, init_args: {lr: 1.0}}\n"
        "lr_scheduler:\n"
        "- scheduler: {class_path: ExponentialLR, init_args: {gamma: 0.5}}\n"
        "  interval: step\n"
        "  frequency: 3\n"
    )
    assert _problems(str(f), Options(iters=8)) == [
        f"{f}:6: lr_scheduler[0].frequency: frequency 3 with accumulate_grad_batches 2: "
        "Lightning counts frequency in batches and steps the scheduler only on batches that "
        "step the optimizer; lrviz follows this when the frequency is a multiple of the "
        "accumulation"
    ]


def test_null_scheduler_says_the_config_has_none():
    path = _path("lightning_null.yaml")
    assert _problems(path) == [
        f"{path}:13: lr_scheduler: this config has no scheduler (null): the lr stays at the "
        "optimizer's for the whole run, so there is no schedule to show"
    ]
    result = CliRunner().invoke(app, ["table", path])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}:13: lr_scheduler: this config has no scheduler (null): the lr stays "
        "at the optimizer's for the whole run, so there is no schedule to show\n"
    )


def test_lr_scheduler_without_an_optimizer_is_not_used_by_lightningcli(tmp_path):
    f = tmp_path / "cli.yaml"
    f.write_text(
        "seed_everything: true\ntrainer: {max_epochs: 3}\noptimizer: null\n"
        "lr_scheduler: {class_path: StepLR, init_args: {step_size: 1}}\n"
    )
    assert _problems(str(f)) == [
        f"{f}:3: optimizer: optimizer is null, and LightningCLI's configure_optimizers uses "
        "lr_scheduler only together with an optimizer (otherwise the model's own "
        "configure_optimizers runs): pass --set optimizer.class_path=torch.optim.NAME"
    ]


def test_model_scheduler_is_replaced_when_the_cli_optimizer_is_set(tmp_path):
    f = tmp_path / "cli.yaml"
    f.write_text(
        "trainer: {max_epochs: 3}\n"
        "model:\n  class_path: my.Model\n  init_args:\n"
        "    scheduler: {class_path: torch.optim.lr_scheduler.StepLR, init_args: {step_size: 1}}\n"
        "optimizer: {class_path: torch.optim.SGD, init_args: {lr: 0.1}}\n"
    )
    assert _problems(str(f)) == [
        f"{f}:5: model.init_args.scheduler: optimizer is set, so LightningCLI replaces the "
        "model's configure_optimizers and this scheduler is not used (the config has no "
        "lr_scheduler); pass --set optimizer=null if the model takes its optimizer from its "
        "own arguments"
    ]
    spec = load_spec(str(f), Options(("optimizer=null",)))
    assert (spec.scheduler.type, spec.scheduler.kwargs) == ("StepLR", {"step_size": 1})


def test_several_schedulers_are_refused_with_the_set_that_keeps_one(tmp_path):
    f = tmp_path / "cli.yaml"
    f.write_text(
        "trainer: {max_epochs: 3}\n"
        "optimizer: {class_path: torch.optim.SGD, init_args: {lr: 0.1}}\n"
        "lr_scheduler: {class_path: StepLR, init_args: {step_size: 1}}\n"
        "gen_lr_scheduler: {class_path: ExponentialLR, init_args: {gamma: 0.9}}\n"
    )
    assert _problems(str(f)) == [
        f"{f}:4: gen_lr_scheduler: several schedulers (lr_scheduler, gen_lr_scheduler) and "
        "lrviz shows one schedule: keep one, e.g. --set gen_lr_scheduler=null"
    ]
    spec = load_spec(str(f), Options(("gen_lr_scheduler=null",)))
    assert spec.scheduler.type == "StepLR"


def test_fixed_class_arguments_no_torch_class_takes(tmp_path):
    f = tmp_path / "cli.yaml"
    f.write_text(
        "seed_everything: 1\ntrainer: {max_epochs: 3}\n"
        "optimizer: {lr: 0.1, momentum: 0.9}\n"
        "lr_scheduler: {warmup_epochs: 2, max_epochs: 10}\n"
    )
    assert _problems(str(f)) == [
        f"{f}:3: optimizer: no class_path, and 3 torch optimizer classes take all of its "
        "arguments (Muon, RMSprop, SGD): lrviz does not guess; pass "
        "--set optimizer.class_path=torch.optim.NAME",
        f"{f}:4: lr_scheduler: no class_path, and no torch scheduler class takes all of its "
        "arguments (max_epochs, warmup_epochs): lrviz does not guess; pass "
        "--set lr_scheduler.class_path=torch.optim.lr_scheduler.NAME",
    ]


@pytest.mark.parametrize(
    "name", ["lightning_fit.yaml", "lightning_fixed.yaml", "lightning_null.yaml"]
)
def test_lightningcli_markers_without_class_path_nodes(name):
    from lrviz.document import load_yaml
    from lrviz.formats import detect

    assert detect(load_yaml((DATA / name).read_text())) == "lightning"


def _yaml(name: str) -> dict:
    from lrviz.document import load_yaml

    return load_yaml((DATA / name).read_text())


def test_a_hand_written_cli_layout_without_class_path_is_lightning(tmp_path):
    f = tmp_path / "config.yaml"
    f.write_text(
        "trainer:\n  max_epochs: 4\n"
        "optimizer:\n  lr: 0.1\n  momentum: 0.9\n  dampening: 0.0\n  nesterov: false\n"
        "lr_scheduler:\n  step_size: 2\n  gamma: 0.5\n"
    )
    spec = load_spec(str(f))
    assert (spec.optimizer_type, spec.scheduler.type, spec.run.epochs) == ("SGD", "StepLR", 4)
    assert spec.notes[1] == (
        "lr_scheduler has no class_path (a fixed-class add_lr_scheduler_args config): "
        "torch.optim.lr_scheduler.StepLR is the only torch scheduler class that takes all of "
        "its arguments (gamma, step_size)"
    )
