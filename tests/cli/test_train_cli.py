"""`lrviz train`: outputs, the table's rows, determinism and every bad input's message."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lrviz.cli import app

runner = CliRunner()
SMALL = ("--limit", "64", "--batch-size", "16", "--epochs", "2")  # 4 batches per epoch


def invoke(*args: str):
    return runner.invoke(app, ["train", *args])


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def trained(name: str, epochs: int, batches: int, test_acc: str) -> str:
    return (
        f"trained {name}: {epochs} epoch{'' if epochs == 1 else 's'} × {batches} batches, "
        f"test accuracy {100 * float(test_acc):.1f}%\n"
    )


def test_csv_on_stdout_has_every_epoch_and_the_tables_lr():
    result = invoke("steplr", *SMALL, "--set", "scheduler.step_size=1", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    rows = rows_of(result.stdout)
    assert result.stdout.splitlines()[0] == (
        "spec,epoch,lr_group0,train_loss,train_acc,test_loss,test_acc"
    )
    assert [(r["spec"], r["epoch"], r["lr_group0"]) for r in rows] == [
        ("steplr", "0", "0.1"),
        ("steplr", "1", "0.010000000000000002"),
    ]
    assert result.stderr == trained("steplr", 2, 4, rows[-1]["test_acc"])


def test_each_epochs_lr_is_lrviz_tables_row_at_its_first_batch():
    result = invoke("onecyclelr", *SMALL, "-f", "csv")
    assert result.exit_code == 0, result.stderr
    table = runner.invoke(
        app, ["table", "onecyclelr", "--epochs", "2", "--iters", "4", "-f", "csv"]
    )
    assert table.exit_code == 0
    steps = rows_of(table.stdout)
    assert [r["lr_group0"] for r in rows_of(result.stdout)] == [
        steps[0]["lr_group0"],
        steps[4]["lr_group0"],
    ]


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    assert invoke("textbook_cosine", *SMALL, "-o", str(a)).exit_code == 0
    assert invoke("textbook_cosine", *SMALL, "-o", str(b)).exit_code == 0
    assert a.read_bytes() == b.read_bytes()
    assert invoke("textbook_cosine", *SMALL, "--seed", "1", "-o", str(c)).exit_code == 0
    assert c.read_bytes() != a.read_bytes()


def test_files_by_extension(tmp_path: Path):
    outs = [tmp_path / f"runs.{ext}" for ext in ("csv", "json", "png", "svg")]
    args = [a for path in outs for a in ("-o", str(path))]
    result = invoke("steplr", "cosine_warm", *SMALL, *args, "-f", "csv")
    assert result.exit_code == 0, result.stderr
    assert outs[0].read_text() == result.stdout
    rows = rows_of(result.stdout)
    assert result.stderr == (
        trained("steplr", 2, 4, rows[1]["test_acc"])
        + trained("cosine_warm", 2, 4, rows[3]["test_acc"])
        + "".join(f"wrote {path}\n" for path in outs)
    )
    doc = json.loads(outs[1].read_text())
    assert {k: doc[k] for k in ("data", "train_images", "test_images", "model", "seed")} == {
        "data": "scikit-learn digits (8×8)",
        "train_images": 64,
        "test_images": 16,
        "model": "lenet",
        "seed": 0,
    }
    assert [r["name"] for r in doc["runs"]] == ["steplr", "cosine_warm"]
    assert doc["runs"][1]["parts"] == ["backbone", "head"]
    assert outs[2].read_bytes().startswith(b"\x89PNG")
    assert outs[3].read_text().lstrip().startswith("<?xml")


def test_table_shows_setup_header_every_epoch_and_the_summary():
    result = invoke("textbook_sqrt", "textbook_constant", *SMALL, "--model", "mlp")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "mlp on scikit-learn digits (8×8): 64 training images in batches of 16, 16 held out · "
        "seed 0"
    )
    out = result.stdout
    assert "LambdaLR · step: epoch · order: optimizer_first · 8 rows (2 epochs × 4 iters)" in out
    assert "note: run.iters_per_epoch: 4 (the training data's batches per epoch)" in out
    assert "param groups: group0: the whole model" in out
    assert "after the last epoch" in out and "test acc" in out.split("after the last epoch")[1]


def test_plateau_json_shows_the_losses_it_stepped_on():
    result = invoke("reducelronplateau", *SMALL, "-f", "json")
    assert result.exit_code == 0, result.stderr
    (run,) = json.loads(result.stdout)["runs"]
    assert run["plateau_metrics"] == [e["test_loss"] for e in run["epochs"]]
    assert run["notes"][-1] == (
        "ReduceLROnPlateau is fed the held-out loss of the model as it steps "
        "(run.metrics is not used)"
    )


def test_a_scheduler_failure_exits_1_with_the_rows_before_it():
    result = invoke("onecyclelr", *SMALL, "--set", "scheduler.total_steps=5", "-f", "csv")
    assert result.exit_code == 1
    rows = rows_of(result.stdout)
    assert len(rows) == 1  # epoch 0 (rows 0-3) finished
    assert result.stderr == (
        trained("onecyclelr", 1, 4, rows[0]["test_acc"])
        + "error: run failed at row 6: ValueError: Tried to step 6 times. The specified number "
        "of total steps is 5 (rows 0..5 were produced)\n"
    )


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("adam_param_groups",),
            "error: preset adam_param_groups:8: param_groups[0].name: group 'encoder' names no "
            "part of the model (its parts: backbone, head); name each group after a part, or "
            "use one group for the whole model\n",
        ),
        (
            ("steplr", "--iters", "10"),
            "error: --iters: lrviz train takes the batches per epoch from the data; use "
            "--batch-size (or --limit)\n",
        ),
        (
            ("steplr", "--model", "resnet"),
            "error: --model must be one of lenet, mlp, not 'resnet'\n",
        ),
        (
            ("steplr", "-o", "runs.txt"),
            "error: runs.txt: unknown extension '.txt'; the formats are .csv, .json, .png, "
            ".svg, .pdf\n",
        ),
        (
            ("steplr", "nosuch"),
            "error: 'nosuch' is not a file, a bundled preset or a scheduler class (see 'lrviz "
            "list')\n",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2_before_training(args, message):
    result = invoke(*args, *SMALL)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message)


def test_without_scikit_learn_it_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    result = invoke("steplr", *SMALL)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "error: lrviz train needs scikit-learn for the digits data: pip install 'lrviz[train]'\n"
    )


def test_refuses_to_overwrite_a_json_spec(tmp_path: Path):
    spec = tmp_path / "spec.json"
    spec.write_text('{"scheduler": {"type": "StepLR", "step_size": 2}, "run": {"epochs": 2}}')
    result = invoke(str(spec), "-o", str(spec), *SMALL)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"error: {spec}: refusing to overwrite the spec being read\n"
