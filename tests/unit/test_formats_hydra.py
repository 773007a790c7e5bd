"""Hydra configs: `_target_` nodes give the same rows as a plain torch loop, bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lrviz.cli import app
from lrviz.document import load_yaml
from lrviz.errors import SpecError
from lrviz.formats import detect
from lrviz.load import Options, load_plan, load_spec
from lrviz.simulation import run
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
        "'trainer.step_every', which the config does not set; pass --set trainer.step_every=VALUE"
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


# --- Composition by Hydra itself, interpolation by OmegaConf, compared with Hydra and Lightning.

PROJECT = DATA / "hydra_project" / "configs"
TRAIN = PROJECT / "train.yaml"
LIGHTNING_WARNINGS = [
    pytest.mark.filterwarnings("ignore:The '.*' does not have many workers"),
    pytest.mark.filterwarnings("ignore:`isinstance\\(treespec, LeafSpec\\)` is deprecated"),
]


def _lightning(func):
    for mark in LIGHTNING_WARNINGS:
        func = mark(func)
    return func


def _hydra_compose(name: str, overrides: tuple[str, ...] = ()):
    """Hydra's own composition, as an app's @hydra.main would do it."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(PROJECT), version_base="1.3"):
        return compose(config_name=name, overrides=list(overrides))


def _lrviz_composed(path: Path, sets: tuple[str, ...] = ()) -> dict:
    """The document lrviz's Hydra reader reads, after its composition and --set."""
    from lrviz.document import apply_override
    from lrviz.formats import Ctx, Horizon
    from lrviz.formats.hydra import document
    from lrviz.paths import project_root

    data = load_yaml(path.read_text())
    overridden = {apply_override(data, a): a for a in sets}
    ctx = Ctx(str(path), {}, overridden, Horizon(), path, project_root(path))
    doc = document(ctx, data)
    assert doc is not None and ctx.problems == []
    return doc.data


@pytest.mark.parametrize(
    ("name", "sets"),
    [
        ("train", ()),
        ("train", ("experiment=vit_onecycle",)),
        ("train", ("experiment=resnet_stages", "trainer.max_epochs=20")),
        ("train", ("model=vit", "trainer=gpu")),
        ("pipeline", ()),
    ],
)
def test_composition_equals_hydras_own_compose(name, sets):
    from omegaconf import OmegaConf

    expected = OmegaConf.to_container(_hydra_compose(name, sets), resolve=False)
    assert _lrviz_composed(PROJECT / f"{name}.yaml", sets) == expected


def test_composition_leaves_hydra_as_it_was():
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    load_spec(str(TRAIN), Options(("experiment=resnet_stages",)))
    assert not GlobalHydra.instance().is_initialized()
    # Inside an app that has initialised Hydra, lrviz composes and hands Hydra back unchanged.
    with initialize_config_dir(config_dir=str(PROJECT / "model"), version_base="1.3"):
        load_spec(str(TRAIN), Options(("experiment=resnet_stages",)))
        assert compose(config_name="vit")["optimizer"]["lr"] == 0.0005


def _template_configure(cfg, monitor=None):
    """What lightning-hydra-template's module does in configure_optimizers."""
    from hydra.utils import instantiate

    def configure(params):
        optimizer = instantiate(cfg.model.optimizer)(params=params)
        node = cfg.model.get("lr_scheduler", cfg.model.get("scheduler"))
        keys = {}
        if "scheduler" in node and "_target_" not in node:  # Lightning's config shape
            keys = {k: v for k, v in node.items() if k in ("interval", "frequency")}
            node = node.scheduler
        if "schedulers" in node:  # a composite: its partial children on the same optimizer
            children = [instantiate(c)(optimizer=optimizer) for c in node.schedulers]
            scheduler = instantiate(node)(optimizer=optimizer, schedulers=children)
        else:
            scheduler = instantiate(node)(optimizer=optimizer)
        config = {"scheduler": scheduler, "interval": "epoch", "frequency": 1, **keys}
        if monitor:
            config["monitor"] = monitor
        return {"optimizer": optimizer, "lr_scheduler": config}

    return configure


def _rows_equal(trace, recorder) -> None:
    assert trace.error is None
    assert trace.lr.tolist() == recorder.lr
    assert trace.momentum.tolist() == recorder.momentum


