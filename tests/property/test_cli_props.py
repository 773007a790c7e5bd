"""Property tests: random --set overrides never reach the user as a traceback."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from lrviz.cli import app

runner = CliRunner()
KEYS = [
    "scheduler.T_max",
    "scheduler.T_0",
    "scheduler.T_mult",
    "scheduler.eta_min",
    "scheduler.type",
    "scheduler.gamma",
    "scheduler.step_size",
    "scheduler.milestones",
    "scheduler.lr_lambda",
    "scheduler.schedulers",
    "optimizer.lr",
    "optimizer.type",
    "optimizer.momentum",
    "param_groups",
    "param_groups.0.lr",
    "param_groups.1.momentum",
    "run.epochs",
    "run.iters_per_epoch",
    "run.step",
    "run.order",
    "run.metrics",
    "run",
    "scheduler",
    "name",
    "nonsense.key",
    "scheduler.max_lr",
    "scheduler.total_steps",
]
VALUES = st.sampled_from(
    [
        "0",
        "-1",
        "1",
        "3",
        "1e-6",
        "1e400",
        ".nan",
        "-.inf",
        "'ten'",
        "null",
        "true",
        "[]",
        "{}",
        "[1, 2]",
        "[3, 1, 3]",
        "{type: StepLR}",
        "StepLR",
        "OneCycleLR",
        "ReduceLROnPlateau",
        "fractional",
        "batch",
        "scheduler_first",
        "'1 / epoch'",
        "'epoch ** 9999999'",
        "'(1).__class__'",
        "Adam",
        "Adagrad",
        "LBFGS",
        "[{type: ConstantLR}]",
        "99999999999",
        "'",
        "{",
        "x: [",
        "2.5",
    ]
)
PRESETS = st.sampled_from(
    [
        "cosine_warm",
        "steplr",
        "onecyclelr",
        "reducelronplateau",
        "sequentiallr",
        "lambdalr",
        "cycliclr",
        "chainedscheduler",
    ]
)


@settings(max_examples=120)
@given(
    PRESETS,
    st.lists(st.tuples(st.sampled_from(KEYS), VALUES), max_size=3),
    st.sampled_from(["csv", "json"]),
)
def test_random_overrides_end_in_rows_or_clean_errors(preset, sets, fmt):
    args = ["table", preset, "--format", fmt, "--max-rows", "5000"]
    for key, value in sets:
        args += ["--set", f"{key}={value}"]
    result = runner.invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code in (0, 1, 2), result.exit_code
    assert "Traceback" not in result.output
    assert "internal error" not in result.stderr, result.stderr
    if result.exit_code:
        assert result.stderr.startswith(("error: ", "warning: ")), result.stderr
