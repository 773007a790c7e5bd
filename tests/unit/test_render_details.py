"""Issue 14's rendering details: sampled rows, terminal labels, escaping, plot marks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lrviz.load import Options, load_plan
from lrviz.render.plot import figure, to_bytes
from lrviz.render.table import sample_rows, sparklines
from lrviz.render.terminal import render, y_labels
from lrviz.render.text import csv_field, markdown_cell
from lrviz.simulation import run
from lrviz.trace import Trace


def _trace(name: str, *sets: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run(load_plan(name, Options(tuple(sets))))


def _synthetic(lr: np.ndarray, momentum: np.ndarray | None = None, name: str = "t") -> Trace:
    lr = np.asarray(lr, dtype=np.float64).reshape(len(lr), -1)
    groups = [f"group{g}" for g in range(lr.shape[1])]
    mom = np.full_like(lr, np.nan) if momentum is None else momentum.reshape(lr.shape)
    kind = [None if momentum is None else "betas"] * lr.shape[1]
    return Trace(name, "LambdaLR", "epoch", "optimizer_first", len(lr), 1, groups, lr, mom,
                 kind, "2.13.0")  # fmt: skip


# --- table rows ------------------------------------------------------------------------------


def test_sampling_keeps_every_lr_change_with_the_row_before_then_spreads():
    trace = _trace("steplr")
    assert sample_rows(trace, 10) == [0, 14, 29, 30, 44, 59, 60, 89, 90, 99]
    assert sample_rows(trace, 5) == [0, 30, 60, 90, 99]  # no room for the rows before
    assert len(sample_rows(trace, 40)) == 40


def test_sampling_a_smooth_curve_keeps_the_restarts():
    rows = sample_rows(_trace("cosine_warm"), 12)
    assert len(rows) == 12
    assert {99, 100, 101, 299, 300, 301} <= set(rows)  # floor and restart, twice


def test_sampling_too_many_landmarks_spreads_evenly():
    trace = _synthetic(np.arange(100, 0, -1) / 100)  # a change every row, no turn
    rows = sample_rows(trace, 5)
    assert rows == [0, 24, 49, 74, 99]


def test_sparklines_merge_groups_of_one_shape():
    trace = _trace("cosine_warm")
    (line,) = sparklines(trace)
    assert line.startswith("lr backbone, head: ")
    two = sparklines(_synthetic(np.array([[1.0, 4.0], [2.0, 3.0], [3.0, 2.0], [4.0, 1.0]])))
    assert two == ["lr group0: ▁▃▆█", "lr group1: █▆▃▁"]


# --- CSV and Markdown text --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "field", "cell"),
    [
        ("head", "head", "head"),
        ("enc,dec", '"enc,dec"', "enc,dec"),
        ('say "hi"', '"say ""hi"""', 'say "hi"'),
        ("a|b", "a|b", r"a\|b"),
        ("two\nlines", '"two\nlines"', "two lines"),
    ],
)
def test_group_names_are_quoted_for_csv_and_escaped_for_markdown(name, field, cell):
    assert csv_field(name) == field
    assert markdown_cell(name) == cell


# --- terminal plot ----------------------------------------------------------------------------


def test_terminal_labels_of_a_small_lr_have_the_digits_they_need():
    assert y_labels(4e-8, 1e-3, 15) == {
        0: "0.001",
        3: "0.0008",
        6: "0.0006",
        9: "0.0004",
        12: "0.0002",
    }
    assert y_labels(0.0, 1e-6, 9) == {0: "1e-06", 4: "5e-07", 8: "0"}


def test_terminal_labels_never_say_minus_zero_and_put_values_on_their_rows():
    labels = y_labels(-1e-19, 1e-3, 15)
    assert "-0" not in labels.values() and "-0.0" not in labels.values()
    assert labels[14] == "0"
    for lo, hi, height in [(0.855, 1.045, 7), (0.85, 0.95, 7), (4e-8, 1e-3, 15), (-2.0, 3.0, 9)]:
        h = (hi - lo) / height
        for row, text in y_labels(lo, hi, height).items():  # each label on its value's row
            bottom = lo + (height - 1 - row) * h
            assert bottom - 1e-12 <= float(text) <= bottom + h + 1e-12, (lo, hi, row, text)
    log = y_labels(1e-4, 0.1, 15, log=True)
    assert [log[row] for row in sorted(log)] == ["0.1", "0.01", "0.001", "0.0001"]


def test_terminal_plot_of_an_lr_peaking_at_1e_3():
    out = render([_trace("onecyclelr", "scheduler.max_lr=1e-3")])
    right = [line.rsplit("│", 1)[1].strip() for line in out.splitlines() if line.startswith("│")]
    assert [r for r in right if r] == ["0.001", "0.0008", "0.0006", "0.0004", "0.0002"]


def test_terminal_plot_draws_identical_curves_once_with_both_names():
    out = render([_trace("onecyclelr_adam")], momentum=True)
    assert "onecyclelr_adam · encoder = decoder" in out


def test_terminal_plot_names_a_single_group_run_by_its_name_and_lists_non_finite_rows():
    lr = np.full(2000, 0.1)
    lr[700] = np.nan
    out = render([_synthetic(lr, name="long")])
    assert "long · group0" not in out and "long" in out
    assert out.splitlines()[-1] == "lr NaN or infinite at epoch 700 (row 700)"


# --- matplotlib plot --------------------------------------------------------------------------


def test_the_last_row_is_drawn_as_wide_as_the_others():
    trace = _trace("steplr")
    (line,) = [ln for ln in figure([trace]).axes[0].get_lines() if ln.get_gid() == "lr:0:0"]
    assert line.get_xdata()[-2:].tolist() == [99.0, 100.0]
    assert line.get_ydata()[-2:].tolist() == [trace.lr[-1, 0]] * 2


def test_a_nan_row_in_a_long_run_is_marked():
    lr = np.full(1_000_000, 0.1)
    lr[500_000] = np.nan
    fig = figure([_synthetic(lr, name="long")])
    (marks,) = [ln for ln in fig.axes[0].get_lines() if ln.get_gid() == "marker:non_finite:0"]
    assert marks.get_xdata().tolist() == [500_000.0]
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["long", "lr NaN or infinite (1 row)"]


def test_identical_momentum_curves_are_both_visible():
    fig = figure([_trace("onecyclelr_adam")], momentum=True)
    mom = [ln for ln in fig.axes[1].get_lines() if str(ln.get_gid()).startswith("momentum:")]
    assert np.array_equal(mom[0].get_ydata(), mom[1].get_ydata())
    assert mom[0].get_linestyle() == "-" and mom[1].get_linestyle() == "--"


def test_a_long_legend_grows_the_default_figure_and_saves_without_warnings():
    traces = [_trace(name) for name in ("steplr", "cosine_warm", "onecyclelr_adam", "linearlr")]
    many = traces * 5  # 30 lines
    fig = figure(many, dpi=40)
    assert fig.get_figheight() > 3.6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert to_bytes(fig, "png")
    sized = figure(traces, size=(6.0, 3.6), dpi=40)  # a size given is kept
    assert tuple(sized.get_size_inches()) == (6.0, 3.6)
