"""transformers TrainingArguments: the run's numbers as the installed Trainer derives them, and
the schedule from transformers' own get_scheduler.

The truth is the installed transformers itself: a real `Trainer` trains a tiny model on a tiny
in-memory dataset, a callback records the lr the optimizer uses at every optimizer step, and
lrviz's rows must equal them value for value. The rules differ between releases (see
lrviz/formats/hf.py), so expectations written down here branch on the installed release.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import lrviz
from lrviz.cli import app
from lrviz.errors import SpecError
from lrviz.formats import hf
from lrviz.load import Options, load_plan, load_spec
from lrviz.simulation import run

DATA = Path(__file__).parent.parent / "data" / "formats"
JSON = str(DATA / "hf_args.json")
YAML = str(DATA / "hf_args.yaml")
NOT_INSTALLED = (
    "transformers.get_scheduler is transformers' own schedule, and the transformers package "
    "is not installed; install lrviz's optional extra: pip install 'lrviz[hf]'"
)
RELEASE = hf.installed()
assert RELEASE is not None, "the hf tests need transformers: pip install -e '.[dev,hf]'"
CEIL = RELEASE.ceil_per_epoch  # 4.52 on: steps per epoch round up
FRACTIONAL = RELEASE.fractional_warmup  # 5.0 on: warmup_steps < 1 is a ratio
RATIO_GONE = RELEASE.major_minor >= hf.RATIO_REMOVED  # 5.15 on: no warmup_ratio


def _problems(path: str, options: Options) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_plan(path, options)
    return [str(p) for p in info.value.problems]


@pytest.fixture
def no_transformers(monkeypatch):
    """Make transformers look uninstalled: no package metadata, and `import` fails."""
    real = importlib.metadata.version

    def version(name: str) -> str:
        if name == "transformers":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    monkeypatch.setitem(sys.modules, "transformers", None)
    monkeypatch.setitem(sys.modules, "transformers.optimization", None)


# --- the real Trainer of the installed transformers -----------------------------------------


def _trainer_steps(args: dict[str, Any], batches: int, tmp_path: Path) -> list[tuple[int, float]]:
    """(epoch, lr) at every optimizer step of a real Trainer run with these TrainingArguments.

    One sample per batch, so len(train_dataloader) == batches; CPU, nothing saved or logged.
    """
    import torch
    from transformers import Trainer, TrainerCallback, TrainingArguments

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.Linear(1, 1)

        def forward(self, x, labels):
            return {"loss": ((self.w(x) - labels) ** 2).mean()}

    class Samples(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return batches

        def __getitem__(self, i: int) -> dict[str, Any]:
            return {"x": torch.tensor([i / batches]), "labels": torch.tensor([1.0])}

    class Record(TrainerCallback):
        def __init__(self) -> None:
            self.epoch = -1
            self.steps: list[tuple[int, float]] = []

        def on_epoch_begin(self, args, state, control, **kwargs):
            self.epoch += 1

        def on_optimizer_step(self, args, state, control, optimizer=None, **kwargs):
            # after optimizer.step(), before lr_scheduler.step(): the lr this step used
            self.steps.append((self.epoch, optimizer.param_groups[0]["lr"]))

    training = TrainingArguments(
        output_dir=str(tmp_path / "trainer"),
        report_to=[],
        use_cpu=True,
        save_strategy="no",
        logging_strategy="no",
        disable_tqdm=True,
        per_device_train_batch_size=1,
        remove_unused_columns=False,
        **args,
    )
    record = Record()
    Trainer(model=Tiny(), args=training, train_dataset=Samples(), callbacks=[record]).train()
    return record.steps


def _refused(args: dict[str, Any], tmp_path: Path) -> str:
    """The error message of the installed TrainingArguments for these arguments."""
    from transformers import TrainingArguments

    with pytest.raises((TypeError, ValueError)) as info:
        TrainingArguments(output_dir=str(tmp_path / "refused"), report_to=[], **args)
    return str(info.value)


def _replacement(args: dict[str, Any], note: str) -> dict[str, Any]:
    """The arguments with warmup_ratio replaced as lrviz's note says."""
    fixed = {k: v for k, v in args.items() if k != "warmup_ratio"}
    match = re.search(r"write warmup_steps: (\S+) ", note)
    if match:
        fixed["warmup_steps"] = yaml.safe_load(match[1])
    else:
        assert note.endswith("delete it"), note
    return fixed