@_lightning
def test_template_default_equals_trainer_fit():
    from tests.lightning_reference import fit_rows

    # model/mnist.yaml: Adam + ReduceLROnPlateau, which the template's module steps per epoch
    # on val/loss; trainer/default.yaml: 10 epochs. --set edits the composed config.
    metrics = [1.0, 0.8, 0.85, 0.9, 0.7, 0.75, 0.8, 0.82, 0.81, 0.9]
    sets = ("model.scheduler.patience=1", f"run.metrics={metrics}")
    trace = run(load_plan(str(TRAIN), Options(sets, iters=2)))
    assert trace.notes == [
        "composed by Hydra from 8 config files: train, hydra/default, extras/default, "
        "paths/default, trainer/default, callbacks/default, model/mnist, data/mnist"
    ]
    cfg = _hydra_compose("train", ("model.scheduler.patience=1",))
    recorder = fit_rows(_template_configure(cfg, "val_loss"), epochs=10, batches=2, metrics=metrics)
    _rows_equal(trace, recorder)
    assert trace.lr[-1, 0] < trace.lr[0, 0]


@_lightning
def test_experiment_with_lightning_wrapper_and_interpolations_equals_trainer_fit():
    from tests.lightning_reference import fit_rows

    # experiment/vit_onecycle.yaml: model: vit (lr_scheduler: {scheduler: OneCycleLR,
    # interval: step}), max_lr: ${model.optimizer.lr}, total_steps: ${trainer.max_steps}.
    trace = run(load_plan(str(TRAIN), Options(("experiment=vit_onecycle",), iters=10)))
    assert (trace.step_mode, trace.rows) == ("batch", 40)
    cfg = _hydra_compose("train", ("experiment=vit_onecycle",))
    recorder = fit_rows(_template_configure(cfg), epochs=4, batches=10, max_steps=40)
    _rows_equal(trace, recorder)


@_lightning
def test_list_index_interpolations_and_composite_children_equal_trainer_fit():
    from tests.lightning_reference import fit_rows

    # ${schedule.stages[0]} and ${schedule.decay_at} from the experiment's own section.
    spec = load_spec(str(TRAIN), Options(("experiment=resnet_stages",)))
    assert spec.scheduler.kwargs == {"milestones": [3]}
    assert [c.kwargs for c in spec.scheduler.children] == [
        {"start_factor": 0.1, "total_iters": 3},
        {"milestones": [4, 7], "gamma": 0.2},
    ]
    trace = run(load_plan(str(TRAIN), Options(("experiment=resnet_stages",), iters=3)))
    cfg = _hydra_compose("train", ("experiment=resnet_stages",))
    _rows_equal(trace, fit_rows(_template_configure(cfg), epochs=12, batches=3))


def test_the_files_own_run_key_is_the_files():
    # pipeline.yaml has run: [fit, test, export] and name: — the project's keys, not lrviz's.
    spec = load_spec(str(PROJECT / "pipeline.yaml"))
    assert (spec.name, spec.run.epochs, spec.scheduler.type) == ("pipeline", 8, "SequentialLR")
    assert spec.scheduler.kwargs == {"milestones": [2]}
    trace = run(load_plan(str(PROJECT / "pipeline.yaml")))
    expected = {
        "optimizer": {
            "type": "SGD",
            "lr": 0.1,
            "momentum": 0.9,
            "weight_decay": 5e-4,
            "nesterov": True,
        },
        "scheduler": {
            "type": "SequentialLR",
            "schedulers": [
                {"type": "LinearLR", "start_factor": 0.1, "total_iters": 2},
                {"type": "MultiStepLR", "milestones": [3, 5], "gamma": 0.2},
            ],
            "milestones": [2],
        },
    }
    lrs, _, failed = reference_rows(expected, 8, 1, "epoch")
    assert failed is None and trace.lr.tolist() == lrs


def test_a_group_file_alone_names_the_sets_its_interpolations_need():
    path = PROJECT / "model" / "vit.yaml"
    assert _problems(str(path), Options(iters=10)) == [
        f"{path}:16: lr_scheduler.scheduler.max_lr: '${{model.optimizer.lr}}' refers to "
        "'model.optimizer.lr', which the config does not set; pass --set model.optimizer.lr=VALUE",
        f"{path}:17: lr_scheduler.scheduler.total_steps: '${{trainer.max_steps}}' refers to "
        "'trainer.max_steps', which the config does not set; pass --set trainer.max_steps=VALUE",
    ]
    sets = ("model.optimizer.lr=0.001", "trainer.max_steps=30")
    trace = run(load_plan(str(path), Options(sets, iters=10, epochs=3)))
    assert (trace.rows, trace.lr.max()) == (30, 0.001)


