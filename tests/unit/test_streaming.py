"""Streaming: a run in chunks is the same run, and CSV export never holds the whole trace."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from lrviz.cli import app
from lrviz.load import Options, load_plan
from lrviz.simulation import run, run_chunks

runner = CliRunner()


def _concat(plan, size):
    parts = []
    for part in run_chunks(plan, size):
        parts.append((part.offset, part.lr.copy(), part.momentum.copy(), part.warnings, part.error))
    return parts


@pytest.mark.parametrize(
    ("spec", "options"),
    [
        ("onecyclelr", Options()),
        ("cosine_warm", Options()),
        ("steplr", Options(("run.order=scheduler_first",), step="fractional", iters=3, epochs=9)),
        ("reducelronplateau", Options()),
    ],
)
@pytest.mark.parametrize("size", [1, 7, 64, 10_000])
def test_chunks_concatenate_to_the_whole_run(spec, options, size):
    plan = load_plan(spec, options)
    whole = run(plan)
    parts = _concat(plan, size)
    assert [p[0] for p in parts] == list(range(0, whole.rows, min(size, whole.rows)))
    assert np.array_equal(np.concatenate([p[1] for p in parts]), whole.lr)
    assert np.array_equal(np.concatenate([p[2] for p in parts]), whole.momentum, equal_nan=True)
    assert parts[-1][3] == whole.warnings and parts[-1][4] == whole.error


def test_a_failing_run_stops_in_the_chunk_where_it_fails(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "scheduler: {type: OneCycleLR, max_lr: 0.1, total_steps: 10}\nrun: {epochs: 15}\n"
    )
    plan = load_plan(str(spec))
    parts = list(run_chunks(plan, 4))
    assert [p.offset for p in parts] == [0, 4, 8]
    assert parts[-1].rows == 3 and parts[-1].error is not None and parts[-1].error.step == 11
    assert [p.positions()[0].tolist() for p in parts][-1] == [8, 9, 10]


def _table_csv(*args):
    result = runner.invoke(app, ["table", *args, "--format", "csv"])
    return result.stdout, result.stderr, result.exit_code


def test_csv_export_streams_the_same_bytes_as_table(tmp_path):
    out_a, out_b = tmp_path / "a.csv", tmp_path / "b.csv"
    result = runner.invoke(app, ["export", "cosine_warm", "-o", str(out_a), "-o", str(out_b)])
    assert result.exit_code == 0
    stdout, _, _ = _table_csv("cosine_warm")
    assert out_a.read_text() == stdout and out_b.read_text() == stdout


@pytest.mark.parametrize(
    "text",
    [
        "scheduler: {type: OneCycleLR, max_lr: 0.1, total_steps: 10}\nrun: {epochs: 15}\n",
        "scheduler: {type: LambdaLR, lr_lambda: '1 - epoch / 2'}\nrun: {epochs: 6}\n",
    ],
    ids=["failure", "negative-lr"],
)
def test_streamed_export_reports_like_table(tmp_path, text):
    spec = tmp_path / "s.yaml"
    spec.write_text(text)
    out = tmp_path / "rows.csv"
    result = runner.invoke(app, ["export", str(spec), "-o", str(out)])
    stdout, stderr, code = _table_csv(str(spec))
    assert result.exit_code == code
    assert out.read_text() == stdout
    assert result.stderr == f"wrote {out}\n" + stderr


def test_streaming_export_is_not_refused_for_memory(tmp_path, monkeypatch):
    import lrviz.build

    monkeypatch.setattr(lrviz.build, "_available_memory", lambda: 1024)  # 1 KiB free
    refused = runner.invoke(app, ["table", "steplr", "--format", "csv"])
    assert refused.exit_code == 2 and "more than half the free memory" in refused.stderr
    out = tmp_path / "rows.csv"
    result = runner.invoke(app, ["export", "steplr", "-o", str(out)])
    assert result.exit_code == 0 and len(out.read_text().splitlines()) == 101