CASES = {
    # 25 batches / 4: a leftover of 1 batch per epoch; cosine; the issue's warmup_ratio
    "leftover-batches-cosine-warmup-ratio": (
        {
            "num_train_epochs": 3,
            "gradient_accumulation_steps": 4,
            "learning_rate": 2e-5,
            "lr_scheduler_type": "cosine",
            "warmup_ratio": 0.1,
        },
        25,
    ),
    "max-steps-beats-epochs": (
        {
            "max_steps": 17,
            "num_train_epochs": 1,
            "gradient_accumulation_steps": 3,
            "learning_rate": 1e-3,
            "lr_scheduler_type": "linear",
            "warmup_steps": 4,
        },
        10,
    ),
    "fractional-epochs": (
        {
            "num_train_epochs": 2.5,
            "gradient_accumulation_steps": 3,
            "lr_scheduler_type": "cosine",
            "warmup_steps": 2,
        },
        10,
    ),
    "warmup-steps-as-a-fraction": (
        {
            "num_train_epochs": 2,
            "gradient_accumulation_steps": 2,
            "lr_scheduler_type": "linear",
            "warmup_steps": 0.25,
        },
        9,
    ),
    "warmup-steps-float-above-one": (
        {"num_train_epochs": 1, "lr_scheduler_type": "cosine", "warmup_steps": 3.7},
        12,
    ),
    "fewer-batches-than-accumulation": (
        {
            "num_train_epochs": 3,
            "gradient_accumulation_steps": 4,
            "lr_scheduler_type": "linear",
            "warmup_ratio": 0.5,
        },
        3,
    ),
    "warmup-ratio-and-warmup-steps": (
        {"num_train_epochs": 1, "warmup_steps": 3, "warmup_ratio": 0.5},
        10,
    ),
    "scheduler-kwargs": (
        {
            "num_train_epochs": 2,
            "lr_scheduler_type": "cosine_with_min_lr",
            "lr_scheduler_kwargs": {"min_lr_rate": 0.1},
            "warmup_steps": 3,
        },
        8,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_rows_equal_the_installed_trainer_step_for_step(case: str, tmp_path: Path):
    args, batches = CASES[case]
    path = tmp_path / "args.yaml"
    path.write_text(yaml.safe_dump(args))
    fractional = any(k == "warmup_steps" and v != int(v) for k, v in args.items())
    if fractional and not FRACTIONAL:  # 4.x: warmup_steps is a whole number of steps
        assert "warmup_steps must be of type int" in _refused(args, tmp_path)
        with pytest.raises(SpecError) as info:
            load_spec(str(path))
        assert [p.key for p in info.value.problems] == ["warmup_steps"]
        return
    trace = lrviz.run(path, iters_per_epoch=batches)
    trainer_args = args
    if "warmup_ratio" in args and RATIO_GONE:  # the installed Trainer refuses the file ...
        assert "warmup_ratio" in _refused(args, tmp_path)
        note = hf.ratio_message(trace.notes)
        assert note is not None and note.startswith("warmup_ratio was removed")
        trainer_args = _replacement(args, note)  # ... and the replacement lrviz names works
    steps = _trainer_steps(trainer_args, batches, tmp_path)
    assert trace.error is None
    assert trace.lr[:, 0].tolist() == [lr for _, lr in steps]
    if CEIL:  # from 4.52 every epoch has the same number of optimizer steps, as lrviz shows
        _, epoch, _, _ = trace.positions()
        assert epoch.tolist() == [e for e, _ in steps]


def test_the_issues_numbers_follow_the_installed_release():
    # 250 batches / 4 accumulation: 62.5 optimizer steps per epoch, rounded up from 4.52
    # (189 steps in 3 epochs), down before (186; transformers 4.46 runs 186).
    spec = load_spec(JSON, Options(iters=250))
    per_epoch, total = (63, 189) if CEIL else (62, 186)
    assert spec.scheduler.type == "transformers.get_scheduler"
    assert spec.scheduler.kwargs == {
        "name": "cosine",
        "num_warmup_steps": math.ceil(total * 0.1),  # 19 either way
        "num_training_steps": total,
        "scheduler_specific_kwargs": {},
    }
    assert (spec.run.epochs, spec.run.iters_per_epoch, spec.run.steps, spec.run.step) == (
        3,
        per_epoch,
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
    head = f"hf (transformers {RELEASE.text}): 3 epochs × 250 batches / 4 accumulation"
    if CEIL:
        shape = f"{head} = 189 optimizer steps (63 per epoch, rounded up)"
    else:
        shape = (
            f"{head} = 186 optimizer steps (62 per epoch, rounded down; the 2 leftover batches "
            "still train, so Trainer's epoch boundaries drift from the epoch column)"
        )
    if RATIO_GONE:
        assert spec.notes == [
            f"{shape}; warmup 19 steps (warmup_ratio 0.1, as in 4.x)",
            f"hf: warmup_ratio was removed in transformers 5.15, and the installed "
            f"{RELEASE.text} refuses this file; lrviz reads it as transformers 4 did "
            "(ceil(189 × 0.1) = 19 warmup steps); write warmup_steps: 0.1 instead",
        ]
    elif FRACTIONAL:
        assert spec.notes == [
            f"{shape}; warmup 19 steps (warmup_ratio 0.1)",
            f"hf: warmup_ratio is deprecated since transformers 5.0 and removed in 5.15; the "
            f"installed {RELEASE.text} copies it into warmup_steps, so 19 warmup steps; "
            "write warmup_steps: 0.1 instead",
        ]
    else:
        assert spec.notes == [f"{shape}; warmup 19 steps (warmup_ratio 0.1)"]


def test_json_args_equal_transformers_get_scheduler_bit_for_bit():
    import torch
    import transformers

    plan = load_plan(JSON, Options(iters=250))
    assert plan.scheduler_class == "transformers.get_scheduler('cosine')"
    trace = run(plan)
    total = 189 if CEIL else 186
    opt = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=2e-05)
    sched = transformers.get_scheduler("cosine", opt, num_warmup_steps=19, num_training_steps=total)
    expected = []
    for _ in range(total):  # Trainer: optimizer.step(); lr_scheduler.step() per update
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert trace.error is None and trace.rows == total
    assert np.array_equal(trace.lr[:, 0], np.array(expected, dtype=np.float64))
    assert trace.lr[0, 0] == 0.0 and trace.lr[19, 0] == 2e-05  # the warm-up peak


def test_max_steps_beats_epochs_and_a_small_warmup_steps_is_a_ratio_from_5_0():
    if not FRACTIONAL:
        assert _problems(YAML, Options(iters=1000)) == [
            f"{YAML}:10: warmup_steps: transformers {RELEASE.text} takes a whole number of "
            "warmup steps, got 0.03 (a warmup_steps below 1 is a ratio only from transformers "
            "5.0; a fraction of the run is warmup_ratio: 0.03 there)"
        ]
        return
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
        f"hf (transformers {RELEASE.text}): max_steps = 500 optimizer steps at 1,000 batches "
        "/ 8 accumulation = 125 per epoch (4 epochs); warmup 15 steps (ratio 0.03)"
    ]
    alone = load_spec(YAML)  # no --iters: max_steps is the whole run
    assert (alone.run.epochs, alone.run.iters_per_epoch) == (1, 500)
    trace = run(load_plan(YAML, Options(iters=1000)))
    assert math.isclose(trace.lr[-1, 0], 2e-5, rel_tol=1e-3)  # ends near min_lr_rate × lr


def test_fractional_epochs_end_the_run_inside_an_epoch(tmp_path):
    f = tmp_path / "args.json"
    f.write_text('{"num_train_epochs": 2.5, "gradient_accumulation_steps": 3, "warmup_steps": 2}')
    spec = load_spec(str(f), Options(iters=10))
    # 5.x: ceil(10 / 3) = 4 steps per epoch; ceil(2.5 * 4) = 10 steps over 3 epochs (12 slots).
    # 4.x before 4.52: 3 per epoch; ceil(2.5 * 3) = 8 steps over 3 epochs (9 slots).
    expected = (3, 4, 10) if CEIL else (3, 3, 8)
    assert (spec.run.epochs, spec.run.iters_per_epoch, spec.run.steps) == expected
    assert spec.scheduler.kwargs["num_warmup_steps"] == 2
    assert spec.scheduler.kwargs["name"] == "linear"  # TrainingArguments' default


def test_the_warmup_ratio_replacement_gives_the_same_rows(tmp_path):
    if not FRACTIONAL:  # 4.x has no fractional warmup_steps; warmup_ratio is current there
        assert hf.ratio_message(load_spec(JSON, Options(iters=250)).notes) is None
        return
    with_ratio = lrviz.run(JSON, iters_per_epoch=250)
    replaced = lrviz.run(
        JSON, iters_per_epoch=250, overrides=["warmup_ratio=null", "warmup_steps=0.1"]
    )
    assert replaced.lr.tolist() == with_ratio.lr.tolist()
    assert hf.ratio_message(replaced.notes) is None


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
    assert hf.installed() is None
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


def test_hydra_function_target_equals_transformers():
    import torch
    import transformers

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
    import transformers

    names = ", ".join(t.value for t in transformers.SchedulerType)
    f = tmp_path / "args.yaml"
    f.write_text(
        "lr_scheduler_type: cosine_with_restart\nmax_steps: 100\n"
        "lr_scheduler_kwargs:\n  num_cycle: 2\n"
    )
    assert _problems(str(f), Options()) == [
        f"{f}:1: lr_scheduler_type: unknown transformers scheduler 'cosine_with_restart'; "
        f"did you mean 'cosine_with_restarts'? (one of: {names})"
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
    result = CliRunner().invoke(app, ["table", JSON, "--iters", "250", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    per_epoch = 63 if CEIL else 62
    assert (data["name"], data["step_mode"], len(data["rows"])) == (
        "hf_args",
        "batch",
        3 * per_epoch,
    )
    assert data["rows"][per_epoch]["epoch"] == 1 and data["rows"][per_epoch]["iter"] == 0
    assert data["notes"][0].startswith(f"hf (transformers {RELEASE.text}): 3 epochs")
