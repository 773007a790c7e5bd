"""The torch 2.13 behaviours `lrviz check` rules warn about, verified with plain torch loops."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from torch.optim import SGD
from torch.optim import lr_scheduler as L


def _opt(lr: float = 1.0, **kw) -> SGD:
    return SGD([torch.zeros(1, requires_grad=True)], lr=lr, **kw)


def _lrs(opt: SGD, sched, steps: int, metrics=None) -> list[float]:
    """lr of each row in the loop `record; optimizer.step(); scheduler.step()`."""
    out = []
    for k in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step() if metrics is None else sched.step(metrics[k])
    return out


def test_cosine_annealing_climbs_back_after_t_max():  # LRV003
    opt = _opt(0.1)
    lrs = _lrs(opt, L.CosineAnnealingLR(opt, T_max=30, eta_min=1e-4), 100)
    assert min(lrs) == lrs[30] == pytest.approx(1e-4)
    assert lrs[31] > lrs[30] and lrs[99] > 100 * lrs[30]


def test_cawr_step_epoch_skips_the_restart_at_121_with_t_mult_3():  # LRV016
    assert math.log(243, 3) < 5  # the rounding behind it
    plain = _opt()
    lrs = _lrs(plain, L.CosineAnnealingWarmRestarts(plain, T_0=1, T_mult=3), 122)
    assert lrs[121] == 1.0  # the plain step() path restarts
    opt = _opt()
    sched = L.CosineAnnealingWarmRestarts(opt, T_0=1, T_mult=3)
    sched.step(121.0)
    assert opt.param_groups[0]["lr"] == 0.0  # step(epoch) sits at the end of the last cycle
    sched.step(40.0)
    assert opt.param_groups[0]["lr"] == 1.0  # other boundaries restart fine
    two = _opt()
    sched2 = L.CosineAnnealingWarmRestarts(two, T_0=1, T_mult=2)
    for e in (1, 3, 7, 15, 31, 63, 127):
        sched2.step(float(e))
        assert two.param_groups[0]["lr"] == 1.0


def test_unsorted_sequential_milestones_skip_a_phase():  # LRV009
    opt = _opt(0.1)
    kids = [
        L.LinearLR(opt, start_factor=0.1, total_iters=5),
        L.ConstantLR(opt, factor=0.5, total_iters=100),
        L.ExponentialLR(opt, gamma=0.9),
    ]
    lrs = _lrs(opt, L.SequentialLR(opt, kids, milestones=[20, 5]), 30)
    # ConstantLR would halve the lr; it never runs: ExponentialLR takes over at step 5
    assert not any(math.isclose(v, 0.05) for v in lrs)
    assert lrs[6] == pytest.approx(0.1 * 0.9)


def test_multistep_duplicate_milestone_applies_gamma_twice():  # LRV009
    opt = _opt(0.1)
    lrs = _lrs(opt, L.MultiStepLR(opt, milestones=[30, 30], gamma=0.1), 31)
    assert lrs[29] == 0.1 and lrs[30] == pytest.approx(0.001)


def test_multistep_milestone_zero_applies_gamma_at_construction():  # LRV009
    opt = _opt(0.1)
    L.MultiStepLR(opt, milestones=[0, 30], gamma=0.1)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01)


def test_sequential_warmup_shorter_than_milestone_plateaus():  # LRV010
    opt = _opt(0.1)
    kids = [L.LinearLR(opt, start_factor=0.1, total_iters=3), L.CosineAnnealingLR(opt, T_max=45)]
    lrs = _lrs(opt, L.SequentialLR(opt, kids, milestones=[5]), 8)
    assert lrs[3] == lrs[4] == pytest.approx(0.1) and lrs[2] < lrs[3]


@pytest.mark.parametrize(
    ("make", "expr"),
    [
        (lambda o: L.LambdaLR(o, lambda e: 0.95**e), "LambdaLR"),
        (lambda o: L.CosineAnnealingWarmRestarts(o, T_0=4), "CAWR"),
    ],
)
def test_chained_overwriting_child_discards_the_warmup(make, expr):  # LRV011
    alone_opt = _opt(0.1)
    alone = _lrs(alone_opt, make(alone_opt), 12)
    opt = _opt(0.1)
    chain = L.ChainedScheduler([L.LinearLR(opt, start_factor=0.1, total_iters=5), make(opt)])
    assert _lrs(opt, chain, 12) == pytest.approx(alone, rel=1e-12)


def test_onecycle_switches_sgd_momentum_on():  # LRV012
    opt = _opt(0.1)
    assert opt.param_groups[0]["momentum"] == 0
    L.OneCycleLR(opt, max_lr=0.1, total_steps=100)
    assert opt.param_groups[0]["momentum"] == 0.95
    off = _opt(0.1)
    L.OneCycleLR(off, max_lr=0.1, total_steps=100, cycle_momentum=False)
    assert off.param_groups[0]["momentum"] == 0


def test_plateau_negative_metrics_with_rel_threshold_never_reduce():  # LRV013
    metrics = [-1.0, -0.999, -0.998, -0.997, -0.996, -0.995, -0.994, -0.993]  # slowly worse
    rel = _opt(0.1)
    sched = L.ReduceLROnPlateau(rel, patience=1, threshold=0.01)
    assert set(_lrs(rel, sched, 8, metrics)) == {0.1}
    absolute = _opt(0.1)
    sched = L.ReduceLROnPlateau(absolute, patience=1, threshold=0.01, threshold_mode="abs")
    assert min(_lrs(absolute, sched, 8, metrics)) < 0.1


def test_plateau_nan_first_metric_cuts_at_once():  # LRV013
    opt = _opt(0.1)
    sched = L.ReduceLROnPlateau(opt, patience=0)
    assert _lrs(opt, sched, 3, [math.nan, 1.0, 1.0]) == pytest.approx([0.1, 0.01, 0.01])


def test_step_with_epoch_argument_warns_every_call():  # LRV015
    opt = _opt(0.1)
    sched = L.StepLR(opt, step_size=2)
    opt.step()  # after the scheduler exists, so torch's order check is satisfied
    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        for x in (0.5, 1.0, 1.5):
            sched.step(x)
    assert len(log) == 3 and "epoch parameter" in str(log[0].message)
