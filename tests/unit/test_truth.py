"""lrviz's rows equal, to the bit, a plain torch loop that calls optimizer.step() on every row."""

from __future__ import annotations

import numpy as np
import pytest

from lrviz import catalog, recipes
from lrviz.document import load_yaml
from lrviz.load import Options, load_plan
from lrviz.presets import preset_names, preset_path
from lrviz.simulation import run
from tests.reference import reference_rows

# Presets of lrviz's recipe types expand into torch schedulers; tests/unit/test_recipes.py
# checks them against plain torch loops of their expansion.
PRESETS = [
    n
    for n in preset_names()
    if recipes.find(load_yaml(preset_path(n).read_text())["scheduler"]["type"]) is None
]


def _data(name: str) -> dict:
    return load_yaml(preset_path(name).read_text())


def _modes(name: str) -> list[tuple[str, int, int, str]]:
    """(mode, epochs, iters, order) combinations a preset supports, kept short."""
    data = _data(name)
    run_ = data.get("run") or {}
    plan = load_plan(name)
    native = (plan.step_mode, plan.epochs, plan.iters_per_epoch, plan.order)
    info = catalog.find("scheduler", data["scheduler"]["type"], catalog.schedulers())
    if "metrics" in run_ or plan.filled or "total_steps" in data["scheduler"]:
        return [native]  # the run length is fixed by the metrics / total_steps
    combos = [
        native,
        ("epoch", 12, 1, "optimizer_first"),
        ("batch", 6, 3, "optimizer_first"),
        ("batch", 5, 2, "scheduler_first"),
    ]
    if not info.composite and info.takes_epoch:
        combos.append(("fractional", 5, 4, "optimizer_first"))
        combos.append(("fractional", 4, 3, "scheduler_first"))
    return combos


CASES = [(name, *mode) for name in PRESETS for mode in _modes(name)]


@pytest.mark.parametrize(("name", "mode", "epochs", "iters", "order"), CASES)
def test_rows_equal_plain_torch_loop(name: str, mode: str, epochs: int, iters: int, order: str):
    options = Options((f"run.order={order}",), epochs, iters, mode)
    trace = run(load_plan(name, options))
    lrs, moms, failed = reference_rows(_data(name), epochs, iters, mode, order)
    assert trace.error is None and failed is None
    assert trace.rows == len(lrs)
    assert np.array_equal(trace.lr, np.array(lrs, dtype=np.float64))  # bit for bit
    for g, kind in enumerate(trace.momentum_kind):
        column = [m[g] for m in moms]
        if kind is None:
            assert column == [None] * len(column)
        else:
            assert np.array_equal(trace.momentum[:, g], np.array(column, dtype=np.float64))


def test_every_scheduler_class_has_a_preset():
    covered = {
        catalog.find("scheduler", _data(n)["scheduler"]["type"], catalog.schedulers()).name
        for n in PRESETS
    }
    assert set(catalog.schedulers()) <= covered


def test_every_torch_scheduler_class_is_found_by_introspection():
    import inspect

    import torch.optim.lr_scheduler as L

    public = {
        n
        for n, c in vars(L).items()
        if inspect.isclass(c)
        and issubclass(c, L.LRScheduler)
        and not n.startswith("_")
        and n != "LRScheduler"
    }
    assert public == set(catalog.schedulers())
    assert {
        "LambdaLR",
        "MultiplicativeLR",
        "StepLR",
        "MultiStepLR",
        "ConstantLR",
        "LinearLR",
        "ExponentialLR",
        "PolynomialLR",
        "CosineAnnealingLR",
        "CosineAnnealingWarmRestarts",
        "CyclicLR",
        "OneCycleLR",
        "ReduceLROnPlateau",
        "SequentialLR",
        "ChainedScheduler",
    } <= public
