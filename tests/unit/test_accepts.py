"""Where torch's code takes more (or less) than its annotation, lrviz takes exactly that.

Every entry of lrviz/accepts.py is exercised here: each widened parameter is built through
lrviz and, independently, written out in plain torch in this file; the rows (lr and momentum,
several param groups) must be equal value for value. Refused values are refused by lrviz with
a clean message, and plain torch is shown to refuse them too (or to be incoherent with them).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from torch.optim import lr_scheduler as L
from typer.testing import CliRunner

import lrviz
from lrviz import accepts, catalog
from lrviz.cli import app
from lrviz.errors import SpecError

GROUP_LRS = [0.1, 0.05, 0.01]  # three param groups everywhere
EPOCHS = 14
METRICS = [1.0, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.7, 0.7]


@dataclass
class Case:
    """One widened parameter: the spec's scheduler node and the same scheduler in torch."""

    keys: tuple[str, ...]  # the accepts.py entries it exercises ("CyclicLR.base_momentum")
    node: dict[str, Any]
    plain: Callable[[Any], Any]  # optimizer -> the scheduler, written in plain torch
    optimizer: dict[str, Any] = field(default_factory=lambda: {"type": "SGD", "momentum": 0.9})
    step: str = "epoch"
    metrics: list[float] | None = None


def _linear_then_exp(opt: Any) -> list[Any]:
    return [L.LinearLR(opt, start_factor=0.5, total_iters=3), L.ExponentialLR(opt, gamma=0.9)]


