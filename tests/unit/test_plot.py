"""Plots, markers and the terminal plot: checked on their data, against plain torch."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.testing.compare import compare_images

import lrviz
from lrviz.document import load_yaml
from lrviz.load import Options, load_plan
from lrviz.markers import find_events
from lrviz.presets import preset_path
from lrviz.render.plot import (
    OKABE_ITO,
    bucket_size,
    decimate,
    extrema_indices,
    figure,
    row_x,
    to_bytes,
)
from lrviz.render.terminal import render
from lrviz.simulation import run
from lrviz.trace import Failure, Trace
from tests.reference import _scheduler

GOLDEN = Path(__file__).parent / "golden"


def _trace(name: str, *sets: str, epochs=None, iters=None, step=None) -> Trace:
    return run(load_plan(name, Options(tuple(sets), epochs, iters, step)))


def _data_lines(ax, kind: str = "lr"):
    return [ln for ln in ax.get_lines() if str(ln.get_gid()).startswith(f"{kind}:")]


def _held(values: np.ndarray, end: float | None = None) -> np.ndarray:
    """A line's points: every row, then the last row held until the run's end (`end` for x)."""
    return np.append(values, values[-1] if end is None else end)


def _markers(fig, kind: str) -> list[float]:
    """x of every vertical marker of a kind on the lr axes."""
    ax = fig.axes[0]
    xs: list[float] = []
    for coll in ax.collections:
        if str(coll.get_gid()).startswith(f"marker:{kind}:"):
            xs += [float(seg[0][0]) for seg in coll.get_segments()]
    return xs


def _synthetic(lr: np.ndarray, iters: int = 1) -> Trace:
    lr = lr.reshape(len(lr), -1)
    return Trace(
        name="synthetic",
        scheduler="LambdaLR",
        step_mode="batch" if iters > 1 else "epoch",
        order="optimizer_first",
        epochs=max(1, len(lr) // iters),
        iters_per_epoch=iters,
        groups=[f"group{g}" for g in range(lr.shape[1])],
        lr=lr,
        momentum=np.full(lr.shape, np.nan),
        momentum_kind=[None] * lr.shape[1],
        torch_version=torch.__version__,
    )


# --- plain torch: where the events really are -------------------------------------------


def _torch_loop(data: dict, rows: int, iters: int, mode: str, order: str, watch=None, setup=None):
    """The SPEC loop in plain torch; setup(scheduler) runs once built, watch(scheduler, k)
    at the top of iteration k (before anything of row k happens)."""
    opt = dict(data.get("optimizer") or {})
    opt_cls = getattr(torch.optim, opt.pop("type", "SGD"))
    groups = [{k: v for k, v in g.items() if k != "name"} for g in data.get("param_groups") or [{}]]
    params = [{"params": [torch.zeros(1, requires_grad=True)], **g} for g in groups]
    metrics = (data.get("run") or {}).get("metrics")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimizer = opt_cls(params, **opt)
        sched = _scheduler(data["scheduler"], optimizer, rows)
        if setup is not None:
            setup(sched)

        def advance(k: int) -> None:
            if metrics is not None:
                sched.step(metrics[k])
            elif mode == "fractional":
                sched.step(k // iters + (k % iters) / iters)
            else:
                sched.step()

        for k in range(rows):
            if watch is not None:
                watch(sched, k)
            if order == "scheduler_first":
                advance(k)
            optimizer.step()
            if order == "optimizer_first":
                advance(k)
    return sched


def _torch_restart_rows(name: str, rows: int, iters: int, mode: str) -> list[int]:
    """Rows where CAWR's own T_cur went back down (a new cycle), read from torch's state."""
    seen: list[tuple[int, float]] = []
    _torch_loop(
        _yaml(name), rows, iters, mode, "optimizer_first", lambda s, k: seen.append((k, s.T_cur))
    )
    return [k for (k, t), (_, prev) in zip(seen[1:], seen[:-1], strict=True) if t < prev]


def _torch_switch_rows(data: dict, rows: int, order: str) -> list[int]:
    """First rows after SequentialLR reset a child with _update_lr(0), as seen inside torch."""
    switched: list[int] = []
    state = {"k": 0}

    def setup(sched):
        for child in sched._schedulers:
            original = child._update_lr

            def hook(epoch=None, _original=original):
                if epoch == 0:  # the reset SequentialLR does at a milestone
                    # optimizer_first steps after row k; scheduler_first at the top of row k
                    switched.append(state["k"] + (order == "optimizer_first"))
                return _original(epoch)

            child._update_lr = hook

    def watch(sched, k):
        state["k"] = k

    _torch_loop(data, rows, 1, "epoch", order, watch=watch, setup=setup)
    return sorted(set(r for r in switched if r < rows))


def _yaml(name: str) -> dict:
    return load_yaml(preset_path(name).read_text())


# --- lines: the data drawn is the trace -----------------------------------------------


def test_lines_are_the_trace_rows_with_spec_and_group_in_the_legend():
    trace = _trace("cosine_warm")
    fig = figure([trace])
    (ax,) = fig.axes
    lines = _data_lines(ax)
    assert [ln.get_label() for ln in lines] == ["cosine_warm · backbone", "cosine_warm · head"]
    for g, ln in enumerate(lines):
        assert np.array_equal(ln.get_xdata(), _held(trace.x(), 35.0))
        assert np.array_equal(ln.get_ydata(), _held(trace.lr[:, g]))
        assert ln.get_color() == OKABE_ITO[g]
        assert ln.get_drawstyle() == "steps-post"
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["cosine_warm · backbone", "cosine_warm · head", "restart"]
    assert ax.get_xlabel() == "epoch"
    assert ax.get_ylabel() == "learning rate"
    assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()
    assert ax.get_xlim() == (0.0, 35.0)  # the last row, too, lasts one step


def test_step_axis_overlay_and_title():
    a, b = _trace("steplr"), _trace("warmup_cosine")
    fig = figure([a, b], x="step", title="Two schedules", log=True)
    (ax,) = fig.axes
    lines = _data_lines(ax)
    assert [ln.get_label() for ln in lines] == ["steplr", "warmup_cosine"]  # one group each
    for ln, t in zip(lines, [a, b], strict=True):
        assert np.array_equal(ln.get_xdata(), np.arange(t.rows + 1, dtype=float))
        assert np.array_equal(ln.get_ydata(), _held(t.lr[:, 0]))
    assert [ln.get_color() for ln in lines] == list(OKABE_ITO[:2])
    assert ax.get_xlabel() == "step (optimizer steps)"
    assert ax.get_yscale() == "log"
    assert fig.get_suptitle() == "Two schedules"
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["steplr", "warmup_cosine", "SequentialLR milestone"]


def test_small_values_get_a_power_of_ten_over_the_axis():
    trace = _synthetic(np.linspace(3e-4, 1e-5, 50))
    fig = figure([trace])
    fig.draw_without_rendering()
    ax = fig.axes[0]
    assert ax.yaxis.get_offset_text().get_text() == "×10⁻⁴"
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert "3.0" in labels and "1.5" in labels and "$" not in "".join(labels)
    plain = figure([_synthetic(np.linspace(0.1, 0.01, 50))])
    plain.draw_without_rendering()
    assert plain.axes[0].yaxis.get_offset_text().get_text() == ""


def test_momentum_panel_shares_x_and_names_adam_beta1():
    sgd = _trace("onecyclelr")
    fig = figure([sgd], momentum=True)
    lr_ax, mom_ax = fig.axes
    (mline,) = _data_lines(mom_ax, "momentum")
    assert np.array_equal(mline.get_ydata(), _held(sgd.momentum[:, 0]))
    assert np.array_equal(mline.get_xdata(), _held(sgd.x(), float(sgd.epochs)))
    assert mom_ax.get_ylabel() == "momentum" and mom_ax.get_xlabel() == "epoch"
    assert lr_ax.get_xlabel() == ""
    assert lr_ax.get_shared_x_axes().joined(lr_ax, mom_ax)
    adam = figure([_trace("warmup_cosine")], momentum=True)
    assert adam.axes[1].get_ylabel() == "Adam β₁"
    assert np.all(_data_lines(adam.axes[1], "momentum")[0].get_ydata() == 0.9)


def test_long_run_is_reduced_to_bucket_extremes_with_spikes_kept():
    n = 200_000
    lr = 0.1 * (1 + np.cos(np.linspace(0, 40 * np.pi, n))) / 2
    lr[123_457] = 5.0  # a one-row spike: the eye must see it
    lr[7] = -1.0  # and a one-row floor
    trace = _synthetic(lr, iters=100)
    fig = figure([trace], size=(4.0, 3.0), dpi=100)
    (line,) = _data_lines(fig.axes[0])
    xs, ys = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    buckets = 400  # 4 in × 100 dpi: one bucket per pixel column
    assert len(xs) <= 4 * buckets
    assert np.all(np.diff(xs) > 0)
    assert 5.0 in ys and -1.0 in ys
    size = bucket_size(n, buckets)
    drawn = set(zip(xs.tolist(), ys.tolist(), strict=True))
    all_x = trace.x()
    for start in range(0, n, size):
        seg = slice(start, min(start + size, n))
        lo = start + int(np.argmin(lr[seg]))
        hi = start + int(np.argmax(lr[seg]))
        assert (all_x[lo], lr[lo]) in drawn and (all_x[hi], lr[hi]) in drawn


# --- decimation properties --------------------------------------------------------------

floats = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@given(st.lists(floats, min_size=0, max_size=300), st.integers(1, 30))
def test_every_bucket_keeps_first_last_min_and_max(values, buckets):
    y = np.array(values, dtype=np.float64)
    x = np.arange(len(y)) / 7.0
    idx = extrema_indices(y, buckets)
    assert np.all(np.diff(idx) > 0) and (len(idx) == 0 or (idx[0] >= 0 and idx[-1] < len(y)))
    if len(y) <= 4 * buckets:
        assert np.array_equal(idx, np.arange(len(y)))
        return
    size = bucket_size(len(y), buckets)
    assert len(idx) <= 4 * -(-len(y) // size)
    kept = set(idx.tolist())
    for start in range(0, len(y), size):
        seg = y[start : start + size]
        picked = [i for i in kept if start <= i < start + size]
        assert start in kept and start + len(seg) - 1 in kept
        assert y[picked].min() == seg.min() and y[picked].max() == seg.max()
    dx, dy = decimate(x, y, buckets)
    assert np.all(np.diff(dx) > 0)
    assert np.array_equal(dx, x[idx]) and np.array_equal(dy, y[idx])


@given(st.lists(st.sampled_from([0.5, -2.0, 3.0, 1e-8, float("nan")]), min_size=41, max_size=120))
def test_a_nan_in_a_bucket_stays_visible_and_extremes_survive(values):
    y = np.array(values, dtype=np.float64)
    idx = extrema_indices(y, 10)
    size = bucket_size(len(y), 10)
    for start in range(0, len(y), size):
        seg = y[start : start + size]
        got = y[[i for i in idx.tolist() if start <= i < start + size]]
        if np.isnan(seg).any():
            assert np.isnan(got).any()
        if not np.isnan(seg).all():
            assert np.nanmin(got) == np.nanmin(seg) and np.nanmax(got) == np.nanmax(seg)


def test_row_x_is_the_trace_x_and_extends_past_the_end():
    trace = _trace("cosine_warm")
    assert np.array_equal(row_x(trace, np.arange(trace.rows)), trace.x())
    assert row_x(trace, np.array([700, 701]), "epoch").tolist() == [35.0, 35.05]
    assert row_x(trace, np.array([701]), "step").tolist() == [701.0]


# --- markers: at the rows plain torch says ----------------------------------------------


def test_restarts_fractional_land_one_batch_late_as_torch_says():
    trace = _trace("cosine_warm")
    expected = _torch_restart_rows("cosine_warm", 700, 20, "fractional")
    assert expected == [101, 301]
    assert trace.events == {"restart": expected}
    assert _markers(figure([trace]), "restart") == [5.05, 15.05]
    assert _markers(figure([trace], x="step"), "restart") == [101.0, 301.0]


def test_restarts_per_epoch_match_torch():
    trace = _trace("cosineannealingwarmrestarts")
    assert (
        trace.events["restart"]
        == _torch_restart_rows("cosineannealingwarmrestarts", 70, 1, "epoch")
        == [10, 30]
    )
    assert _markers(figure([trace]), "restart") == [10.0, 30.0]


@pytest.mark.parametrize(
    ("name", "order", "expected"),
    [
        ("sequentiallr", "optimizer_first", [5, 40]),
        ("sequentiallr", "scheduler_first", [4, 39]),
        ("warmup_cosine", "optimizer_first", [5]),
    ],
)
def test_sequential_milestones_match_torch_switches(name, order, expected):
    trace = _trace(name, f"run.order={order}")
    assert _torch_switch_rows(_yaml(name), trace.rows, order) == expected
    assert trace.events == {"milestone": expected}
    assert _markers(figure([trace]), "milestone") == [float(r) for r in expected]


def test_milestones_count_batches_in_batch_mode():
    trace = _trace("sequentiallr", step="batch", iters=4)
    assert trace.events["milestone"] == [5, 40]
    assert _markers(figure([trace]), "milestone") == [1.25, 10.0]


def test_unsorted_milestones_switch_where_torch_switches():
    data = _yaml("sequentiallr")
    data["scheduler"]["milestones"] = [40, 5]
    trace = lrviz.run(data, epochs=60)
    assert _torch_switch_rows(data, 60, "optimizer_first") == trace.events["milestone"] == [5]


def test_repeated_and_zero_milestones_switch_where_torch_switches():
    data = {
        "scheduler": {
            "type": "SequentialLR",
            "schedulers": [
                {"type": "ConstantLR", "factor": 0.5, "total_iters": 2},
                {"type": "ExponentialLR", "gamma": 0.9},
                {"type": "LinearLR", "start_factor": 0.5, "total_iters": 3},
                {"type": "StepLR", "step_size": 2},
                {"type": "ConstantLR", "factor": 0.2, "total_iters": 4},
            ],
            "milestones": [0, 3, 3, 9],
        },
        "run": {"order": "scheduler_first"},
    }
    trace = lrviz.run(data, epochs=12)
    expected = _torch_switch_rows(data, 12, "scheduler_first")
    assert trace.events["milestone"] == expected == [2, 8]


def test_plateau_reductions_are_where_torch_reduced():
    trace = _trace("reducelronplateau")
    reduced: list[int] = []

    def setup(sched):
        original = sched._reduce_lr
        sched._reduce_lr = lambda epoch: (reduced.append(sched.last_epoch), original(epoch))

    _torch_loop(_yaml("reducelronplateau"), 40, 1, "epoch", "optimizer_first", setup=setup)
    # _reduce_lr runs in the step after row k; last_epoch is then k + 1, the row it shows in.
    # The cut after the last row (40) is real in torch but no row shows it.
    assert reduced == [12, 21, 29, 35, 40]
    assert trace.events == {"reduction": reduced[:-1]}
    fig = figure([trace], momentum=True)
    assert _markers(fig, "reduction") == [12.0, 21.0, 29.0, 35.0]
    bottom = [c for c in fig.axes[1].collections if c.get_gid() == "marker:reduction:0"]
    assert len(bottom) == 1  # the momentum panel is marked too
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()][-1] == "plateau reduction"


def test_failure_row_is_marked_past_the_last_row():
    trace = _trace("onecyclelr", "scheduler.total_steps=10")
    assert trace.rows == 11 and trace.error is not None and trace.error.step == 11
    assert trace.events == {"failure": [11]}
    fig = figure([trace])
    assert _markers(fig, "failure") == [11 / 50]
    assert fig.axes[0].get_xlim() == (0.0, 11 / 50 * 1.02)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "onecyclelr",
        "error at row 11",
    ]


def test_find_events_is_empty_for_a_plain_decay():
    trace = _trace("steplr")
    assert trace.events == {}
    assert find_events(load_plan("steplr"), trace) == {}


def test_thousands_of_events_draw_at_most_one_marker_per_pixel_column():
    lr = np.tile([1.0, 0.5], 50_000)  # a "restart" every other row
    trace = _synthetic(lr)
    trace.events = {"restart": list(range(2, 100_000, 2))}
    fig = figure([trace], size=(3.0, 2.0), dpi=100)
    xs = _markers(fig, "restart")
    assert 250 <= len(xs) <= 300 and xs == sorted(xs)
    trace.error = Failure(100_000, "boom")  # the failure marker is never thinned away
    trace.events["failure"] = [100_000]
    assert _markers(figure([trace], size=(3.0, 2.0), dpi=100), "failure") == [100_000.0]


# --- style, files, determinism ----------------------------------------------------------


def test_user_rcparams_are_untouched_and_style_applies_inside():
    before = dict(mpl.rcParams)
    fig = figure([_trace("steplr")], style="dark_background")
    to_bytes(fig, "svg", "dark_background")
    assert dict(mpl.rcParams) == before
    assert fig.axes[0].get_facecolor()[:3] == (0.0, 0.0, 0.0)
    assert fig.axes[0].spines["top"].get_visible() is False  # paper defaults stay underneath


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_same_trace_same_bytes(fmt):
    trace = _trace("cosine_warm")
    first = to_bytes(figure([trace], momentum=True, size=(3.0, 2.5), dpi=60), fmt)
    second = to_bytes(figure([trace], momentum=True, size=(3.0, 2.5), dpi=60), fmt)
    assert first == second
    magic = {"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF"}[fmt]
    assert first.startswith(magic)
    if fmt == "pdf":
        assert b"/CreationDate" not in first and b"/FontFile2" in first  # TrueType embedded
    if fmt == "svg":
        assert b"<dc:date>" not in first
    if fmt == "png":
        assert b"Matplotlib version" not in first


def test_unknown_format_and_axis_are_refused():
    trace = _synthetic(np.ones(3))
    with pytest.raises(ValueError, match="format must be one of"):
        to_bytes(figure([trace]), "jpg")
    with pytest.raises(ValueError, match="x must be one of"):
        figure([trace], x="time")


def test_matches_the_golden_image(tmp_path):
    """Pixel comparison with a tolerance; LRVIZ_UPDATE_GOLDEN=1 rewrites the golden."""
    trace = _trace("cosine_warm")
    png = to_bytes(figure([trace], size=(4.0, 2.5), dpi=60, title="cosine_warm"), "png")
    golden = GOLDEN / "cosine_warm.png"
    if os.environ.get("LRVIZ_UPDATE_GOLDEN"):
        golden.write_bytes(png)
    actual = tmp_path / "cosine_warm.png"
    actual.write_bytes(png)
    assert compare_images(str(golden), str(actual), tol=2) is None
    # A different schedule must not pass the same comparison.
    other = tmp_path / "steplr.png"
    other.write_bytes(to_bytes(figure([_trace("steplr")], size=(4.0, 2.5), dpi=60), "png"))
    assert compare_images(str(golden), str(other), tol=2) is not None


# --- terminal ---------------------------------------------------------------------------


def test_terminal_plot_lists_events_and_has_no_colour_codes_by_default():
    text = render([_trace("cosine_warm")], width=60, height=10, momentum=True)
    assert "cosine_warm: learning rate" in text
    assert "cosine_warm · backbone" in text and "cosine_warm · head" in text
    assert "momentum / β₁" in text
    assert text.endswith("x: epoch\nrestart at epoch 5.05, 15.05 (row 101, 301)\n")
    assert "\x1b[" not in text
    box = [ln for ln in text.splitlines() if ln.startswith("│")]
    assert len(box) == 10 + 5 and all(ln[61] == "│" for ln in box)


def test_terminal_plot_colour_log_and_failures():
    trace = _trace("onecyclelr", "scheduler.total_steps=10")
    text = render([trace], log=True, color=True, x="step", width=40)
    assert "\x1b[" in text
    assert text.endswith("x: step · y: log scale\nerror at step 11 (row 11)\n")
    zero = _synthetic(np.zeros(5))
    assert "(nothing to plot: no finite positive values)" in render([zero], log=True)


def test_terminal_many_events_are_counted():
    trace = _synthetic(np.tile([1.0, 0.5], 20))
    trace.events = {"restart": list(range(2, 40, 2))}
    last = render([trace]).splitlines()[-1]
    assert re.fullmatch(
        r"restart at epoch 2, 4, 6, 8, 10, 12, 14, 16 and 11 more \(row .*…\)", last
    )


# --- odd values ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["reducelronplateau", "cosineannealingwarmrestarts"])
def test_infinite_lr_gives_no_numpy_warning_and_still_plots(name):
    trace = _trace(name, "optimizer.lr=1e400")  # YAML reads 1e400 as inf
    assert np.isinf(trace.lr[0, 0])
    assert "reduction" not in trace.events and "restart" not in trace.events
    fig = figure([trace], log=True)
    (line,) = _data_lines(fig.axes[0])
    assert np.array_equal(line.get_ydata(), _held(trace.lr[:, 0]), equal_nan=True)
    for fmt in ("png", "svg"):
        assert to_bytes(fig, fmt)
    assert [t.get_text() for t in fig.axes[0].texts] == ["no positive lr: linear scale"]
    assert fig.axes[0].get_yscale() == "linear"
    assert render([trace], log=True) == (
        f"{trace.name}: learning rate\n(nothing to plot: no finite positive values)\n"
        "x: epoch · y: log scale\n"
        f"lr NaN or infinite at epoch 0, 1, 2, 3, 4, 5, 6, 7 and {trace.rows - 8} more "
        "(row 0, 1, 2, 3, 4, 5, 6, 7, …)\n"
    )


def test_nan_and_inf_in_a_long_trace_are_kept_by_the_reduction():
    lr = np.linspace(1.0, 0.0, 50_000)
    lr[10_000], lr[20_000], lr[30_000] = np.nan, np.inf, -np.inf
    trace = _synthetic(lr)
    (line,) = _data_lines(figure([trace], size=(2.0, 2.0), dpi=50).axes[0])
    ys = np.asarray(line.get_ydata())
    assert np.isnan(ys).sum() == 1 and np.inf in ys and -np.inf in ys
    assert to_bytes(figure([trace], size=(2.0, 2.0), dpi=50), "png")


def test_restarts_inside_a_sequential_phase_ignore_the_warmup_rise(tmp_path):
    text = (
        "scheduler:\n"
        "  type: SequentialLR\n"
        "  milestones: [3]\n"
        "  schedulers:\n"
        "    - {type: LinearLR, start_factor: 0.1, total_iters: 3}\n"
        "    - {type: CosineAnnealingWarmRestarts, T_0: 4, eta_min: 0.001}\n"
        "run: {epochs: 16}\n"
    )
    spec = tmp_path / "warm_restarts.yaml"
    spec.write_text(text)
    trace = run(load_plan(str(spec)))
    seen: list[float] = []
    _torch_loop(
        load_yaml(text),
        16,
        1,
        "epoch",
        "optimizer_first",
        watch=lambda s, k: seen.append(s._schedulers[1].T_cur),
    )
    # The cosine child drives rows 3.. (the milestone); its own T_cur says when it restarts.
    restarts = [k for k in range(4, 16) if seen[k] < seen[k - 1]]
    assert restarts == [7, 11, 15]
    assert trace.events == {"restart": restarts, "milestone": [3]}
    assert np.all(np.diff(trace.lr[:4, 0]) > 0)  # the warm-up rises, and is no restart
