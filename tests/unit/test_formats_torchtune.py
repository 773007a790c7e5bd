"""torchtune configs: the run as torchtune's recipes count it, the schedule from torchtune itself.

The truth is torchtune's own code: the config is loaded with OmegaConf and its optimizer and
lr_scheduler are built with `torchtune.config.instantiate`, exactly as the recipes build them,
and driven by the recipes' training loop (transcribed below from
recipes/lora_finetune_single_device.py at v0.6.1, a6290a5). lrviz's rows must equal the lr the
optimizer holds at every `optimizer.step()` of that loop, value for value.
"""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from lrviz.cli import app
from lrviz.errors import SpecError
from lrviz.formats import Unrecognised, detect
from lrviz.formats import torchtune as tt
from lrviz.load import Options, load_plan
from lrviz.simulation import run

DATA = Path(__file__).parent.parent / "data" / "formats"
LORA = str(DATA / "torchtune_lora.yaml")
QLORA = str(DATA / "torchtune_qlora.yaml")
CUSTOM = str(DATA / "torchtune_custom.yaml")


def _recipe_lrs(path: str, batches: int, overrides: dict[str, Any] | None = None) -> list[float]:
    """The lr at every optimizer step of torchtune's recipe loop, with torchtune's own objects.

    lora_finetune_single_device.py (v0.6.1): steps per epoch lines 328-335, the scheduler
    lines 340-344 (via _setup_lr_scheduler: config.instantiate(cfg_lr_scheduler, optimizer,
    num_training_steps=..., last_epoch=...)), the loop lines 709-718 and 772-775.
    """
    import torch
    from omegaconf import OmegaConf
    from torchtune import config

    cfg = OmegaConf.load(path)
    for key, value in (overrides or {}).items():
        OmegaConf.update(cfg, key, value)
    model = torch.nn.Linear(1, 1)
    optimizer = config.instantiate(cfg.optimizer, model.parameters())
    gradient_accumulation_steps = cfg.gradient_accumulation_steps
    max_steps_per_epoch = cfg.max_steps_per_epoch
    steps_per_epoch = batches // gradient_accumulation_steps
    if max_steps_per_epoch is not None and max_steps_per_epoch < steps_per_epoch:
        steps_per_epoch = max_steps_per_epoch
    global_step = 0
    lr_scheduler = config.instantiate(
        cfg.lr_scheduler,
        optimizer,
        num_training_steps=cfg.epochs * steps_per_epoch,
        last_epoch=global_step - 1,
    )
    used: list[float] = []
    for _curr_epoch in range(cfg.epochs):
        for idx in range(batches):  # for idx, batch in enumerate(self._dataloader)
            model(torch.ones(1)).sum().backward()
            if (idx + 1) % gradient_accumulation_steps == 0:
                used.append(optimizer.param_groups[0]["lr"])  # the lr this step uses
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                lr_scheduler.step()
                global_step += 1
            if ((idx + 1) // gradient_accumulation_steps) == max_steps_per_epoch:
                break
    return used


def _lrs(path: str, options: Options) -> list[float]:
    trace = run(load_plan(path, options))
    assert trace.error is None
    return [float(v) for v in trace.lr[:, 0]]


def _problems(path: str | dict[str, Any], options: Options | None = None) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_plan(path, options or Options())
    return [str(p) for p in info.value.problems]


# --- the rows equal torchtune's own loop ----------------------------------------------------


@pytest.mark.parametrize("batches", [1000, 8, 803, 17])
def test_lora_config_rows_equal_torchtune(batches: int) -> None:
    expected = _recipe_lrs(LORA, batches)
    got = _lrs(LORA, Options(iters=batches))
    assert got == expected
    # floor(batches / 8) optimizer steps per epoch, two epochs
    assert len(got) == 2 * (batches // 8)


def test_max_steps_per_epoch_caps_each_epoch() -> None:
    # 1,000 // 16 = 62 steps per epoch, capped at 40; the old torchtune.modules name and a
    # paged bitsandbytes optimizer (truth built with torch's AdamW: the lr does not depend on it)
    overrides = {
        "optimizer._component_": "torch.optim.AdamW",
        "lr_scheduler._component_": tt.COSINE,
    }
    expected = _recipe_lrs(QLORA, 1000, overrides)
    got = _lrs(QLORA, Options(iters=1000))
    assert got == expected
    assert len(got) == 3 * 40


def test_max_steps_per_epoch_above_the_epoch_does_nothing() -> None:
    overrides = {
        "optimizer._component_": "torch.optim.AdamW",
        "lr_scheduler._component_": tt.COSINE,
    }
    expected = _recipe_lrs(QLORA, 320, overrides)
    got = _lrs(QLORA, Options(iters=320))
    assert got == expected
    assert len(got) == 3 * 20  # 320 // 16 = 20 < 40


def test_epochs_flag_replaces_the_files_epochs(tmp_path: Path) -> None:
    data = yaml.safe_load(Path(LORA).read_text())
    data["epochs"] = 3
    three = tmp_path / "three.yaml"
    three.write_text(yaml.safe_dump(data))
    assert _lrs(LORA, Options(iters=96, epochs=3)) == _recipe_lrs(str(three), 96)


def test_plan_notes_and_shape() -> None:
    plan = load_plan(QLORA, Options(iters=1000))
    assert (plan.epochs, plan.iters_per_epoch, plan.step_mode, plan.rows) == (3, 40, "batch", 120)
    node = plan.spec.scheduler
    assert node.type == tt.COSINE
    assert node.kwargs == {"num_warmup_steps": 20, "num_cycles": 1.5, "num_training_steps": 120}
    assert plan.spec.optimizer_type == "AdamW"
    assert plan.notes[:3] == (
        "torchtune: torchtune.modules.get_cosine_schedule_with_warmup is an older name of "
        "torchtune.training.lr_schedulers.get_cosine_schedule_with_warmup, the same function "
        "(unchanged since torchtune v0.1)",
        "torchtune: bitsandbytes.optim.PagedAdamW8bit shown as torch.optim.AdamW, whose lr "
        "and betas defaults it shares; the schedule does not depend on the optimizer's memory "
        "format",
        "torchtune: 3 epochs × 1,000 batches // 16 accumulation = 62 optimizer steps per "
        "epoch, capped at max_steps_per_epoch 40 = 120 scheduler steps (num_training_steps); "
        "the scheduler steps after every optimizer step",
    )


def test_builds_torchtunes_own_function() -> None:
    import torchtune.training.lr_schedulers as module

    from lrviz.build import build

    plan = load_plan(LORA, Options(iters=80))
    built = build(plan)
    fn = built.scheduler.lr_lambdas[0]
    # the LambdaLR's lambda is the closure torchtune's function made, not a copy of it
    assert fn.__code__.co_filename == module.__file__
    assert fn.__qualname__ == "get_cosine_schedule_with_warmup.<locals>.lr_lambda"


# --- detection ------------------------------------------------------------------------------


def test_detected_on_component_markers() -> None:
    assert detect(yaml.safe_load(Path(LORA).read_text())) == "torchtune"


def test_not_claimed_next_to_another_frameworks_markers() -> None:
    data = yaml.safe_load(Path(LORA).read_text())
    data["trainer"] = {"callbacks": [{"class_path": "lightning.pytorch.callbacks.RichProgressBar"}]}
    with pytest.raises(Unrecognised) as info:
        detect(data)
    assert str(info.value) == (
        "this file has both torchtune (_component_ at profiler._component_) and lightning "
        "markers (at trainer.callbacks[0].class_path); pass --from torchtune or --from lightning"
    )


# --- refused in one line ---------------------------------------------------------------------


def test_without_iters_names_the_flag() -> None:
    assert _problems(LORA) == [
        f"{LORA}:61: gradient_accumulation_steps: torchtune's recipes take len(dataloader) // "
        "gradient_accumulation_steps optimizer steps per epoch, and the config does not say how "
        "many batches the dataloader has: pass --iters N (the len() of the train dataloader)"
    ]


def test_custom_scheduler_component_is_refused_by_name() -> None:
    assert _problems(CUSTOM, Options(iters=100)) == [
        f"{CUSTOM}:12: lr_scheduler._component_: 'my_project.schedules.warmup_stable_decay' is "
        "not one of torchtune's scheduler functions "
        "(torchtune.training.lr_schedulers.get_cosine_schedule_with_warmup); torchtune's recipes "
        "call it with num_training_steps and last_epoch, and lrviz never imports a module a "
        "config names"
    ]


def test_no_lr_scheduler_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "full.yaml"
    f.write_text(
        "optimizer:\n  _component_: torch.optim.AdamW\n  lr: 2e-5\nepochs: 1\n"
        "max_steps_per_epoch: null\ngradient_accumulation_steps: 1\noptimizer_in_bwd: True\n"
    )
    assert _problems(str(f), Options(iters=10)) == [
        f"{f}: this torchtune config has no lr_scheduler: the full fine-tuning recipes then "
        "keep the optimizer's lr (2e-05) constant (the LoRA recipes require one), so there is "
        "no schedule to show"
    ]


def test_generation_config_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "generation.yaml"
    f.write_text(
        "model:\n  _component_: torchtune.models.llama3_2.llama3_2_1b\n"
        "prompt:\n  user: Tell me a joke.\nmax_new_tokens: 300\ntemperature: 0.6\n"
    )
    assert _problems(str(f), Options(iters=10)) == [
        f"{f}: this torchtune config has no optimizer and no lr_scheduler: it does not train "
        "(a generation or evaluation config?), so there is no schedule to show"
    ]


def test_missing_recipe_keys_are_named(tmp_path: Path) -> None:
    text = Path(LORA).read_text().replace("max_steps_per_epoch: null\n", "")
    f = tmp_path / "nomax.yaml"
    f.write_text(text)
    assert _problems(str(f), Options(iters=10)) == [
        f"{f}: max_steps_per_epoch is missing: torchtune's recipes read cfg.max_steps_per_epoch "
        "and stop without it; add max_steps_per_epoch: null"
    ]


def test_recipe_arguments_in_the_config_are_refused() -> None:
    options = Options(iters=10, overrides=("lr_scheduler.num_training_steps=500",))
    assert _problems(LORA, options) == [
        "--set lr_scheduler.num_training_steps=500: lr_scheduler.num_training_steps: "
        "torchtune's recipes pass num_training_steps themselves, so setting it here makes "
        "instantiate fail ('got multiple values for keyword argument'); delete it"
    ]


def test_too_few_batches_for_one_step() -> None:
    assert _problems(LORA, Options(iters=7)) == [
        f"{LORA}:61: gradient_accumulation_steps: 7 batches // 8 accumulation = 0 optimizer "
        "steps per epoch: the recipe would never step; pass --iters N with at least 8 batches"
    ]


def test_unknown_optimizer_component_is_refused() -> None:
    options = Options(iters=80, overrides=("optimizer._component_=my_project.optim.Sophia",))
    assert _problems(LORA, options) == [
        "--set optimizer._component_=my_project.optim.Sophia: optimizer._component_: "
        "'my_project.optim.Sophia' is not a torch.optim optimizer or an AdamW variant lrviz "
        "knows; lrviz never imports a module a config names: pass "
        "--set optimizer._component_=torch.optim.AdamW if it is AdamW-like"
    ]


def test_interpolated_warmup_is_refused() -> None:
    options = Options(iters=80, overrides=("lr_scheduler.num_warmup_steps=${warmup}",))
    assert _problems(LORA, options) == [
        "--set lr_scheduler.num_warmup_steps=${warmup}: lr_scheduler.num_warmup_steps: an "
        "OmegaConf interpolation, which lrviz does not resolve in torchtune configs: pass "
        "--set lr_scheduler.num_warmup_steps=VALUE"
    ]


def test_missing_warmup_is_named(tmp_path: Path) -> None:
    f = tmp_path / "nowarmup.yaml"
    f.write_text(Path(LORA).read_text().replace("  num_warmup_steps: 100\n", ""))
    assert _problems(str(f), Options(iters=80)) == [
        f"{f}:51: lr_scheduler: {tt.COSINE} needs num_warmup_steps (a number of steps)"
    ]


def test_ppo_config_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "ppo.yaml"
    text = Path(LORA).read_text() + "ppo_epochs: 2\nppo_batch_size: 32\nnum_steps: 10000\n"
    f.write_text(text)
    (message,) = _problems(str(f), Options(iters=80))
    assert message.startswith(f"{f}:")
    assert message.endswith(
        "ppo_epochs: a torchtune PPO config: its recipe counts scheduler steps from rollouts "
        "(num_steps, ppo_epochs, ppo_batch_size), which lrviz does not read; write a native spec"
    )


@pytest.fixture
def no_torchtune(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make torchtune look uninstalled: no package metadata, and `import` fails."""
    real = importlib.metadata.version

    def version(name: str) -> str:
        if name == "torchtune":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    _unimportable(monkeypatch)


def _unimportable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(sys.modules):
        if name.startswith("torchtune."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "torchtune", None)


@pytest.mark.usefixtures("no_torchtune")
def test_without_torchtune_installed() -> None:
    assert _problems(LORA, Options(iters=80)) == [
        f"{LORA}:52: lr_scheduler._component_: {tt.COSINE} is torchtune's own schedule, and "
        "the torchtune package is not installed; install lrviz's optional extra: "
        "pip install 'lrviz[torchtune]'"
    ]


def test_torchtune_that_does_not_import(monkeypatch: pytest.MonkeyPatch) -> None:
    _unimportable(monkeypatch)  # installed, as far as its metadata says, but import fails
    assert _problems(LORA, Options(iters=80)) == [
        f"{LORA}:52: lr_scheduler._component_: {tt.COSINE} is torchtune's own schedule, and "
        "the installed torchtune does not import (ModuleNotFoundError: No module named "
        "'torchtune.training'; 'torchtune' is not a package); pip install 'lrviz[torchtune]' "
        "pins a torchtune and torchao that do"
    ]


# --- the command line ------------------------------------------------------------------------


def test_cli_table_csv_and_refusal() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["table", LORA, "--iters", "80", "--format", "csv"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "step,epoch,iter,x,lr_group0,momentum_group0"
    assert len(lines) == 1 + 2 * 10
    assert [float(line.split(",")[4]) for line in lines[1:]] == _recipe_lrs(LORA, 80)

    result = runner.invoke(app, ["table", LORA])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {LORA}:61: gradient_accumulation_steps: torchtune's recipes take "
        "len(dataloader) // gradient_accumulation_steps optimizer steps per epoch, and the "
        "config does not say how many batches the dataloader has: pass --iters N (the len() "
        "of the train dataloader)\n"
    )


def test_importing_torchtune_prints_nothing() -> None:
    # torchtune imports torchao, which logs "Detected no triton" on CPU-only machines; in a
    # fresh process (nothing imported yet) the user sees only the rows
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "lrviz", "table", LORA, "--iters", "16", "--format", "csv"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 1 + 2 * 2