CASES = [
    Case(
        ("CyclicLR.base_momentum", "CyclicLR.max_momentum"),
        {"type": "CyclicLR", "base_lr": 0.001, "max_lr": 0.01, "step_size_up": 3,
         "base_momentum": [0.8, 0.85, 0.7], "max_momentum": [0.9, 0.95, 0.99]},
        lambda o: L.CyclicLR(o, 0.001, 0.01, step_size_up=3, base_momentum=[0.8, 0.85, 0.7],
                             max_momentum=[0.9, 0.95, 0.99]),
        step="batch",
    ),
    Case(  # Adam: torch cycles betas[0] instead of momentum
        ("CyclicLR.base_momentum", "CyclicLR.max_momentum"),
        {"type": "CyclicLR", "base_lr": 0.001, "max_lr": 0.01, "step_size_up": 3,
         "base_momentum": [0.8, 0.85, 0.7], "max_momentum": 0.95},
        lambda o: L.CyclicLR(o, 0.001, 0.01, step_size_up=3, base_momentum=[0.8, 0.85, 0.7],
                             max_momentum=0.95),
        optimizer={"type": "Adam"},
        step="batch",
    ),
    Case(  # a tuple, as the Python API may pass one
        ("CyclicLR.base_momentum",),
        {"type": "CyclicLR", "base_lr": 0.001, "max_lr": 0.01, "step_size_up": 3,
         "base_momentum": (0.8, 0.85, 0.7)},
        lambda o: L.CyclicLR(o, 0.001, 0.01, step_size_up=3, base_momentum=(0.8, 0.85, 0.7)),
        step="batch",
    ),
    Case(
        ("CyclicLR.base_lr", "CyclicLR.max_lr"),
        {"type": "CyclicLR", "base_lr": [0.001, 0.002, 0.0001], "max_lr": [0.01, 0.02, 0.001],
         "step_size_up": 4},
        lambda o: L.CyclicLR(o, [0.001, 0.002, 0.0001], [0.01, 0.02, 0.001], step_size_up=4),
        step="batch",
    ),
    Case(
        ("CyclicLR.step_size_up", "CyclicLR.step_size_down"),
        {"type": "CyclicLR", "base_lr": 0.001, "max_lr": 0.01, "step_size_up": 2.5,
         "step_size_down": 1.5},
        lambda o: L.CyclicLR(o, 0.001, 0.01, step_size_up=2.5, step_size_down=1.5),
        step="batch",
    ),
    Case(
        ("OneCycleLR.max_lr", "OneCycleLR.base_momentum", "OneCycleLR.max_momentum"),
        {"type": "OneCycleLR", "max_lr": [0.1, 0.2, 0.05], "total_steps": EPOCHS,
         "base_momentum": [0.8, 0.85, 0.7], "max_momentum": [0.9, 0.95, 0.99],
         "pct_start": 0.25},
        lambda o: L.OneCycleLR(o, [0.1, 0.2, 0.05], total_steps=EPOCHS, pct_start=0.25,
                               base_momentum=[0.8, 0.85, 0.7], max_momentum=[0.9, 0.95, 0.99]),
        step="batch",
    ),
    Case(
        ("ReduceLROnPlateau.min_lr", "ReduceLROnPlateau.patience", "ReduceLROnPlateau.cooldown"),
        {"type": "ReduceLROnPlateau", "min_lr": [0.05, 0.01, 0.0], "patience": 2.0,
         "cooldown": 1.0, "factor": 0.5},
        lambda o: L.ReduceLROnPlateau(o, min_lr=[0.05, 0.01, 0.0], patience=2.0, cooldown=1.0,
                                      factor=0.5),
        metrics=METRICS,
    ),
    Case(
        ("LambdaLR.lr_lambda",),
        {"type": "LambdaLR", "lr_lambda": ["0.9 ** epoch", "1 / (epoch + 1)", "1.0"]},
        lambda o: L.LambdaLR(o, [lambda e: 0.9**e, lambda e: 1 / (e + 1), lambda e: 1.0]),
    ),
    Case(
        ("MultiplicativeLR.lr_lambda",),
        {"type": "MultiplicativeLR", "lr_lambda": ("0.95", "0.9", "1.0")},
        lambda o: L.MultiplicativeLR(o, (lambda e: 0.95, lambda e: 0.9, lambda e: 1.0)),
    ),
    Case(
        ("StepLR.step_size",),
        {"type": "StepLR", "step_size": 3.0, "gamma": 0.5},
        lambda o: L.StepLR(o, step_size=3.0, gamma=0.5),
    ),
    Case(
        ("MultiStepLR.milestones",),
        {"type": "MultiStepLR", "milestones": [2.0, 5, 9.0]},
        lambda o: L.MultiStepLR(o, milestones=[2.0, 5, 9.0]),
    ),
    Case(
        ("ConstantLR.total_iters",),
        {"type": "ConstantLR", "factor": 0.5, "total_iters": 4.0},
        lambda o: L.ConstantLR(o, factor=0.5, total_iters=4.0),
    ),
    Case(
        ("LinearLR.total_iters",),
        {"type": "LinearLR", "start_factor": 0.2, "total_iters": 6.0},
        lambda o: L.LinearLR(o, start_factor=0.2, total_iters=6.0),
    ),
    Case(
        ("PolynomialLR.total_iters",),
        {"type": "PolynomialLR", "total_iters": 8.0, "power": 2.0},
        lambda o: L.PolynomialLR(o, total_iters=8.0, power=2.0),
    ),
    Case(
        ("CosineAnnealingLR.T_max",),
        {"type": "CosineAnnealingLR", "T_max": 7.5, "eta_min": 0.001},
        lambda o: L.CosineAnnealingLR(o, T_max=7.5, eta_min=0.001),
    ),
    Case(
        ("SequentialLR.milestones",),
        {"type": "SequentialLR", "milestones": [3.0],
         "schedulers": [{"type": "LinearLR", "start_factor": 0.5, "total_iters": 3},
                        {"type": "ExponentialLR", "gamma": 0.9}]},
        lambda o: L.SequentialLR(o, _linear_then_exp(o), milestones=[3.0]),
    ),
]  # fmt: skip


def _data(case: Case) -> dict[str, Any]:
    return {
        "optimizer": {"lr": 0.1, **case.optimizer},
        "param_groups": [{"lr": lr} for lr in GROUP_LRS],
        "scheduler": case.node,
        "run": {"step": case.step, **({"metrics": case.metrics} if case.metrics else {})},
    }


