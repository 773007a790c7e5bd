"""`lrviz table`, `list`, `show`: output formats, SPEC resolution and every bad input's message."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lrviz.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def write(tmp_path: Path, text: str, name: str = "cfg.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# --- output -----------------------------------------------------------------------------------


def test_table_shows_header_sampled_rows_and_caption():
    result = invoke("table", "steplr", "--rows", "12")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "StepLR · step: epoch · order: optimizer_first · 100 rows (100 epochs)" in out
    assert "showing" in out and "of 100 rows" in out
    assert result.stderr == ""


def test_json_has_the_spec_section_4_shape():
    result = invoke("table", "cosine_warm", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["name"] == "cosine_warm" and doc["step_mode"] == "fractional"
    assert doc["groups"] == ["backbone", "head"]
    assert doc["error"] is None and doc["warnings"] == []
    assert doc["rows"][0] == {
        "step": 0,
        "epoch": 0,
        "iter": 0,
        "x": 0.0,
        "lr": [0.01, 0.1],
        "momentum": [0.9, 0.95],
    }
    assert doc["rows"][21]["x"] == 1 + 1 / 20
    assert len(doc["rows"]) == 35 * 20


def test_csv_has_every_row_at_full_precision():
    from lrviz.load import load_plan
    from lrviz.simulation import run

    result = invoke("table", "onecyclelr", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    trace = run(load_plan("onecyclelr"))
    assert len(rows) == trace.rows
    assert [float(r["lr_group0"]) for r in rows] == trace.lr[:, 0].tolist()
    assert [float(r["momentum_group0"]) for r in rows] == trace.momentum[:, 0].tolist()


def test_markdown_table():
    result = invoke("table", "constantlr", "--format", "markdown")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "| step | epoch | iter | x | lr_group0 | momentum_group0 |"
    assert lines[2] == "| 0 | 0 | 0 | 0.0 | 0.025 | 0.9 |"
    assert len(lines) == 2 + 10


def test_scheduler_class_name_with_set_and_epochs():
    result = invoke("table", "exponentiallr", "--format", "json")  # preset wins over the class
    assert json.loads(result.stdout)["name"] == "exponentiallr"
    result = invoke(
        "table", "StepLR", "--set", "scheduler.step_size=2", "--epochs", "5", "--format", "csv"
    )
    assert result.exit_code == 0, result.stderr
    lrs = [float(r["lr_group0"]) for r in csv.DictReader(io.StringIO(result.stdout))]
    assert lrs == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001])


def test_scheduler_first_reports_torchs_order_warning_at_row_0(tmp_path):
    spec = write(
        tmp_path,
        "scheduler: {type: StepLR, step_size: 2}\nrun: {epochs: 4, order: scheduler_first}\n",
    )
    result = invoke("table", spec, "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert [(w["step"], w["count"], w["category"]) for w in doc["warnings"]] == [
        (0, 1, "UserWarning")
    ]
    assert doc["warnings"][0]["message"].startswith(
        "Detected call of `lr_scheduler.step()` before `optimizer.step()`"
    )
    assert [r["lr"][0] for r in doc["rows"]] == pytest.approx([0.1, 0.01, 0.01, 0.001])


def test_warnings_are_counted_once_each_on_stderr_for_csv(tmp_path):
    spec = write(
        tmp_path,
        "scheduler: {type: StepLR, step_size: 2}\n"
        "run: {epochs: 3, iters_per_epoch: 2, step: fractional}\n",
    )
    result = invoke("table", spec, "--format", "csv")
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "warning: row 1 (×6): UserWarning: The epoch parameter in "
        "`scheduler.step()` was not necessary"
    )


# --- bad input: each full message, exit code, no traceback --------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "stderr"),
    [
        (
            "scheduler:\n  type: StepLR\n   step_size: 3\n",
            2,
            "error: {f}:3: YAML syntax error: mapping values are not allowed here (column 13)\n",
        ),
        (
            "scheduler: {type: CosineAnealingLR, T_max: 3}\nrun: {epochs: 3}\n",
            2,
            "error: {f}:1: scheduler.type: unknown scheduler 'CosineAnealingLR'; "
            "did you mean 'CosineAnnealingLR'?\n",
        ),
        (
            "scheduler: {type: StepLR, step_size: 3, gama: 0.5}\nrun: {epochs: 3}\n",
            2,
            "error: {f}:1: scheduler.gama: unknown argument for StepLR; did you mean 'gamma'? "
            "(arguments: step_size, gamma, last_epoch)\n",
        ),
        (
            "scheduler:\n  type: StepLR\n  step_size: ten\nrun: {epochs: 3}\n",
            2,
            "error: {f}:3: scheduler.step_size: expected an integer, got 'ten'\n",
        ),
        (
            "scheduler:\n  type: CosineAnnealingLR\nrun: {epochs: 3}\n",
            2,
            "error: {f}:1: scheduler: CosineAnnealingLR needs 'T_max' (a number): "
            "Maximum number of iterations.\n",
        ),
        (
            "scheduler:\n  type: LambdaLR\n  lr_lambda: '0.1 * epoch ** foo'\nrun: {epochs: 3}\n",
            2,
            "error: {f}:3: scheduler.lr_lambda: unknown name 'foo' (allowed: epoch, pi, e, sqrt, "
            "exp, log, log2, log10, sin, cos, tan, floor, ceil, abs, min, max, pow)\n"
            "    expr: 0.1 * epoch ** foo\n"
            "                         ^^^\n",
        ),
        (
            "scheduler: {type: ReduceLROnPlateau}\nrun:\n  epochs: 5\n  metrics: [1.0, 0.9]\n",
            2,
            "error: {f}:4: run.metrics: 2 values for 5 scheduler steps; ReduceLROnPlateau needs "
            "one per step (5)\n",
        ),
        (
            "scheduler: {type: StepLR, step_size: 3}\n"
            "run: {epochs: 100000000, iters_per_epoch: 1000, step: batch}\n",
            2,
            "error: {f}:2: run.epochs: the run has 100,000,000,000 rows (100,000,000 epochs × "
            "1,000 iters), more than the limit of 20,000,000; raise it with --max-rows "
            "100000000000\n",
        ),
        (
            "scheduler: {type: StepLR, step_size: 3}\n",
            2,
            "error: {f}: run.epochs: missing: set run.epochs in the file or pass --epochs N\n",
        ),
        (
            "scheduler: {type: SequentialLR, milestones: [2], schedulers: [{type: ConstantLR}, "
            "{type: StepLR, step_size: 2}]}\nrun: {epochs: 4, step: fractional}\n",
            2,
            "error: {f}:2: run.step: SequentialLR.step() takes no epoch argument, so step: "
            "fractional cannot drive it; use epoch or batch\n",
        ),
        (
            "scheduler: {type: OneCycleLR, max_lr: 0.1, pct_start: 1.5}\nrun: {epochs: 3}\n",
            2,
            "error: {f}:1: scheduler: OneCycleLR rejected its arguments: Expected float between "
            "0 and 1 pct_start, but got 1.5\n",
        ),
    ],
    ids=[
        "yaml-syntax",
        "unknown-scheduler",
        "unknown-key",
        "wrong-type",
        "missing-required",
        "bad-expression",
        "too-few-metrics",
        "absurd-length",
        "no-epochs",
        "fractional-composite",
        "torch-rejects",
    ],
)
def test_bad_spec_messages(tmp_path, text: str, code: int, stderr: str):
    spec = write(tmp_path, text)
    result = invoke("table", spec)
    assert result.exit_code == code
    assert result.stderr == stderr.format(f=spec)
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_all_problems_of_a_file_are_reported_together(tmp_path):
    spec = write(
        tmp_path,
        "optimizer: {type: SGDD}\nscheduler:\n  type: StepLR\n  step_size: x\n"
        "run:\n  epochs: 3\n  stpe: batch\n",
    )
    result = invoke("table", spec)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {spec}:1: optimizer.type: unknown optimizer 'SGDD'; did you mean 'SGD'? "
        "(a class in torch.optim)",
        f"error: {spec}:4: scheduler.step_size: expected an integer, got 'x'",
        f"error: {spec}:7: run.stpe: unknown key; did you mean 'step'?",
    ]


def test_onecycle_past_total_steps_fails_at_row_11_keeping_rows(tmp_path):
    spec = write(
        tmp_path, "scheduler: {type: OneCycleLR, max_lr: 0.1, total_steps: 10}\nrun: {epochs: 15}\n"
    )
    result = invoke("table", spec, "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert len(doc["rows"]) == 11
    assert doc["error"] == {
        "step": 11,
        "message": "ValueError: Tried to step 11 times. The specified number of total steps is 10",
    }
    assert result.stderr == (
        "error: run failed at row 11: ValueError: Tried to step 11 times. "
        "The specified number of total steps is 10 (rows 0..10 were "
        "produced)\n"
    )


def test_lambda_failing_mid_run_is_a_run_error(tmp_path):
    spec = write(
        tmp_path, "scheduler: {type: LambdaLR, lr_lambda: '1 / (3 - epoch)'}\nrun: {epochs: 6}\n"
    )
    result = invoke("table", spec, "--format", "csv")
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 1 + 3
    assert result.stderr == (
        'error: run failed at row 3: ExprEvalError: lr_lambda "1 / (3 - epoch)"'
        " failed at epoch=3: division by zero (rows 0..2 were produced)\n"
    )


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (
            ["table", "stepl"],
            "error: 'stepl' is not a file, a bundled preset or a scheduler class; "
            "did you mean 'steplr'? (see 'lrviz list')\n",
        ),
        (["table", "missing.yaml"], "error: missing.yaml: no such file\n"),
        (
            ["table", "steplr", "--step", "daily"],
            "error: --step must be epoch, batch or fractional, not 'daily'\n",
        ),
        (
            ["show", "cosine"],
            "error: unknown scheduler 'cosine'; did you mean 'CosineAnnealingLR'?\n",
        ),
    ],
)
def test_usage_errors(args: list[str], stderr: str):
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stderr == stderr


def test_list_and_show():
    result = invoke("list")
    assert result.exit_code == 0
    for name in ("CosineAnnealingWarmRestarts", "ReduceLROnPlateau", "cosine_warm", "steplr"):
        assert name in result.stdout
    result = invoke("show", "steplr")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())  # rich wraps to the terminal width
    assert text.startswith(
        "StepLR: Decays the learning rate of each parameter group by gamma every step_size epochs."
    )
    assert "Period of learning rate decay." in text


def test_help_does_not_import_torch_or_matplotlib():
    code = (
        "import sys; from lrviz.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'matplotlib', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("[]")


def test_python_dash_m_runs_the_cli():
    out = subprocess.run(
        [sys.executable, "-m", "lrviz", "table", "constantlr", "-f", "csv"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0 and out.stdout.startswith("step,epoch,iter,x,lr_group0")


def test_unexpected_exceptions_become_one_line_without_debug(monkeypatch):
    import lrviz.simulation

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(lrviz.simulation, "run", boom)
    result = invoke("table", "steplr")
    assert result.exit_code == 1
    assert result.stderr == (
        "internal error: RuntimeError: boom; re-run with --debug for the traceback\n"
    )
    result = invoke("--debug", "table", "steplr")  # the traceback, and the same exit status
    assert result.exit_code == 1
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert result.stderr.endswith("RuntimeError: boom\ninternal error: RuntimeError: boom\n")


def test_negative_or_nan_lr_is_flagged(tmp_path):
    spec = write(
        tmp_path, "scheduler: {type: LambdaLR, lr_lambda: '1 - epoch / 2'}\nrun: {epochs: 4}\n"
    )
    result = invoke("table", spec, "--format", "csv")
    assert result.exit_code == 0
    assert result.stderr == (
        "warning: lr is NaN, infinite or negative in 1 row; first at row 3: [-0.05]\n"
    )


def test_ctrl_c_exits_130_with_a_short_message(monkeypatch):
    import lrviz.simulation

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(lrviz.simulation, "run", interrupted)
    result = invoke("table", "steplr")
    assert (result.exit_code, result.stderr) == (130, "interrupted\n")


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('touch {marker}')",
        "(1).__class__.__base__.__subclasses__()",
        "open('{marker}', 'w')",
        "[c for c in ().__class__.__bases__]",
        "epoch.__class__",
    ],
)
def test_a_hostile_spec_runs_nothing(tmp_path, expression):
    marker = tmp_path / "pwned"
    spec = write(
        tmp_path,
        "scheduler:\n  type: LambdaLR\n  lr_lambda: "
        + repr(expression.format(marker=marker)).replace("\\\\", "/")
        + "\nrun: {epochs: 3}\n",
    )
    assert invoke("table", "lambdalr").exit_code == 0  # load what a benign run loads
    before = set(sys.modules)
    result = invoke("table", spec)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {spec}:3: scheduler.lr_lambda: ")
    assert not marker.exists()
    assert set(sys.modules) == before


def test_a_closed_pipe_ends_quietly():
    code = (
        "import subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-m', 'lrviz', 'table', 'onecyclelr', '-f', "
        "'csv', '--epochs', '400', '--iters', '100'], stdout=subprocess.PIPE, "
        "stderr=subprocess.PIPE)\n"
        "p.stdout.readline(); p.stdout.close(); err = p.stderr.read(); p.wait()\n"
        "print(p.returncode, repr(err.decode()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0 ''"
