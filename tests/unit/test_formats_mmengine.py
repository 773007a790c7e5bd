"""mmengine Python configs: read without running them, stepped as mmengine's Runner steps them.

The truth is mmengine itself. `Config.fromfile` (which runs the config, trusted test data
here) is the reference for reading and `_base_` merging; a real `Runner` trains a tiny model
on a tiny in-memory dataloader with the config's optim_wrapper, param_scheduler and train_cfg,
a hook records the lr every param group has when each iteration starts, and lrviz's rows
must equal them value for value.

The data files in tests/data/formats/mmengine/ are written in the style of OpenMMLab's own
configs (mmdet, mmpretrain and mmseg `configs/_base_/schedules/*.py` and configs that inherit
them with `_base_ = [...]`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from lrviz.cli import app
from lrviz.errors import LrvizError, SpecError
from lrviz.formats import mmengine
from lrviz.load import Options, load_plan
from lrviz.simulation import run

DATA = Path(__file__).parent.parent / "data" / "formats" / "mmengine"
RETINANET = DATA / "mmdet" / "retinanet_r50_fpn_1x_coco.py"
SCHEDULE_1X = DATA / "_base_" / "schedules" / "schedule_1x.py"
MODULES = ("backbone", "neck", "head")


@functools.cache
def _mm() -> dict[str, Any]:
    """mmengine's Config, Runner, BaseModel and Hook (imported once; their imports warn)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from mmengine.config import Config
        from mmengine.hooks import Hook
        from mmengine.model import BaseModel
        from mmengine.runner import Runner
    return {"Config": Config, "Runner": Runner, "BaseModel": BaseModel, "Hook": Hook}


