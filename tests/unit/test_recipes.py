"""Recipes expand into torch schedulers: rows equal hand-built torch schedulers, bit for bit."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim import lr_scheduler as L
from typer.testing import CliRunner

from lrviz.cli import app
from lrviz.errors import SpecError, UsageError
from lrviz.load import Options, load_plan, load_spec
from lrviz.recipes import RECIPES, find
from lrviz.simulation import run
from tests.reference import textbook_rows


def _spec(tmp_path: Path, text: str) -> str:
    f = tmp_path / "spec.yaml"
    f.write_text(text)
    return str(f)


def _problems(path: str, options: Options | None = None) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_plan(path, options or Options())
    return [str(p) for p in info.value.problems]


def _sgd(lr: float) -> Callable:
    return lambda params: torch.optim.SGD(params, lr=lr)


def test_warmup_cosine_equals_sequential_linear_then_cosine_lambda(tmp_path):
    path = _spec(
        tmp_path,
        "optimizer: {type: SGD, lr: 0.1}\n"
        "scheduler: {type: warmup_cosine, warmup: 0.1, min_lr_ratio: 0.1}\n"
        "run: {epochs: 4, iters_per_epoch: 25, step: batch}\n",
    )
    trace = run(load_plan(path))

    def cosine(e: int) -> float:
        return 0.1 + 0.9 * (0.5 * (1 + math.cos(math.pi * min(e, 90) / 90)))

    expected = textbook_rows(
        _sgd(0.1),
        lambda o: L.SequentialLR(o, [L.LinearLR(o, 0.01, 1.0, 10), L.LambdaLR(o, cosine)], [10]),
        100,
    )
    assert np.array_equal(trace.lr[:, 0], np.array(expected))
    # warmup 0.1 of the run's 100 batches = 10; peak at row 10; 0.1 × lr at row 100.
    assert trace.lr[0, 0] == pytest.approx(0.001) and trace.lr[10, 0] == pytest.approx(0.1)
    assert trace.lr[99, 0] == pytest.approx(0.01 + 0.09 * 0.5 * (1 + math.cos(math.pi * 89 / 90)))
    assert load_spec(path).notes == [
        "scheduler: warmup_cosine expands to SequentialLR[LinearLR(start_factor=0.01, "
        "end_factor=1.0, total_iters=10), LambdaLR(lr_lambda='0.1 + 0.9 * 0.5 * (1 + cos(pi * "
        "min(epoch, 90) / 90))')] milestones [10] (total 100: the run's scheduler steps)"
    ]


def test_warmup_linear_preset_equals_two_linear_lrs():
    trace = run(load_plan("warmup_linear"))
    expected = textbook_rows(
        lambda p: torch.optim.AdamW(p, lr=3e-4, weight_decay=0.01),
        lambda o: L.SequentialLR(
            o, [L.LinearLR(o, 0.01, 1.0, 50), L.LinearLR(o, 1.0, 0.0, 450)], [50]
        ),
        500,
    )
    assert np.array_equal(trace.lr[:, 0], np.array(expected))
    assert trace.lr[50, 0] == pytest.approx(3e-4) and trace.lr[-1, 0] == pytest.approx(3e-4 / 450)


def test_warmup_constant_preset_is_one_linear_lr():
    trace = run(load_plan("warmup_constant"))
    expected = textbook_rows(_sgd(0.1), lambda o: L.LinearLR(o, 0.01, 1.0, 5), 30)
    assert np.array_equal(trace.lr[:, 0], np.array(expected))
    assert trace.lr[0, 0] == pytest.approx(0.001)
    # LinearLR is recursive: its plateau is 0.09999999999999999, not 0.1 (torch's own value).
    assert trace.lr[5:, 0].tolist() == [0.09999999999999999] * 25


def test_warmup_stable_decay_preset_has_three_phases():
    trace = run(load_plan("warmup_stable_decay"))

    def decay(e: int) -> float:
        return 0.1 + 0.9 * (0.5 * (1 + math.cos(math.pi * min(e, 400) / 400)))

    expected = textbook_rows(
        lambda p: torch.optim.AdamW(p, lr=1e-3, betas=(0.9, 0.95)),
        lambda o: L.SequentialLR(
            o,
            [L.LinearLR(o, 0.01, 1.0, 100), L.ConstantLR(o, 1.0, 1500), L.LambdaLR(o, decay)],
            [100, 1600],
        ),
        2000,
    )
    assert np.array_equal(trace.lr[:, 0], np.array(expected))
    assert set(trace.lr[100:1601, 0].tolist()) == {1e-3}  # stable at the peak


def test_inverse_sqrt_preset_halves_three_timescales_after_warmup():
    trace = run(load_plan("inverse_sqrt"))
    expected = textbook_rows(
        lambda p: torch.optim.Adam(p, lr=5e-4, betas=(0.9, 0.98)),
        lambda o: L.SequentialLR(
            o,
            [L.LinearLR(o, 0.01, 1.0, 400), L.LambdaLR(o, lambda e: (400 / (e + 400)) ** 0.5)],
            [400],
        ),
        4000,
    )
    assert np.array_equal(trace.lr[:, 0], np.array(expected))
    assert trace.lr[400 + 1200, 0] == pytest.approx(2.5e-4)


def test_textbook_schedules_follow_their_formulas(tmp_path):
    cases = {
        "{type: sqrt_decay}": lambda e: (e + 1) ** -0.5,
        "{type: factor_decay, factor: 0.9, min_lr_ratio: 0.2}": lambda e: max(0.2, 0.9**e),
        # d2l's CosineScheduler: warm-up from 0 over 5, cosine to 0.1 × lr at 20, then held.
        "{type: cosine_warmup, warmup: 5, total: 20, min_lr_ratio: 0.1}": lambda e: (
            e / 5
            if e < 5
            else (0.1 + 0.9 * (0.5 * (1 + math.cos(math.pi * min(e - 5, 15) / 15))))
            if e <= 20
            else 0.1
        ),
    }
    for node, factor in cases.items():
        path = _spec(
            tmp_path, f"optimizer: {{type: SGD, lr: 0.5}}\nscheduler: {node}\nrun: {{epochs: 30}}\n"
        )
        trace = run(load_plan(path))
        expected = textbook_rows(_sgd(0.5), lambda o, f=factor: L.LambdaLR(o, f), 30)
        assert np.array_equal(trace.lr[:, 0], np.array(expected)), node
    assert trace.lr[20, 0] == pytest.approx(0.05) and trace.lr[29, 0] == pytest.approx(0.05)


def test_a_recipe_inside_a_composite_and_per_group_ratios(tmp_path):
    path = _spec(
        tmp_path,
        "optimizer: {type: SGD, lr: 0.1}\n"
        "param_groups: [{name: body, lr: 0.01}, {name: head, lr: 0.1}]\n"
        "scheduler:\n"
        "  type: ChainedScheduler\n"
        "  schedulers:\n"
        "    - {type: warmup_constant, warmup: 3, start_factor: 0.5}\n"
        "    - {type: ExponentialLR, gamma: 0.9}\n"
        "run: {epochs: 8}\n",
    )
    trace = run(load_plan(path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params = [
            {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.01},
            {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.1},
        ]
        opt = torch.optim.SGD(params, lr=0.1)
        sched = L.ChainedScheduler([L.LinearLR(opt, 0.5, 1.0, 3), L.ExponentialLR(opt, 0.9)])
        expected = []
        for _ in range(8):
            expected.append([g["lr"] for g in opt.param_groups])
            opt.step()
            sched.step()
    assert np.array_equal(trace.lr, np.array(expected))


def test_problems_name_the_recipe_keys_and_lines(tmp_path):
    path = _spec(
        tmp_path,
        "scheduler:\n  type: warmup_cosine\n  warmup: 120\n  min_lr: 0.1\nrun: {epochs: 100}\n",
    )
    assert _problems(path) == [
        f"{path}:4: scheduler.min_lr: unknown parameter for warmup_cosine; did you mean "
        "'min_lr_ratio'? (parameters: warmup, total, min_lr_ratio, start_factor)"
    ]
    fixed = Options(("scheduler.min_lr_ratio=2",))
    assert _problems(path, fixed) == [  # sorted by source: the --set first
        "--set scheduler.min_lr_ratio=2: scheduler.min_lr_ratio: expected a number from 0 to 1, "
        "got 2",
        f"{path}:4: scheduler.min_lr: unknown parameter for warmup_cosine; did you mean "
        "'min_lr_ratio'? (parameters: warmup, total, min_lr_ratio, start_factor)",
    ]
    path = _spec(tmp_path, "scheduler: {type: warmup_cosine, warmup: 120}\nrun: {epochs: 100}\n")
    assert _problems(path) == [
        f"{path}:1: scheduler.warmup: warmup 120 leaves no room in total 100 for the "
        "warmup_cosine decay"
    ]
    path = _spec(tmp_path, "scheduler:\n  type: warmup_linear\nrun: {epochs: 10}\n")
    assert _problems(path) == [
        f"{path}:1: scheduler: warmup_linear needs 'warmup': warm-up length: scheduler steps, "
        "or a fraction of total below 1 (0.1 = 10%, rounded up)"
    ]
    path = _spec(tmp_path, "scheduler: {type: warmup_constant, warmup: 0.5}\nrun: {epochs: 10}\n")
    assert _problems(path) == [
        f"{path}:1: scheduler.warmup: a fraction (0.5) needs a total length; give warmup in steps"
    ]


def test_bare_recipe_name_with_set():
    options = Options(("scheduler.warmup=2",), epochs=6)
    trace = run(load_plan("warmup_linear", options))  # the preset, with the warm-up replaced
    assert trace.rows == 300 and trace.lr[2, 0] == pytest.approx(3e-4)
    trace = run(load_plan("COSINE_WARMUP", options))  # no preset: the type name alone
    # total = the run's 6 epochs: 0, 0.5, then cosine over 4 steps, SGD's lrviz default lr 0.1.
    expected = [0.0, 0.05, 0.1, 0.1 * 0.5 * (1 + math.cos(math.pi / 4))]
    expected += [
        0.1 * 0.5 * (1 + math.cos(math.pi * 2 / 4)),
        0.1 * 0.5 * (1 + math.cos(math.pi * 3 / 4)),
    ]
    assert trace.lr[:, 0].tolist() == pytest.approx(expected, rel=1e-15, abs=1e-18)


def test_find_is_case_insensitive_and_every_recipe_is_documented():
    assert find("Warmup-Cosine") is RECIPES["warmup_cosine"]
    assert find("StepLR") is None
    for recipe in RECIPES.values():
        assert recipe.summary.endswith(".") and recipe.expands_to
        assert all(p.doc for p in recipe.params)


def test_show_and_list_describe_recipes():
    result = CliRunner().invoke(app, ["show", "warmup_stable_decay"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("warmup_stable_decay (recipe): Warm-up, a long stable")
    assert "decay_shape" in result.stdout and "Expands to: SequentialLR[" in result.stdout
    listing = CliRunner().invoke(app, ["list"])
    assert listing.exit_code == 0
    assert "Recipes (type: NAME" in listing.stdout
    assert all(name in listing.stdout for name in RECIPES)
    unknown = CliRunner().invoke(app, ["show", "warmup_cosin"])
    assert unknown.exit_code == 2
    assert (
        unknown.stderr == "error: unknown scheduler 'warmup_cosin'; did you mean 'warmup_cosine'?\n"
    )


RECIPE_KEYS = ["scheduler.warmup", "scheduler.total", "scheduler.decay", "scheduler.min_lr_ratio",
               "scheduler.start_factor", "scheduler.decay_shape", "scheduler.timescale",
               "scheduler.type", "scheduler.schedulers", "run.epochs", "run.step", "run.steps",
               "run.iters_per_epoch"]  # fmt: skip
RECIPE_VALUES = ["0", "1", "3", "0.5", "1.5", "-1", "null", "'ten'", "[]", "{}", "cosine",
                 "warmup_cosine", "sqrt_decay", "[{type: warmup_constant, warmup: 2}]", "batch",
                 "epoch", "99999999999", ".nan"]  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(["warmup_linear", "warmup_constant", "warmup_stable_decay", "inverse_sqrt"]),
    st.lists(st.tuples(st.sampled_from(RECIPE_KEYS), st.sampled_from(RECIPE_VALUES)), max_size=3),
)
def test_random_overrides_of_recipes_give_rows_or_located_errors(preset, sets):
    options = Options(tuple(f"{k}={v}" for k, v in sets), max_rows=100_000)
    try:
        trace = run(load_plan(preset, options))
    except (SpecError, UsageError) as exc:
        assert str(exc)
    else:
        assert trace.rows >= 1


def test_native_run_steps_ends_the_run_inside_an_epoch(tmp_path):
    path = _spec(
        tmp_path,
        "scheduler: {type: ExponentialLR, gamma: 0.5}\n"
        "run: {iters_per_epoch: 4, steps: 10, step: batch}\n",
    )
    trace = run(load_plan(path))  # epochs = ceil(10 / 4) = 3, cut after 10 rows
    assert (trace.epochs, trace.rows) == (3, 10)
    expected = textbook_rows(_sgd(0.1), lambda o: L.ExponentialLR(o, 0.5), 10)
    assert np.array_equal(trace.lr[:, 0], np.array(expected))
    assert _problems(path, Options(epochs=2)) == [
        f"{path}:2: run.steps: 10 steps, but the run has only 8 rows "
        "(2 epochs × 4 iters); raise run.epochs"
    ]