def test_an_experiment_file_alone_is_refused_with_the_set_that_composes_it():
    path = PROJECT / "experiment" / "vit_onecycle.yaml"
    assert _problems(str(path)) == [
        f"{path}:6: defaults: this file overrides other groups' choices (/data, /model, "
        "/trainer), so Hydra composes it only under a primary config: pass that config (the "
        "one the project runs) with --set experiment=vit_onecycle"
    ]


def test_a_missing_mandatory_value_names_its_set(tmp_path):
    f = tmp_path / "model.yaml"
    f.write_text(
        "optimizer: {_target_: torch.optim.SGD, _partial_: true, lr: 0.1}\n"
        "scheduler:\n  _target_: torch.optim.lr_scheduler.StepLR\n  _partial_: true\n"
        "  step_size: ???\n"
        "trainer: {max_epochs: 5}\n"
    )
    assert _problems(str(f)) == [
        f"{f}:5: scheduler.step_size: scheduler.step_size is ??? (a value Hydra requires from "
        "the command line): pass --set scheduler.step_size=VALUE"
    ]
    assert load_spec(str(f), Options(("scheduler.step_size=2",))).scheduler.kwargs == {
        "step_size": 2
    }


def test_an_environment_variable_is_never_read(tmp_path, monkeypatch):
    monkeypatch.setenv("LRVIZ_TEST_SECRET", "7")
    f = tmp_path / "model.yaml"
    f.write_text(
        "trainer: {max_epochs: '${oc.env:LRVIZ_TEST_SECRET}'}\n"
        "optimizer: {_target_: torch.optim.SGD, _partial_: true, lr: 0.1}\n"
        "scheduler:\n  _target_: torch.optim.lr_scheduler.CosineAnnealingLR\n"
        "  T_max: ${trainer.max_epochs}\n"
        "  eta_min: ${oc.decode:'1e-5'}\n"
    )
    problems = _problems(str(f))
    assert problems == [
        f"{f}:1: trainer.max_epochs: '${{oc.env:LRVIZ_TEST_SECRET}}' uses the resolver "
        "'oc.env', which reads an environment variable; lrviz resolves only references to "
        "other keys of the config (it runs no resolver): pass --set trainer.max_epochs=VALUE",
        f"{f}:5: scheduler.T_max: '${{trainer.max_epochs}}' uses the resolver 'oc.env' "
        "through trainer.max_epochs, which reads an environment variable; lrviz resolves only "
        "references to other keys of the config (it runs no resolver): "
        "pass --set trainer.max_epochs=VALUE",
        f"{f}:6: scheduler.eta_min: \"${{oc.decode:'1e-5'}}\" uses the resolver 'oc.decode', "
        "which parses text into config at run time; lrviz resolves only references to other "
        "keys of the config (it runs no resolver): pass --set scheduler.eta_min=VALUE",
    ]
    assert not any("7" in p.split(":", 2)[-1] for p in problems)


def test_a_project_resolver_is_not_run(tmp_path):
    f = tmp_path / "model.yaml"
    f.write_text(
        "optimizer: {_target_: torch.optim.SGD, _partial_: true, lr: 0.1}\n"
        "scheduler:\n  _target_: torch.optim.lr_scheduler.StepLR\n"
        "  step_size: ${eval:'2 * 3'}\n"
    )
    assert _problems(str(f), Options(epochs=4)) == [
        f"{f}:4: scheduler.step_size: \"${{eval:'2 * 3'}}\" uses the resolver 'eval', which a "
        "project registers in its own Python code; lrviz resolves only references to other "
        "keys of the config (it runs no resolver): pass --set scheduler.step_size=VALUE"
    ]


def _project(tmp_path: Path) -> Path:
    """A project tree (it holds .git) with a primary config that composes model/evil."""
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / "configs" / "model").mkdir(parents=True)
    (root / "configs" / "train.yaml").write_text(
        "defaults:\n  - model: evil\n  - _self_\ntrainer: {max_epochs: 3}\n"
    )
    return root / "configs" / "train.yaml"