def _fromfile(path: Path) -> dict[str, Any]:
    """The config as mmengine's own Config.fromfile reads it (running the file)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _mm()["Config"].fromfile(str(path)).to_dict()


def _runner_rows(
    path: Path, iters: int, tmp_path: Path, modules: tuple[str, ...] = ("backbone",)
) -> tuple[list[list[float]], list[list[float]]]:
    """(lr rows, momentum rows) of a real mmengine Runner training with this config.

    A row per iteration, recorded in before_train_iter (the lr that iteration's optimizer
    step uses); one column per named submodule: the lr of the param group holding its weight
    (mmengine makes one param group per parameter under paramwise_cfg).
    """
    import torch
    from torch import nn
    from torch.utils.data import DataLoader

    mm = _mm()
    cfg = _fromfile(path)

    class Toy(mm["BaseModel"]):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = nn.Linear(1, 1)
            self.neck = nn.Linear(1, 1)
            self.head = nn.Linear(1, 1)

        def forward(self, inputs, data_samples=None, mode="tensor"):
            return {"loss": self.head(self.neck(self.backbone(inputs))).sum()}

    model = Toy()
    lrs: list[list[float]] = []
    moms: list[list[float]] = []

    class Record(mm["Hook"]):
        def before_train_iter(self, runner, batch_idx, data_batch=None):
            groups = runner.optim_wrapper.param_groups
            mine = [
                next(g for g in groups if any(p is getattr(model, m).weight for p in g["params"]))
                for m in modules
            ]
            lrs.append([g["lr"] for g in mine])
            moms.append([g["momentum"] if "momentum" in g else g["betas"][0] for g in mine])

    # An iteration-based loop restarts a short dataloader with a 2 s pause: give it enough.
    train = cfg["train_cfg"]
    batches = max(iters, train.get("max_iters", 0))
    loader = DataLoader(
        [torch.ones(1)] * batches, batch_size=1, collate_fn=lambda b: {"inputs": torch.stack(b)}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runner = mm["Runner"](
            model=model,
            work_dir=str(tmp_path / "work"),
            experiment_name=f"lrviz-{uuid.uuid4().hex}",
            train_dataloader=loader,
            optim_wrapper=cfg["optim_wrapper"],
            param_scheduler=cfg["param_scheduler"],
            train_cfg=train,
            custom_hooks=[Record()],
            default_hooks=dict(logger=None, checkpoint=None),
            log_level="ERROR",
        )
        runner.train()
    return lrs, moms


def _lrviz(path: Path, **options: Any):
    return run(load_plan(str(path), Options(**options)))


def _problems(path: Path | str, **options: Any) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_plan(str(path), Options(**options))
    return [str(p) for p in info.value.problems]


# --- lrviz's rows are mmengine's Runner's, value for value -----------------------------------

RUNNER_CASES = {
    # mmdet: warm-up LinearLR by iteration + MultiStepLR by epoch (schedule_1x via _base_)
    "mmdet-1x-warmup-multistep": ("mmdet/retinanet_r50_fpn_1x_coco.py", 50, ("backbone",)),
    # mmpretrain: MultiStepLR by epoch, one dict, the Runner's default end
    "mmpretrain-multistep-by-epoch": ("mmpretrain/resnet50_8xb32_in1k.py", 1, ("backbone",)),
    # mmpretrain: warm-up and cosine both converted to iterations, lr from _base_ arithmetic
    "mmpretrain-swin-convert-to-iter": (
        "mmpretrain/swin_tiny_16xb64_in1k_short.py",
        8,
        ("backbone",),
    ),
    # mmseg: PolyLR by iteration in an IterBasedTrainLoop, train_cfg merged over the base's
    "mmseg-poly-iter-loop": ("mmseg/fcn_r50-d8_4xb4-20k_tiny-512x512.py", 300, ("backbone",)),
    # begin/end offsets: warm-up from iteration 4, constant, cosine and exponential by epoch
    "begin-end-offsets": ("custom/offsets.py", 4, ("backbone",)),
    # several param groups (paramwise_cfg custom_keys) and a momentum scheduler
    "param-groups-and-momentum": ("custom/param_groups.py", 5, ("backbone", "head", "neck")),
    # mmengine's OneCycleLR (no momentum cycling) then StepLR, iteration-based
    "onecycle-then-step-iter-loop": ("custom/onecycle_iters.py", 200, ("backbone",)),
    # an epoch member listed first: the hook still steps the iteration member first
    "epoch-member-listed-first": ("custom/epoch_member_first.py", 4, ("backbone",)),
}


@pytest.mark.parametrize("name", list(RUNNER_CASES))
def test_rows_equal_mmengines_runner(name: str, tmp_path: Path):
    file, iters, modules = RUNNER_CASES[name]
    path = DATA / file
    lrs, moms = _runner_rows(path, iters, tmp_path, modules)
    trace = _lrviz(path, iters=iters)
    assert trace.error is None
    assert len(trace.lr) == len(lrs)
    assert trace.lr.tolist() == lrs
    assert trace.momentum.tolist() == moms


def test_the_rows_are_mmengines_not_torchs():
    """mmengine's LinearLR reaches the full lr one step before torch's LinearLR does."""
    import torch

    data = {
        "optimizer": {"type": "SGD", "lr": 1.0},
        "scheduler": [
            {
                "type": "mmengine.LinearLR",
                "start_factor": 0.25,
                "by_epoch": False,
                "begin": 0,
                "end": 4,
                "step": "batch",
            }
        ],
        "run": {"epochs": 1, "iters_per_epoch": 6},
    }
    ours = run(load_plan(data)).lr[:, 0].tolist()
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=4)
    theirs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(6):
            theirs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
    assert ours == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert theirs[:5] == [0.25, 0.4375, 0.625, 0.8125, 1.0]


def test_header_says_how_each_scheduler_steps():
    trace = _lrviz(RETINANET, iters=50)
    assert trace.notes[0] == (
        "mmengine: EpochBasedTrainLoop, 12 epochs × 50 iterations (--iters); "
        "LinearLR every iteration, MultiStepLR every epoch"
    )


def test_defaults_the_runner_fills_are_said():
    trace = _lrviz(DATA / "mmpretrain" / "resnet50_8xb32_in1k.py")
    assert "param_scheduler: no end, so the train loop's 100 epochs (as the Runner sets it)" in (
        trace.notes
    )
    assert trace.lr.shape == (100, 1)  # by epoch only: one row per epoch without --iters


def test_an_epoch_scheduler_in_an_iteration_loop_steps_once(tmp_path: Path):
    path = tmp_path / "iter_epoch.py"
    path.write_text(
        "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))\n"
        "param_scheduler = dict(type='LinearLR', start_factor=0.5, end=10)\n"
        "train_cfg = dict(type='IterBasedTrainLoop', max_iters=20)\n"
    )
    trace = _lrviz(path)
    assert set(trace.lr[:, 0].tolist()) == {0.05}  # the constructor's value, never stepped
    assert any("steps it once, after the last iteration" in n for n in trace.notes)
    lrs, _ = _runner_rows(path, 20, tmp_path)
    assert trace.lr.tolist() == lrs


# --- reading: what mmengine's Config.fromfile reads, without running the file ---------------

CONFIGS = sorted(p for p in DATA.rglob("*.py"))


def _leaves(data: Any, path: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {path + ".": sorted(map(str, data))}
        for k, v in data.items():
            out.update(_leaves(v, f"{path}.{k}"))
        return out
    if isinstance(data, (list, tuple)):
        out = {path + "#": len(data)}
        for i, v in enumerate(data):
            out.update(_leaves(v, f"{path}[{i}]"))
        return out
    return {path: data}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(DATA)))
def test_reading_equals_config_fromfile(path: Path):
    ours, _ = mmengine.read_config(path, DATA)
    theirs = _leaves(_fromfile(path))
    mine = _leaves(ours)
    unread = {k for k, v in mine.items() if isinstance(v, mmengine.Unsupported)}
    assert set(mine) - unread == set(theirs) - unread
    assert {k: v for k, v in mine.items() if k not in unread} == {
        k: v for k, v in theirs.items() if k not in unread
    }


def test_unread_values_are_the_ones_lrviz_cannot_evaluate():
    data, _ = mmengine.read_config(RETINANET, DATA)
    dataset = data["train_dataloader"]["dataset"]
    assert repr(dataset["metainfo"]["num_classes"]) == (
        "<a call to len() at ../_base_/datasets/coco_detection.py:33, not read>"
    )
    assert isinstance(dataset["data_prefix"]["img"], mmengine.Unsupported)
    assert data["optim_wrapper"]["optimizer"]["lr"] == 0.01  # the child's, merged over the base
    assert data["optim_wrapper"]["type"] == "OptimWrapper"  # the base's, kept


def test_lines_point_at_the_users_file_and_name_the_bases():
    _, lines = mmengine.read_config(RETINANET, DATA)
    assert lines["optim_wrapper.optimizer.lr"] == 9  # the child's own line
    assert lines["param_scheduler[0].end"] == 1  # inherited: the child's _base_ line
    assert lines.origin["param_scheduler[0].end"] == ("../_base_/schedules/schedule_1x.py", 9)


def _write(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / ".git").mkdir(parents=True, exist_ok=True)  # the project tree
    for name, text in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return tmp_path / next(iter(files))


MERGES = {
    "delete-replaces-the-base-mapping": {
        "configs/child.py": "_base_ = '../base.py'\n"
        "optim_wrapper = dict(optimizer=dict(_delete_=True, type='AdamW', lr=1e-4))\n",
        "base.py": "optim_wrapper = dict(type='OptimWrapper', "
        "optimizer=dict(type='SGD', lr=0.02, momentum=0.9), clip_grad=None)\n",
    },
    "a-list-replaces-the-base-list": {
        "child.py": "_base_ = ['base.py']\nparam_scheduler = [dict(type='StepLR', step_size=3)]\n",
        "base.py": "param_scheduler = [dict(type='LinearLR', end=5), dict(type='PolyLR')]\n",
    },
    "base-references": {
        "child.py": "_base_ = ['a.py', 'b.py']\n"
        "lr = _base_.optim_wrapper.optimizer.lr * 4\n"
        "sched = {{_base_.param_scheduler}}\n"
        "epochs = _base_['train_cfg']['max_epochs'] // 2\n"
        "optim_wrapper = dict(optimizer=dict(lr=lr))\n"
        "train_cfg = dict(max_epochs=epochs)\n",
        "a.py": "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01))\n",
        "b.py": "param_scheduler = dict(type='MultiStepLR', milestones=[8, 11])\n"
        "train_cfg = dict(by_epoch=True, max_epochs=12)\n",
    },
    "a-shared-dict-loses-delete-once": {
        # mmengine pops _delete_ from the child's dict in place: the second use merges.
        "child.py": "_base_ = 'base.py'\n"
        "opt = dict(_delete_=True, type='Adam', lr=1e-3)\n"
        "optimizer = opt\n"
        "optim_wrapper = dict(optimizer=opt)\n",
        "base.py": "optimizer = dict(type='SGD', lr=0.1, momentum=0.9)\n"
        "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9))\n",
    },
    "python-semantics": {
        "child.py": "_base_ = 'base.py'\n"
        "a, (b, c) = 1, [2, 3]\n"
        "steps = [8]\n"
        "sched = dict(type='MultiStepLR', milestones=steps)\n"
        "steps += [11]\n"  # in place: sched sees it too
        "extra = dict(**sched, gamma=0.5)\n"
        "both = {**extra, 'by_epoch': True}\n"
        "last = steps[-1]\n"
        "head = steps[:1]\n"
        "kept = dict(_delete_=False, type='X')\n"
        "model = dict(neck=dict(_delete_=False, out=2))\n",
        "base.py": "model = dict(neck=dict(type='FPN', out=1))\n",
    },
    "nested-bases-and-arithmetic": {
        "child.py": "_base_ = ['mid.py']\nlr = 5e-4 * 1024 / 512\nx = -(2 ** 3) % 5\n"
        "t = (1, 2) + (3,)\nflag = not (lr > 1e-3 or x in [3, 4])\ns = 'a' * 3 + 'b'\n",
        "mid.py": "_base_ = 'base.py'\nmodel = dict(head=dict(num_classes=10))\n",
        "base.py": "model = dict(type='M', head=dict(type='H', num_classes=1000))\n",
    },
}


@pytest.mark.parametrize("name", list(MERGES))
def test_base_merge_follows_mmengine(name: str, tmp_path: Path):
    path = _write(tmp_path, MERGES[name])
    ours, _ = mmengine.read_config(path, tmp_path)
    assert _leaves(ours) == _leaves(_fromfile(path))


def test_a_merge_mmengine_refuses_is_refused(tmp_path: Path):
    files = {"child.py": "_base_ = 'base.py'\nlr = dict(a=1)\n", "base.py": "lr = 0.1\n"}
    path = _write(tmp_path, files)
    with pytest.raises(TypeError):
        _fromfile(path)
    with pytest.raises(SpecError) as info:
        mmengine.read_config(path, tmp_path)
    assert str(info.value) == (
        f"{path}:2: lr is a mapping here but not in the _base_ files; mmengine refuses to "
        f"merge them (set _delete_=True to replace it)"
    )


def test_duplicate_keys_among_bases_are_refused(tmp_path: Path):
    files = {"child.py": "_base_ = ['a.py', 'b.py']\n", "a.py": "x = 1\n", "b.py": "x = 2\n"}
    path = _write(tmp_path, files)
    with pytest.raises(KeyError):
        _fromfile(path)
    with pytest.raises(SpecError, match="_base_ files define x twice"):
        mmengine.read_config(path, tmp_path)


# --- refusals: nothing is ever run --------------------------------------------------------

SENTINEL = "lrviz-was-run"


def _hostile(sentinel: Path) -> dict[str, tuple[str, str]]:
    """name -> (config text, the one-line problem expected, with FILE for the file name)."""
    touch = f"__import__('pathlib').Path({str(sentinel)!r}).touch()"
    ok = (
        "train_cfg = dict(by_epoch=True, max_epochs=2)\n"
        "param_scheduler = dict(type='StepLR', step_size=1)\n"
    )
    return {
        "import": (
            "import os\n" + ok,
            "FILE:1: an import is not read: lrviz reads mmengine configs without running them "
            "(module-level assignments only)",
        ),
        "dunder-import-call": (
            f"lr = {touch}\noptim_wrapper = dict(optimizer=dict(type='SGD', lr=lr))\n" + ok,
            "FILE:1: optim_wrapper.optimizer.lr: a function call is not read: lrviz reads "
            "mmengine configs without running them",
        ),
        "call-statement": (
            f"{touch}\n" + ok,
            "FILE:1: an expression statement (a call such as x.update() changes values) is not "
            "read: lrviz reads mmengine configs without running them (module-level assignments "
            "only)",
        ),
        "attribute-access": (
            "optim_wrapper = dict(optimizer=dict(type='SGD', lr=(0.1).__class__))\n" + ok,
            "FILE:1: optim_wrapper.optimizer.lr: attribute access (.__class__) is not read: "
            "lrviz reads mmengine configs without running them",
        ),
        "huge-exponent": (
            "optim_wrapper = dict(optimizer=dict(type='SGD', lr=10 ** 10 ** 10))\n" + ok,
            "FILE:1: optim_wrapper.optimizer.lr: a number too large is not read: lrviz reads "
            "mmengine configs without running them",
        ),
        "huge-repetition": (
            "x = 'a' * 10 ** 12\noptim_wrapper = dict(optimizer=dict(type='SGD', lr=x))\n" + ok,
            "FILE:1: optim_wrapper.optimizer.lr: a value of more than 1,000,000 items is not "
            "read: lrviz reads mmengine configs without running them",
        ),
        "f-string": (
            "optim_wrapper = dict(optimizer=dict(type=f'{\"SGD\"}', lr=0.1))\n" + ok,
            "FILE:1: optim_wrapper.optimizer.type: an f-string is not read: lrviz reads "
            "mmengine configs without running them",
        ),
        "lambda": (
            "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))\n"
            "train_cfg = dict(by_epoch=True, max_epochs=2)\n"
            "param_scheduler = dict(type='StepLR', step_size=(lambda: 1)())\n",
            "FILE:3: param_scheduler.step_size: a function call is not read: lrviz reads mmengine "
            "configs without running them",
        ),
        "item-assignment": (
            "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))\n"
            "optim_wrapper['optimizer'] = dict(type='Adam')\n" + ok,
            "FILE:2: an item assignment (x[k] = ...) is not read: it changes a value in place "
            "(lrviz reads mmengine configs without running them)",
        ),
        "unbound-name": (
            "optim_wrapper = dict(optimizer=dict(type='SGD', lr=base_lr))\n" + ok,
            "FILE:1: optim_wrapper.optimizer.lr: name 'base_lr', not bound before this line is "
            "not read: lrviz reads mmengine configs without running them",
        ),
        "lazy-import-config": (
            "from mmengine.config import read_base\nwith read_base():\n    from .a import *\n",
            "FILE:1: an import is not read: lrviz reads mmengine configs without running them "
            "(module-level assignments only)",
        ),
        "env-substitution": (
            "lr = {{$LR:0.1}}\n" + ok,
            "FILE:1: not valid Python (a syntax error)",
        ),
        "custom-scheduler": (
            "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))\n"
            "train_cfg = dict(by_epoch=True, max_epochs=2)\n"
            "param_scheduler = [dict(type='mmdet.QuadraticWarmupLR', end=5)]\n",
            "FILE:3: param_scheduler[0].type: 'mmdet.QuadraticWarmupLR' is not one of "
            "mmengine's own schedulers; lrviz builds only those (it never imports a module a "
            "config names)",
        ),
    }


@pytest.mark.parametrize("name", list(_hostile(Path("x"))))
def test_unsupported_constructs_are_refused_and_never_run(name: str, tmp_path: Path):
    sentinel = tmp_path / SENTINEL
    text, expected = _hostile(sentinel)[name]
    path = tmp_path / "hostile.py"
    path.write_text(text)
    problems = _problems(path, epochs=2)
    assert problems == [expected.replace("FILE", str(path))]
    assert not sentinel.exists()


def test_unread_values_the_schedule_does_not_need_do_not_stop_it(tmp_path: Path):
    path = tmp_path / "c.py"
    path.write_text(
        "classes = ('cat', 'dog')\n"
        "model = dict(head=dict(num_classes=len(classes)), pipeline=[x for x in range(3)])\n"
        "work_dir = f'./work_dirs/{classes[0]}'\n"
        "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))\n"
        "param_scheduler = dict(type='StepLR', step_size=1, gamma=0.5)\n"
        "train_cfg = dict(by_epoch=True, max_epochs=3)\n"
    )
    assert _lrviz(path).lr[:, 0].tolist() == [0.1, 0.05, 0.025]


@pytest.mark.parametrize(
    ("base", "message"),
    [
        ("../outside.py", "resolves outside the project tree"),
        ("/etc/hosts", "is an absolute path"),
        ("notes.txt", "lrviz reads .py base configs only"),
        ("child.py", "inherits from itself"),
        ("mmdet::_base_/default_runtime.py", "from an installed package (package::path)"),
        ("missing.py", "missing.py: no such file"),
    ],
)
def test_base_files_stay_in_the_project_tree(tmp_path: Path, base: str, message: str):
    project = tmp_path / "project"
    path = _write(project, {"child.py": f"_base_ = [{base!r}]\n", "notes.txt": "x = 1\n"})
    (tmp_path / "outside.py").write_text("param_scheduler = dict(type='StepLR', step_size=1)\n")
    problems = _problems(path)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:1: ")
    assert message in problems[0]


def test_a_symlinked_base_that_leaves_the_tree_is_refused(tmp_path: Path):
    project = tmp_path / "project"
    path = _write(project, {"child.py": "_base_ = ['link.py']\n"})
    (tmp_path / "secret.py").write_text("token = 'hunter2'\n")
    os.symlink(tmp_path / "secret.py", project / "link.py")
    problems = _problems(path)
    assert "resolves outside the project tree" in problems[0]
    assert "hunter2" not in problems[0]


def test_a_base_files_own_text_is_never_quoted(tmp_path: Path):
    path = _write(
        tmp_path,
        {"child.py": "_base_ = ['b.py']\n", "b.py": "API_KEY = sk-live-1234\nx = {{$HOME}}\n"},
    )
    problems = _problems(path)
    assert problems == [f"{path}:1: in b.py:2: not valid Python (a syntax error)"]


# --- the reader only ever returns data or raises lrviz's own error ------------------------

_NAMES = st.sampled_from(["a", "lr", "_base_", "dict", "len", "__import__", "x"])
_LEAVES = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=False).map(repr),
    st.text(max_size=8).map(repr),
    st.sampled_from(
        ["None", "True", "1e308", "10 ** 10 ** 10", "{{_base_.a}}", "{{ fileDirname }}"]
    ),
    _NAMES,
)


def _expr(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(
            children, st.sampled_from([*"+-*/%", "//", "**", "<<", "|", "and", "<", "in"]), children
        ).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["-", "not ", "~"]), children).map(lambda t: f"({t[0]}{t[1]})"),
        st.lists(children, max_size=3).map(lambda xs: f"[{', '.join(xs)}]"),
        st.lists(children, max_size=3).map(lambda xs: f"({', '.join(xs)},)"),
        st.lists(st.tuples(_NAMES, children), max_size=3).map(
            lambda kv: f"dict({', '.join(f'{k}={v}' for k, v in kv if k != '_base_')})"
        ),
        st.lists(st.tuples(children, children), max_size=2).map(
            lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"
        ),
        st.tuples(children, children).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.tuples(children, _NAMES).map(lambda t: f"{t[0]}.{t[1]}"),
        st.tuples(_NAMES, children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
        children.map(lambda c: f"f'{{{c}}}'"),
        children.map(lambda c: f"(lambda: {c})"),
        children.map(lambda c: f"[*{c}]"),
        children.map(lambda c: f"dict(**{c})"),
    )


_EXPRS = st.recursive(_LEAVES, _expr, max_leaves=12)
_STATEMENTS = st.one_of(
    st.tuples(_NAMES, _EXPRS).map(lambda t: f"{t[0]} = {t[1]}"),
    st.tuples(_NAMES, _EXPRS).map(lambda t: f"{t[0]} += {t[1]}"),
    st.tuples(_NAMES, _NAMES, _EXPRS).map(lambda t: f"{t[0]}, {t[1]} = {t[2]}"),
    st.tuples(_NAMES, _EXPRS).map(lambda t: f"{t[0]}[0] = {t[1]}"),
    st.sampled_from(["import os", "pass", "'doc'", "_base_ = []", "if a: pass", "del a"]),
    _EXPRS,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.one_of(
        st.lists(_STATEMENTS, max_size=8).map("\n".join),
        st.text(alphabet="ab_=()[]{}.,:*+-/%'\"0123456789 \n#\\fx", max_size=80),
    )
)
def test_the_reader_returns_data_or_refuses(text: str):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.py"
        path.write_text(text)
        try:
            data, lines = mmengine.read_config(path, Path(folder))
        except LrvizError:
            return
        assert isinstance(data, dict)
        assert all(isinstance(v, int) for v in lines.values())
        with contextlib.suppress(LrvizError):  # converting: native data or lrviz's own error
            load_plan(str(path), Options(iters=2, epochs=2))


# --- the converter's own refusals, one line each ------------------------------------------


def test_per_iteration_schedulers_need_iters():
    """Located at the user's _base_ line (where lrviz check reports it), naming the base's."""
    assert _problems(RETINANET) == [
        f"{RETINANET}:1: param_scheduler[0].by_epoch: LinearLR steps every iteration "
        "(by_epoch=False), and the config does not say how many iterations an epoch has: pass "
        "--iters N (the len() of the train dataloader) (set in "
        "../_base_/schedules/schedule_1x.py:9)"
    ]


def test_an_unread_value_in_a_base_names_the_base(tmp_path: Path):
    files = {
        "configs/child.py": "_base_ = ['../base.py']\n"
        "train_cfg = dict(by_epoch=True, max_epochs=3)\n",
        "base.py": "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))\n"
        "param_scheduler = dict(type='StepLR', step_size=int('3'))\n",
    }
    path = _write(tmp_path, files)
    assert _problems(path) == [
        f"{path}:1: param_scheduler.step_size: a call to int() is not read: lrviz reads "
        "mmengine configs without running them (in ../base.py:2)"
    ]


CONFIG_TAIL = (
    "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))\n"
    "param_scheduler = dict(type='StepLR', step_size=1)\n"
    "train_cfg = dict(by_epoch=True, max_epochs=2)\n"
)


@pytest.mark.parametrize(
    ("text", "options", "expected"),
    [
        (
            CONFIG_TAIL + "param_scheduler = dict(type='ReduceOnPlateauLR', monitor='loss')\n",
            {},
            "FILE:4: param_scheduler.type: ReduceOnPlateauLR steps on validation metrics, which "
            "a config does not contain; lrviz cannot show it",
        ),
        (
            CONFIG_TAIL + "param_scheduler = None\n",
            {},
            "FILE:4: param_scheduler: this config has no param_scheduler: mmengine keeps the lr "
            "at optim_wrapper.optimizer.lr, so there is no schedule to show",
        ),
        (
            CONFIG_TAIL + "auto_scale_lr = dict(enable=True, base_batch_size=16)\n",
            {},
            "FILE:4: auto_scale_lr.enable: auto_scale_lr is enabled: mmengine's Runner scales "
            "the lr by (GPUs × train_dataloader.batch_size) / base_batch_size, which the file "
            "does not say; pass --set auto_scale_lr.enable=false to see the unscaled schedule",
        ),
        (
            CONFIG_TAIL + "train_cfg = dict(type='IterBasedTrainLoop', max_iters=100)\n",
            {"epochs": 3},
            "FILE: --epochs does not apply: train_cfg is iteration-based (IterBasedTrainLoop); "
            "set its length with --set train_cfg.max_iters=N",
        ),
        (
            CONFIG_TAIL + "train_cfg = dict(by_epoch=True, max_epoch=12)\n",
            {},
            "FILE:4: train_cfg.max_epoch: EpochBasedTrainLoop takes no argument 'max_epoch'; "
            "did you mean 'max_epochs'?",
        ),
        (
            CONFIG_TAIL.replace("train_cfg = dict(by_epoch=True, max_epochs=2)\n", ""),
            {},
            "FILE: no train_cfg: the config does not say how long training runs; pass --epochs "
            "N (or add train_cfg = dict(by_epoch=True, max_epochs=N))",
        ),
        (
            CONFIG_TAIL + "optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3), "
            "constructor='LearningRateDecayOptimWrapperConstructor')\n",
            {},
            "FILE:4: optim_wrapper.constructor: 'LearningRateDecayOptimWrapperConstructor' sets "
            "the param groups from the model itself (per-layer learning rates); lrviz follows "
            "DefaultOptimWrapperConstructor only",
        ),
        (
            CONFIG_TAIL + "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1), "
            "accumulative_counts=4)\n",
            {},
            "FILE:4: optim_wrapper.accumulative_counts: with gradient accumulation the optimizer "
            "steps every Nth iteration while the schedulers step every iteration; lrviz does not "
            "show that yet (pass --set optim_wrapper.accumulative_counts=1 to see the schedule "
            "per iteration)",
        ),
        (
            CONFIG_TAIL,
            {"step": "batch"},
            "FILE: --step batch does not apply: mmengine steps every param_scheduler entry by "
            "its own by_epoch (after each epoch, or after each iteration); set by_epoch with "
            "--set param_scheduler.N.by_epoch=false instead",
        ),
        (
            CONFIG_TAIL + "param_scheduler = dict(type='StepLR', step_size=1, stepsize=2)\n",
            {},
            "FILE:4: param_scheduler.stepsize: unknown argument for mmengine.StepLR; did you "
            "mean 'step_size'? (arguments: step_size, gamma, begin, end, by_epoch)",
        ),
        (
            "lr_config = dict(policy='step', step=[8, 11])\n"
            "optimizer = dict(type='SGD', lr=0.02)\n",
            {},
            "FILE:1: lr_config: this is an mmcv 1.x config (lr_config), which lrviz cannot "
            "read; mmengine configs set param_scheduler",
        ),
        (
            "x = 1\n",
            {},
            "FILE: a .py SPEC is read as an mmengine config, and this file sets none of "
            "param_scheduler, optim_wrapper, train_cfg; pass --from FORMAT if it is another "
            "format",
        ),
    ],
)
def test_converter_refusals(tmp_path: Path, text: str, options: dict[str, Any], expected: str):
    path = tmp_path / "c.py"
    path.write_text(text)
    assert _problems(path, **options) == [expected.replace("FILE", str(path))]


def test_set_edits_the_users_config(tmp_path: Path):
    trace = _lrviz(
        RETINANET,
        iters=10,
        overrides=("train_cfg.max_epochs=3", "param_scheduler.0.end=5"),
    )
    assert trace.lr.shape == (30, 1)
    lr = trace.lr[:, 0].tolist()
    assert lr[3] < lr[4] == lr[5] == lr[9] == pytest.approx(0.01)  # warm-up: 5 iterations


def test_epochs_replaces_max_epochs_and_the_default_ends():
    trace = _lrviz(DATA / "mmpretrain" / "resnet50_8xb32_in1k.py", epochs=40)
    assert trace.lr.shape == (40, 1)
    assert "param_scheduler: no end, so the train loop's 40 epochs (as the Runner sets it)" in (
        trace.notes
    )


def test_mmengine_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "mmengine.optim.scheduler", None)
    problems = _problems(RETINANET, iters=10)
    assert problems[0].endswith(
        "mmengine.LinearLR is mmengine's own scheduler, and the mmengine package is not "
        "installed; install lrviz's optional extra: pip install 'lrviz[mmengine]'"
    )


def test_cli_reads_a_python_config():
    result = CliRunner().invoke(app, ["table", str(RETINANET), "--iters", "5", "-f", "csv"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 + 12 * 5
    result = CliRunner().invoke(app, ["table", str(RETINANET)])
    assert result.exit_code == 2
    assert "pass --iters N" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


_VALUES = st.one_of(
    st.integers(min_value=-3, max_value=40).map(str),
    st.sampled_from(["0.1", "1e-3", "0.5", "-1.0", "None", "True", "False", "'cos'", "[2, 4]"]),
    st.sampled_from(["1e400", "float('nan')", "len(x)", "(1, 2)", "dict()", "'SGD'"]),
)
_SCHED_KEYS = st.sampled_from(
    [
        "begin",
        "end",
        "by_epoch",
        "convert_to_iter_based",
        "start_factor",
        "end_factor",
        "T_max",
        "eta_min",
        "gamma",
        "milestones",
        "step_size",
        "power",
        "factor",
        "eta_max",
        "total_steps",
        "pct_start",
        "periods",
        "restart_weights",
        "eta_min_ratio",
        "epoch_length",
    ]
)
_TYPES = st.sampled_from([*mmengine.SCHEDULERS, "ReduceOnPlateauLR", "WarmupLR", "torch.StepLR"])
_SCHEDULER = st.tuples(_TYPES, st.lists(st.tuples(_SCHED_KEYS, _VALUES), max_size=5)).map(
    lambda t: f"dict(type={t[0]!r}, " + ", ".join(f"{k}={v}" for k, v in dict(t[1]).items()) + ")"
)
_TRAIN = st.one_of(
    st.tuples(st.booleans(), st.integers(0, 12)).map(
        lambda t: f"dict(by_epoch={t[0]}, {'max_epochs' if t[0] else 'max_iters'}={t[1]})"
    ),
    st.sampled_from(["dict(type='EpochBasedTrainLoop', max_epochs=3)", "None", "dict()"]),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(_SCHEDULER, min_size=1, max_size=3),
    _TRAIN,
    st.sampled_from(["SGD", "Adam", "AdamW", "LARS", "Adagrad"]),
    st.sampled_from([None, 1, 3]),
)
def test_any_param_scheduler_gives_rows_or_lrvizs_own_error(
    schedulers: list[str], train: str, optimizer: str, iters: int | None
):
    """Random mmengine entries end as rows, a run failure, or one of lrviz's errors."""
    import tempfile

    text = (
        f"optim_wrapper = dict(optimizer=dict(type={optimizer!r}, lr=0.1))\n"
        f"param_scheduler = [{', '.join(schedulers)}]\n"
        f"train_cfg = {train}\n"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.py"
        path.write_text(text)
        try:
            plan = load_plan(str(path), Options(iters=iters))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                trace = run(plan)  # mmengine's constructor may refuse its arguments here
        except LrvizError:
            return
        assert len(trace.lr) == plan.rows or trace.error is not None