def _plain_rows(case: Case) -> tuple[list[list[float]], list[list[float]]]:
    """the loop of docs/spec.md's loop in plain torch: lr and momentum per row, then step."""
    opt_kwargs = {k: v for k, v in case.optimizer.items() if k != "type"}
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in GROUP_LRS]
    optimizer = getattr(torch.optim, case.optimizer["type"])(groups, lr=0.1, **opt_kwargs)
    lrs, moms = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheduler = case.plain(optimizer)
        for k in range(EPOCHS):
            pgs = optimizer.param_groups
            lrs.append([g["lr"] for g in pgs])
            moms.append([g["momentum"] if "momentum" in g else g["betas"][0] for g in pgs])
            optimizer.step()
            if case.metrics:
                scheduler.step(case.metrics[k])
            else:
                scheduler.step()
    return lrs, moms


@pytest.mark.parametrize("case", CASES, ids=lambda c: "+".join(c.keys))
def test_widened_values_give_plain_torchs_rows(case: Case):
    trace = lrviz.run(_data(case), epochs=EPOCHS)
    lrs, moms = _plain_rows(case)
    assert trace.error is None
    assert trace.lr.tolist() == lrs
    assert trace.momentum.tolist() == moms
    # the case really is wider than torch's annotation wherever the entry widens it
    info = catalog.schedulers()[case.node["type"]]
    for key in case.keys:
        param = info.param(key.split(".")[1])
        assert param is not None and param.accepts == accepts.SCHEDULERS[key]
        assert catalog.conforms(case.node[param.name], param.accepts)


def test_every_entry_names_a_real_parameter_and_is_exercised():
    tables = [
        (accepts.SCHEDULERS, catalog.schedulers()),
        (accepts.OPTIMIZERS, catalog.optimizers()),
    ]
    for table, classes in tables:
        for key in table:
            cls, name = key.split(".")
            assert classes[cls].param(name) is not None, key
    exercised = {k for c in CASES for k in c.keys} | {k for k, *_ in REFUSED}
    assert set(accepts.SCHEDULERS) | set(accepts.OPTIMIZERS) <= exercised