def test_a_file_hydra_would_read_outside_the_project_is_refused(tmp_path):
    train = _project(tmp_path)
    outside = tmp_path / "outside.yaml"
    outside.write_text(
        "optimizer: {_target_: torch.optim.SGD, lr: 0.1}\n"
        "scheduler: {_target_: torch.optim.lr_scheduler.StepLR, step_size: 1}\n"
    )
    (train.parent / "model" / "evil.yaml").symlink_to(outside)
    root = train.parent.parent
    assert _problems(str(train)) == [
        f"{train}:1: defaults: model/evil.yaml resolves outside the project tree {root}; "
        "pass --root DIR to name another tree"
    ]
    # --root names the tree the user vouches for.
    spec = load_spec(str(train), Options(root=tmp_path))
    assert (spec.scheduler.type, spec.run.epochs) == ("StepLR", 3)


def test_a_config_folder_outside_root_is_refused(tmp_path):
    train = _project(tmp_path)
    other = tmp_path / "elsewhere"
    other.mkdir()
    assert _problems(str(train), Options(root=other)) == [
        f"{train}:1: defaults: the config's folder is outside the project tree {other}; "
        "pass --root DIR"
    ]


def test_hydra_searchpath_is_refused(tmp_path):
    train = _project(tmp_path)
    train.write_text("defaults:\n  - model: evil\nhydra:\n  searchpath:\n    - file:///etc\n")
    assert _problems(str(train)) == [
        f"{train}:4: hydra.searchpath: hydra.searchpath adds config folders that lrviz does "
        "not read (it composes only from the config's own folder): remove it with "
        "--set hydra.searchpath=null"
    ]


def test_without_hydra_installed_composition_says_how_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "hydra", None)
    assert _problems(str(TRAIN)) == [
        f"{TRAIN}:5: defaults: this Hydra config composes other files (defaults: / # @package), "
        "which lrviz does with Hydra itself: install the hydra extra (pip install 'lrviz[hydra]')"
    ]


def test_without_omegaconf_an_interpolation_says_how_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "omegaconf", None)
    path = _path("hydra.yaml")
    assert _problems(path) == [
        f"{path}:32: model.scheduler.T_max: '${{trainer.max_epochs}}' is an interpolation, which "
        "lrviz resolves with OmegaConf: install the hydra extra (pip install 'lrviz[hydra]')"
    ]
    # A config without interpolations needs neither.
    assert load_spec(_path("hydra_sequential.yaml"), Options(epochs=5)).scheduler.type == (
        "SequentialLR"
    )


@_lightning
def test_several_lightning_configs_in_hydra_become_a_scheduler_list(tmp_path):
    import torch

    from tests.lightning_reference import fit_rows

    f = tmp_path / "model.yaml"
    f.write_text(
        "optimizer: {_target_: torch.optim.SGD, _partial_: true, lr: 0.1, momentum: 0.9}\n"
        "lr_scheduler:\n"
        "  - scheduler:\n"
        "      _target_: torch.optim.lr_scheduler.LinearLR\n"
        "      _partial_: true\n"
        "      start_factor: 0.25\n"
        "      total_iters: 5\n"
        "    interval: step\n"
        "  - scheduler:\n"
        "      _target_: torch.optim.lr_scheduler.StepLR\n"
        "      _partial_: true\n"
        "      step_size: 1\n"
        "      gamma: ${factor}\n"
        "    interval: epoch\n"
        "    frequency: 2\n"
        "factor: 0.5\n"
        "trainer: {_target_: lightning.pytorch.Trainer, max_epochs: 5}\n"
    )
    trace = run(load_plan(str(f), Options(iters=3)))

    def configure(params):
        opt = torch.optim.SGD(params, lr=0.1, momentum=0.9)
        warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=5)
        decay = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        configs = [
            {"scheduler": warm, "interval": "step"},
            {"scheduler": decay, "interval": "epoch", "frequency": 2},
        ]
        return [opt], configs

    _rows_equal(trace, fit_rows(configure, epochs=5, batches=3))


@pytest.mark.parametrize(
    "path",
    [
        TRAIN,
        PROJECT / "pipeline.yaml",
        PROJECT / "model" / "vit.yaml",
        PROJECT / "model" / "mnist.yaml",
    ],
)
def test_template_files_are_detected_as_hydra(path):
    assert detect(load_yaml(path.read_text())) == "hydra"


