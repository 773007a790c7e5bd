"""CSV formatted in a second process: the same bytes as formatting here, and still atomic."""

from __future__ import annotations

import os
import time

import pytest
from typer.testing import CliRunner

from lrviz.cli import app, csvwriter
from lrviz.load import load_plan
from lrviz.render import text
from lrviz.simulation import run, run_chunks

runner = CliRunner()

SPECS = {
    "two groups, momentum": "cosine_warm",
    "betas": (
        "optimizer: {type: Adam, lr: 0.01}\n"
        "scheduler: {type: OneCycleLR, max_lr: 0.01}\n"
        "run: {epochs: 7, iters_per_epoch: 13, step: batch}\n"
    ),
    "no momentum": (
        "optimizer: {type: Adagrad, lr: 0.1}\n"
        "param_groups: [{lr: 0.1}, {lr: 0.3}]\n"
        "scheduler: {type: CosineAnnealingLR, T_max: 50}\n"
        "run: {epochs: 120}\n"
    ),
    "plateau": "reducelronplateau",
}


@pytest.fixture
def piped(monkeypatch):
    """Every run formatted by the second process, in small chunks."""
    monkeypatch.setattr(csvwriter, "MIN_ROWS", 1)
    monkeypatch.setattr(csvwriter, "PIPE_CHUNK_ROWS", 37)
    assert csvwriter.pipelined(2)


@pytest.mark.parametrize("case", SPECS)
def test_piped_bytes_are_todays_bytes(piped, case, tmp_path):
    spec = SPECS[case]
    if "\n" in spec:
        (tmp_path / "s.yaml").write_text(spec)
        spec = str(tmp_path / "s.yaml")
    plan = load_plan(spec)
    today = "".join(text.iter_csv(run(plan))).encode()
    chunks = csvwriter.csv_chunks(run_chunks(plan, csvwriter.chunk_rows(plan.rows)), plan.rows)
    assert b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks) == today


def test_a_failing_run_and_bad_rows_are_formatted_the_same(piped, tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "param_groups: [{lr: 0.1}, {lr: 0.2}]\n"
        "scheduler: {type: LambdaLR, lr_lambda: '1 - epoch / 40'}\n"
        "run: {epochs: 100}\n"
    )
    plan = load_plan(str(spec))
    today = "".join(text.iter_csv(run(plan))).encode()
    chunks = csvwriter.csv_chunks(run_chunks(plan, 37), plan.rows)
    assert b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks) == today


def test_export_through_the_second_process_matches_table_csv(piped, tmp_path):
    out = tmp_path / "rows.csv"
    result = runner.invoke(app, ["export", "cosine_warm", "-o", str(out)])
    assert (result.exit_code, result.stderr) == (0, f"wrote {out}\n")
    table = runner.invoke(app, ["table", "cosine_warm", "--format", "csv"])
    assert out.read_bytes() == table.stdout_bytes
    fails = tmp_path / "fails.yaml"
    fails.write_text(
        "scheduler: {type: OneCycleLR, max_lr: 0.1, total_steps: 100}\nrun: {epochs: 150}\n"
    )
    result = runner.invoke(app, ["export", str(fails), "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"wrote {out}"
    assert out.read_text().splitlines()[-1].startswith("100,100,0,100.0,")


def test_a_formatter_failure_is_an_error_and_leaves_no_file(piped, tmp_path, monkeypatch):
    here, iter_csv = os.getpid(), text.iter_csv

    def broken(*args, **kwargs):
        if os.getpid() != here:  # only in the forked process, which sees this patch too
            raise ValueError("no text today")
        return iter_csv(*args, **kwargs)

    monkeypatch.setattr(text, "iter_csv", broken)
    out = tmp_path / "rows.csv"
    result = runner.invoke(app, ["export", "cosine_warm", "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr == (
        "internal error: RuntimeError: the CSV formatter process failed: ValueError: no text "
        "today; re-run with --debug for the traceback\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_small_runs_stay_in_this_process():
    assert not csvwriter.pipelined(csvwriter.MIN_ROWS - 1)
    assert csvwriter.chunk_rows(10) is None


def test_a_slow_formatter_gets_help_and_the_bytes_stay_in_order(piped, monkeypatch):
    here, iter_csv, local = os.getpid(), text.iter_csv, []

    def slow_there(*args, **kwargs):
        if os.getpid() != here:
            time.sleep(0.05)  # a formatter whose core is busy elsewhere
        else:
            local.append(1)
        return iter_csv(*args, **kwargs)

    plan = load_plan("cosine_warm")
    today = "".join(iter_csv(run(plan))).encode()
    monkeypatch.setattr(text, "iter_csv", slow_there)
    chunks = csvwriter.csv_chunks(run_chunks(plan, csvwriter.chunk_rows(plan.rows)), plan.rows)
    assert b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks) == today
    assert local  # this process formatted some chunks itself
