"""Hydra configs: `_target_` nodes give the same rows as a plain torch loop, bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lrviz.cli import app
from lrviz.errors import SpecError
from lrviz.formats import detect
from lrviz.load import Options, load_plan, load_spec
from lrviz.simulation import run
from lrviz.spec import load_yaml
from tests.reference import reference_rows

DATA = Path(__file__).parent.parent / "data" / "formats"


def _path(name: str) -> str:
    return str(DATA / name)


def _problems(path: str, options: Options | None = None) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_plan(path, options or Options())
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("hydra.yaml", "hydra"),
        ("hydra_sequential.yaml", "hydra"),
        ("hydra_hf.yaml", "hydra"),
        ("lightning.yaml", "lightning"),
        ("lightning_step.yaml", "lightning"),
        ("hf_args.json", "hf"),
        ("hf_args.yaml", "hf"),
    ],
)
def test_detection(name: str, fmt: str):
    assert detect(load_yaml((DATA / name).read_text())) == fmt


def test_native_specs_stay_native():
    assert detect({"scheduler": {"type": "StepLR", "step_size": 3}}) == "native"
    assert detect({"run": {"epochs": 3}}) == "native"
    assert detect(None) == "native"


def test_template_layout_resolves_interpolations_and_matches_torch():
    spec = load_spec(_path("hydra.yaml"))
    # T_max: ${trainer.max_epochs} is looked up in the config itself.
    assert spec.scheduler.kwargs == {"T_max": 40, "eta_min": 0.0}
    assert (spec.name, spec.run.epochs) == ("hydra", 40)
    trace = run(load_plan(_path("hydra.yaml")))
    expected = {
        "optimizer": {
            "type": "SGD",
            "lr": 0.05,
            "momentum": 0.9,
            "weight_decay": 0.0005,
            "nesterov": True,
        },
        "scheduler": {"type": "CosineAnnealingLR", "T_max": 40, "eta_min": 0.0},
    }
    lrs, moms, failed = reference_rows(expected, 40, 1, "epoch")
    assert failed is None and trace.error is None
    assert np.array_equal(trace.lr, np.array(lrs, dtype=np.float64))
    assert np.array_equal(trace.momentum[:, 0], np.array([m[0] for m in moms]))


def test_nested_targets_become_inline_children():
    trace = run(load_plan(_path("hydra_sequential.yaml"), Options(epochs=50)))
    expected = {
        "optimizer": {"type": "AdamW", "lr": 0.001, "betas": [0.9, 0.999], "weight_decay": 0.05},
        "scheduler": {
            "type": "SequentialLR",
            "schedulers": [
                {"type": "LinearLR", "start_factor": 0.1, "end_factor": 1.0, "total_iters": 5},
                {"type": "CosineAnnealingLR", "T_max": 45, "eta_min": 1e-5},
            ],
            "milestones": [5],
        },
    }
    lrs, _, failed = reference_rows(expected, 50, 1, "epoch")
    assert failed is None and trace.error is None
    assert np.array_equal(trace.lr, np.array(lrs, dtype=np.float64))


def test_a_model_config_without_a_trainer_needs_epochs():
    path = _path("hydra_sequential.yaml")
    assert _problems(path) == [
        f"{path}: run.epochs: missing: set run.epochs in the file or pass --epochs N"
    ]


def test_unresolvable_interpolation_names_its_key_and_line():
    path = _path("hydra_bad.yaml")
    assert _problems(path) == [
        f"{path}:9: model.scheduler.step_size: '${{trainer.step_every}}' refers to "
        "'trainer.step_every', which the config does not set"
    ]


def test_targets_outside_torch_are_refused(tmp_path):
    f = tmp_path / "model.yaml"
    f.write_text(
        "optimizer:\n  _target_: bitsandbytes.optim.AdamW8bit\n  lr: 0.001\n"
        "scheduler:\n  _target_: timm.scheduler.CosineLRScheduler\n  t_initial: 10\n"
    )
    assert _problems(str(f), Options(epochs=5)) == [
        f"{f}:2: optimizer._target_: 'bitsandbytes.optim.AdamW8bit' is not in torch.optim; "
        "lrviz builds only torch's own optimizer classes (it never imports a module a config "
        "names)",
        f"{f}:5: scheduler._target_: 'timm.scheduler.CosineLRScheduler' is not in "
        "torch.optim.lr_scheduler; lrviz builds only torch's own scheduler classes "
        "(it never imports a module a config names)",
    ]


def test_child_errors_point_into_the_users_nested_node(tmp_path):
    f = tmp_path / "model.yaml"
    f.write_text(
        "scheduler:\n"
        "  _target_: torch.optim.lr_scheduler.SequentialLR\n"
        "  schedulers:\n"
        "    - _target_: torch.optim.lr_scheduler.LinearLR\n"
        "      start_factor: 0.1\n"
        "    - _target_: torch.optim.lr_scheduler.CosineAnnealingLR\n"
        "      T_maxx: 45\n"
        "  milestones: [5]\n"
    )
    assert _problems(str(f), Options(epochs=9)) == [
        f"{f}:6: scheduler.schedulers[1]: CosineAnnealingLR needs 'T_max' (a number): "
        "Maximum number of iterations.",
        f"{f}:7: scheduler.schedulers[1].T_maxx: unknown argument for CosineAnnealingLR; "
        "did you mean 'T_max'? (arguments: T_max, eta_min, last_epoch)",
    ]


def test_table_command_reads_a_hydra_config():
    result = CliRunner().invoke(app, ["table", _path("hydra.yaml"), "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (lines[1], len(lines)) == ("0,0,0,0.0,0.05,0.9", 41)
    assert result.stderr == ""