def test_table_command_composes_an_experiment():
    args = ["table", str(TRAIN), "--set", "experiment=vit_onecycle", "--iters", "10"]
    result = CliRunner().invoke(app, [*args, "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 41
    assert result.stderr == ""


def test_a_package_header_is_composed_by_hydra(tmp_path):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    f = tmp_path / "vit.yaml"
    f.write_text(
        "# @package model\n"
        "optimizer: {_target_: torch.optim.SGD, _partial_: true, lr: 0.1}\n"
        "scheduler:\n  _target_: torch.optim.lr_scheduler.StepLR\n  _partial_: true\n"
        "  step_size: 1\n  gamma: ${model.decay}\n"
        "decay: 0.5\n"
    )
    with initialize_config_dir(config_dir=str(tmp_path), version_base="1.3"):
        expected = OmegaConf.to_container(compose(config_name="vit"), resolve=False)
    assert _lrviz_composed(f) == expected
    spec = load_spec(str(f), Options(epochs=3))
    assert (spec.scheduler.key, spec.scheduler.kwargs) == (
        "scheduler",
        {"step_size": 1, "gamma": 0.5},
    )
    assert spec.aliases["scheduler"] == "model.scheduler"


def test_hydra_composes_only_yaml_files(tmp_path):
    f = tmp_path / "train.yml"
    f.write_text("defaults:\n  - model: a\n")
    assert _problems(str(f)) == [
        f"{f}:1: defaults: Hydra composes only .yaml files, and this one is .yml: Hydra itself "
        "would not load it (rename it to .yaml)"
    ]


def test_a_null_scheduler_says_the_config_has_none(tmp_path):
    f = tmp_path / "model.yaml"
    f.write_text(
        "_target_: src.models.Module\n"
        "optimizer: {_target_: torch.optim.AdamW, _partial_: true, lr: 0.001}\n"
        "scheduler: null\n"
    )
    assert _problems(str(f)) == [
        f"{f}:3: scheduler: this config has no scheduler (null): the lr stays at the "
        "optimizer's for the whole run, so there is no schedule to show"
    ]


def test_lightning_and_hydra_markers_together_are_refused(tmp_path):
    f = tmp_path / "mixed.yaml"
    f.write_text(
        "trainer:\n  callbacks:\n"
        "    - class_path: lightning.pytorch.callbacks.LearningRateMonitor\n"
        "model:\n  net: {_target_: src.Net}\n"
    )
    result = CliRunner().invoke(app, ["table", str(f)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {f}: this file has both LightningCLI (trainer.callbacks[0].class_path) and "
        "Hydra (_target_ at model.net._target_) markers; pass --from lightning or --from hydra\n"
    )


def test_step_flag_with_several_schedulers_is_refused(tmp_path):
    f = tmp_path / "model.yaml"
    f.write_text(
        "lr_scheduler:\n"
        "  - {scheduler: {_target_: torch.optim.lr_scheduler.LinearLR, _partial_: true}, "
        "interval: step}\n"
        "  - {scheduler: {_target_: torch.optim.lr_scheduler.StepLR, _partial_: true, "
        "step_size: 1}, interval: epoch}\n"
    )
    assert _problems(str(f), Options(epochs=3, iters=2, step="batch")) == [
        f"{f}: --step batch sets one interval, and this config's schedulers each have their "
        "own (interval, frequency): leave --step out"
    ]


def test_the_wrapper_without_interval_steps_per_epoch_as_lightning_does(tmp_path):
    f = tmp_path / "model.yaml"
    f.write_text(
        "optimizer: {_target_: torch.optim.SGD, _partial_: true, lr: 0.1}\n"
        "lr_scheduler:\n"
        "  scheduler: {_target_: torch.optim.lr_scheduler.OneCycleLR, _partial_: true, "
        "max_lr: 0.1, total_steps: 4}\n"
        "  monitor: val/loss\n"
    )
    spec = load_spec(str(f), Options(epochs=4))
    assert (spec.run.step, spec.notes) == ("epoch", [])
    # A bare node leaves the interval to the model's code: shown per batch, with a note.
    f.write_text(
        "optimizer: {_target_: torch.optim.SGD, _partial_: true, lr: 0.1}\n"
        "scheduler: {_target_: torch.optim.lr_scheduler.OneCycleLR, _partial_: true, "
        "max_lr: 0.1, total_steps: 8}\n"
    )
    spec = load_spec(str(f), Options(epochs=4, iters=2))
    assert spec.run.step is None
    assert spec.notes == [
        "scheduler does not say when it steps (the model's configure_optimizers does): "
        "showing it per batch, as torch documents OneCycleLR; pass --step epoch if the model "
        "returns interval: epoch (Lightning's default)"
    ]