def test_a_yaml_spec_with_per_group_momentum_and_1e1(tmp_path):
    # The example in YAML: a list where torch annotates float; 1e1 is a float in
    # YAML 1.2, where torch annotates int.
    spec = tmp_path / "cyc.yaml"
    spec.write_text(
        "optimizer: {type: SGD, lr: 0.1, momentum: 0.9}\n"
        "param_groups: [{lr: 0.1}, {lr: 0.01}]\n"
        "scheduler:\n  type: CyclicLR\n  base_lr: 0.001\n  max_lr: 0.01\n"
        "  step_size_up: 1e1\n  base_momentum: [0.8, 0.85]\n  max_momentum: [0.9, 0.95]\n"
    )
    trace = lrviz.run(spec, epochs=25)
    optimizer = torch.optim.SGD(
        [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in (0.1, 0.01)],
        lr=0.1,
        momentum=0.9,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheduler = L.CyclicLR(optimizer, 0.001, 0.01, 10.0, None, base_momentum=[0.8, 0.85],
                               max_momentum=[0.9, 0.95])  # fmt: skip
        rows = []
        for _ in range(25):
            rows.append([(g["lr"], g["momentum"]) for g in optimizer.param_groups])
            optimizer.step()
            scheduler.step()
    assert [list(zip(lr, m, strict=True)) for lr, m in zip(trace.lr.tolist(),
            trace.momentum.tolist(), strict=True)] == rows  # fmt: skip


def _torch_builds(build: Callable[[], Any]) -> str | None:
    """None when plain torch builds (and steps) it, else its exception type."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            build()
        except Exception as exc:
            return type(exc).__name__
    return None


def _sgd(n: int = 3) -> Any:
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": 0.1} for _ in range(n)]
    return torch.optim.SGD(groups, lr=0.1, momentum=0.9)


def _adam(**kwargs: Any) -> Any:
    return torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=0.1, **kwargs)


# (entry or parameter, spec overrides, lrviz's message, plain torch doing the same)
REFUSED: list[tuple[str, dict[str, Any], str, Callable[[], Any]]] = [
    (
        "CyclicLR.base_momentum",
        {"scheduler": {"type": "CyclicLR", "base_lr": 0.001, "max_lr": 0.01,
                       "base_momentum": [0.8, 0.85]}},
        "scheduler.base_momentum: got 2 values for 3 param groups; give one per group, "
        "or a single value for all of them",
        lambda: L.CyclicLR(_sgd(), 0.001, 0.01, base_momentum=[0.8, 0.85]),
    ),
    (
        "CyclicLR.max_momentum",
        {"scheduler": {"type": "CyclicLR", "base_lr": 0.001, "max_lr": 0.01,
                       "max_momentum": "high"}},
        "scheduler.max_momentum: expected a number or a list of numbers (one per param "
        "group), got 'high'",
        lambda: L.CyclicLR(_sgd(), 0.001, 0.01, max_momentum="high"),
    ),
    (
        "LambdaLR.lr_lambda",
        {"scheduler": {"type": "LambdaLR", "lr_lambda": ["0.9 ** epoch", "1.0"]}},
        "scheduler.lr_lambda: got 2 values for 3 param groups; give one per group, "
        "or a single value for all of them",
        lambda: L.LambdaLR(_sgd(), [lambda e: 0.9**e, lambda e: 1.0]),
    ),
    (
        "ReduceLROnPlateau.min_lr",
        {"scheduler": {"type": "ReduceLROnPlateau", "min_lr": [0.1, 0.2, 0.3, 0.4]},
         "run": {"metrics": [1.0] * 5}},
        "scheduler.min_lr: got 4 values for 3 param groups; give one per group, "
        "or a single value for all of them",
        lambda: L.ReduceLROnPlateau(_sgd(), min_lr=[0.1, 0.2, 0.3, 0.4]),
    ),
    (
        "CosineAnnealingWarmRestarts.T_0",  # torch checks isinstance(T_0, int): no widening
        {"scheduler": {"type": "CosineAnnealingWarmRestarts", "T_0": 10.0}},
        "scheduler.T_0: expected an integer, got 10.0 (write 10)",
        lambda: L.CosineAnnealingWarmRestarts(_sgd(), T_0=10.0),
    ),
    (
        "OneCycleLR.pct_start",
        {"scheduler": {"type": "OneCycleLR", "max_lr": 0.1, "pct_start": 1}},
        "scheduler.pct_start: expected a float (written with a decimal point), got 1 "
        "(write 1.0)",
        lambda: L.OneCycleLR(_sgd(), 0.1, total_steps=10, pct_start=1),
    ),
    (
        "Adam.betas",
        {"optimizer": {"type": "Adam", "betas": [0, 0.999]}},
        "optimizer.betas: expected a list of 2 floats (written with a decimal point), "
        "got [0, 0.999]",
        lambda: _adam(betas=[0, 0.999]),
    ),
    (
        "AdamW.betas",
        {"optimizer": {"type": "AdamW", "betas": [0.9]}},
        "optimizer.betas: expected a list of 2 floats (written with a decimal point), "
        "got [0.9]",
        lambda: torch.optim.AdamW([torch.zeros(1, requires_grad=True)], betas=[0.9]),
    ),
    (
        "SGD.lr",  # torch annotates `float | Tensor`; YAML makes no tensor
        {"optimizer": {"type": "SGD", "lr": "fast"}},
        "optimizer.lr: expected a number, got 'fast'",
        lambda: torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr="fast"),
    ),
]  # fmt: skip


@pytest.mark.parametrize(("key", "data", "message", "plain"), REFUSED, ids=[r[0] for r in REFUSED])
def test_what_torch_refuses_lrviz_refuses_before_the_run(key, data, message, plain):
    spec = {
        "optimizer": {"type": "SGD", "lr": 0.1, "momentum": 0.9},
        "param_groups": [{"lr": lr} for lr in GROUP_LRS],
        "scheduler": {"type": "StepLR", "step_size": 2},
        "run": {"step": "batch"},
    } | data
    with pytest.raises(SpecError) as err:
        lrviz.make_plan(spec, epochs=5)
    assert str(err.value) == f"<dict>: {message}"
    assert _torch_builds(plain) is not None


def test_non_whole_values_torch_takes_are_refused_because_its_two_formulas_disagree():
    # torch builds StepLR(step_size=2.5), but get_lr() decays at 5, 10 (last_epoch % 2.5 == 0)
    # while the closed form decays at 3, 5, 8, 10: no schedule to show. lrviz refuses it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimizer = _sgd(1)
        scheduler = L.StepLR(optimizer, step_size=2.5)
        stepped, closed = [], []
        for _ in range(9):
            stepped.append(optimizer.param_groups[0]["lr"])
            closed.append(scheduler._get_closed_form_lr()[0])
            optimizer.step()
            scheduler.step()
    assert not all(math.isclose(a, b) for a, b in zip(stepped, closed, strict=True))
    with pytest.raises(SpecError) as err:
        lrviz.make_plan({"scheduler": {"type": "StepLR", "step_size": 2.5}}, epochs=5)
    assert str(err.value) == "<dict>: scheduler.step_size: expected an integer, got 2.5"


def test_booleans_stay_refused_although_torch_reads_true_as_1():
    assert _torch_builds(lambda: L.StepLR(_sgd(1), step_size=True)) is None
    with pytest.raises(SpecError, match=r"step_size: expected an integer, got True"):
        lrviz.make_plan({"scheduler": {"type": "StepLR", "step_size": True}}, epochs=5)


def test_adam_param_group_betas_are_not_checked_by_torch_so_ints_pass():
    # Adam checks its constructor's betas only; a param group's betas reach step() as given.
    trace = lrviz.run(
        {
            "optimizer": {"type": "Adam", "lr": 0.1},
            "param_groups": [{"betas": [0, 0.99]}],
            "scheduler": {"type": "StepLR", "step_size": 2},
        },
        epochs=3,
    )
    assert trace.error is None and trace.momentum.tolist() == [[0], [0], [0]]


def test_show_gives_the_type_torch_accepts():
    result = CliRunner().invoke(app, ["show", "CyclicLR"], env={"COLUMNS": "400"})
    assert result.exit_code == 0
    text = " ".join(result.stdout.replace("│", " ").split())
    assert "base_momentum a number or a list of numbers (one per param group) 0.8" in text
    assert "step_size_up a number 2000" in text
    assert (
        "Types follow what torch's code accepts where it differs from the annotation "
        "(annotated): base_lr (float | list[float]), max_lr (float | list[float]), "
        "step_size_up (int), step_size_down (int | None), base_momentum (float), "
        "max_momentum (float)."
    ) in text


@pytest.mark.parametrize(
    ("annotation", "words"),
    [
        ("float | PerGroup[float]", "a number or a list of numbers (one per param group)"),
        ("Whole", "an integer"),
        ("Iterable[Whole]", "a list of integers"),
        ("tuple[float | torch.Tensor, float | torch.Tensor]", "a list of 2 numbers"),
        ("tuple[float | None, float]", "a list of 2 values (a number or nothing (null); a number)"),
        ("float | torch.Tensor", "a number"),
    ],
)
def test_annotations_in_words(annotation: str, words: str):
    assert catalog.expected(annotation) == words


@pytest.mark.parametrize(
    ("value", "annotation", "fits"),
    [
        (1000.0, "Whole", True),
        (2.5, "Whole", False),
        (True, "Whole", False),
        ([0.8, 0.9], "float | PerGroup[float]", True),
        ((0.8, 0.9), "float | PerGroup[float]", True),
        ([0.8, "x"], "float | PerGroup[float]", False),
        (1, "Float", False),
        (1.0, "Float", True),
        ([0.9, 0.99, 0.5], "tuple[float, float]", False),
        ([0.9, 0.99], "tuple[float, float]", True),
        ([1, 2], "tuple[int, ...]", True),
        ("abc", "float | torch.Tensor", False),
        (torch.tensor(0.1), "float | torch.Tensor", True),
    ],
)
def test_conforms(value: Any, annotation: str, fits: bool):
    assert catalog.conforms(value, annotation) is fits
