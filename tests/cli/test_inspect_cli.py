"""`lrviz diff`, `state`, `resume`, `code`: output formats, exit codes and every message."""

from __future__ import annotations

import csv
import io
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lrviz.cli import app
from lrviz.load import Options, load_plan
from lrviz.simulation import run

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


# --- diff -------------------------------------------------------------------------------------


def test_diff_table_counts_samples_and_explains():
    result = invoke("diff", "steplr", "--rows", "8")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "3 of 100 rows disagree" in lines
    assert "    30      30     0.01      0.001             =   re-applied  " in lines
    text = " ".join(result.stdout.split())
    assert (
        "steplr: get_lr() · closed form vs the lr (get_last_lr() is the lr on every row)"
    ) in text
    assert (
        "showing 8 of 100 rows (first, last, disagreeing rows, evenly spaced); --all shows "
        "every row, --format csv exports them"
    ) in text
    assert (
        "re-applied: get_lr() returned neither this row's nor the next row's lr on 3 rows "
        "(first: row 30, 0.0010000000000000002 while the lr is 0.010000000000000002): "
        "StepLR.get_lr() applies the update for step last_epoch to the current lr, which "
        "already includes it (a decay or warm-up factor applied twice). Read the lr with "
        "get_last_lr()."
    ) in text
    assert result.stderr == ""  # get_lr()'s own warning is the inspection's, not the run's


@pytest.mark.parametrize(
    ("spec", "verdict"),
    [
        ("exponentiallr", "ExponentialLR: get_lr() is not a getter — it computes the next "
         "step's lr; use get_last_lr()"),
        ("steplr", "StepLR: get_lr() is not a getter — it re-applies the last update; use "
         "get_last_lr()"),
        ("docs_sequential", "SequentialLR: get_lr() is not implemented; use get_last_lr()"),
        ("lambdalr", "LambdaLR: every getter agrees with the lr in use (get_last_lr() and "
         "get_lr())"),
    ],
)  # fmt: skip
def test_diff_table_opens_with_a_verdict(spec: str, verdict: str):
    result = runner.invoke(app, ["diff", spec], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == verdict
    assert "verdict" not in json.loads(invoke("diff", spec, "-f", "json").stdout)  # text only


def test_diff_csv_has_every_getter_per_group_at_full_precision():
    result = invoke("diff", "lambdalr", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == [
        "step", "epoch", "iter", "x",
        "lr_backbone", "get_last_lr_backbone", "get_lr_backbone",
        "lr_head", "get_last_lr_head", "get_lr_head",
        "disagreement",
    ]  # fmt: skip
    assert len(rows) == 1 + 50
    assert rows[2] == ["1", "1", "0", "1.0", "0.0095", "0.0095", "0.0095",
                       repr(0.1 / 1.1), repr(0.1 / 1.1), repr(0.1 / 1.1), ""]  # fmt: skip


def test_diff_csv_names_the_kinds_of_a_row():
    result = invoke("diff", "exponentiallr", "--format", "csv", "--epochs", "5")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["disagreement"] for r in rows] == [
        "get_lr_ahead", "get_lr_ahead", "get_lr_ahead",
        "get_lr_ahead closed_form_drift", "get_lr_ahead closed_form_drift",
    ]  # fmt: skip


def test_diff_json_rows_summary_and_nulls():
    result = invoke("diff", "docs_sequential", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["get_lr_raises"] == "NotImplementedError"
    assert doc["closed_form"] is False
    assert doc["rows"][2] == {
        "step": 2, "epoch": 2, "iter": 0, "x": 2.0, "lr": [1.0], "momentum": [0.0],
        "get_last_lr": [1.0], "get_lr": None, "closed_form": None, "disagree": [],
    }  # fmt: skip
    assert doc["summary"] == {"rows": 10, "disagreeing_rows": 0, "kinds": []}
    assert doc["error"] is None and doc["warnings"] == []

    result = invoke("diff", "polynomiallr", "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["get_lr_raises"] is None and doc["closed_form"] is True
    kinds = {k["id"]: k for k in doc["summary"]["kinds"]}
    assert set(kinds) == {"get_lr_reapplied", "closed_form_drift"}
    assert kinds["get_lr_reapplied"]["rows"] == 30
    assert doc["summary"]["disagreeing_rows"] == 30


def test_diff_lr_and_momentum_columns_are_the_tables():
    for name in ("onecyclelr_adam", "cycliclr_scale_fn"):
        diffed = json.loads(invoke("diff", name, "-f", "json").stdout)["rows"]
        table = json.loads(invoke("table", name, "-f", "json").stdout)["rows"]
        assert [(r["lr"], r["momentum"]) for r in diffed] == [
            (r["lr"], r["momentum"]) for r in table
        ]


def test_diff_reports_the_runs_own_warnings_like_table():
    args = ("steplr", "--step", "fractional", "--iters", "2", "--epochs", "3")
    diffed, table = invoke("diff", *args), invoke("table", *args)
    assert diffed.exit_code == table.exit_code == 0
    assert diffed.stderr == table.stderr
    assert diffed.stderr.startswith("warning: row 1 (×6): UserWarning: The epoch parameter in")


def test_diff_run_failure_exits_1_with_the_rows_before_it():
    result = invoke("diff", "onecyclelr", "--set", "scheduler.total_steps=10", "-f", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert len(doc["rows"]) == 11 and doc["error"]["step"] == 11
    assert result.stderr == (
        "error: run failed at row 11: ValueError: Tried to step 11 times. The specified number "
        "of total steps is 10 (rows 0..10 were produced)\n"
    )


# --- state ------------------------------------------------------------------------------------


def test_state_tree_nests_children():
    result = invoke("state", "docs_sequential", "--at", "3")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith(
        "docs_sequential: SequentialLR.state_dict() after 3 scheduler.step() calls"
    )
    for line in ("└── SequentialLR  scheduler", "    ├── _milestones: [2]",
                 "    ├── last_epoch: 3", "    └── _schedulers: the children's state dicts",
                 "        ├── [0] ConstantLR  scheduler.schedulers[0]",
                 "        └── [1] ExponentialLR  scheduler.schedulers[1]",
                 "            ├── gamma: 0.9"):  # fmt: skip
        assert line in out.splitlines(), line
    assert result.stderr == ""


def test_state_json():
    result = invoke("state", "lambdalr", "--at", "2", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert [doc[k] for k in ("name", "at", "rows", "scheduler")] == ["lambdalr", 2, 50, "LambdaLR"]
    state = doc["state"]
    assert state["class"] == "LambdaLR" and state["key"] == "scheduler"
    assert state["state"]["last_epoch"] == 2
    assert state["state"]["lr_lambdas"] == [None, None]
    assert state["functions_not_saved"] == {
        "lr_lambdas": ["0.95 ** epoch", "1 / (1 + 0.1 * epoch)"]
    }


@pytest.mark.parametrize("at", ["101", "-3"])
def test_state_out_of_range(at: str):
    result = invoke("state", "steplr", "--at", at)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: --at {at} is out of range for steplr: K must be 0..100 (K counts "
        f"scheduler.step() calls and the run has 100 rows; 0 is the freshly built scheduler)\n"
    )


def test_state_needs_at():
    result = invoke("state", "steplr")
    assert result.exit_code == 2
    assert result.stderr == "error: missing option '--at'; see 'lrviz state --help'\n"


def test_state_before_a_failure_is_shown_and_the_failure_noted():
    result = invoke("state", "onecyclelr", "--set", "scheduler.total_steps=10", "--at", "4")
    assert result.exit_code == 0
    assert "last_epoch: 4" in result.stdout
    assert result.stderr == (
        "note: the run fails later, at row 11: ValueError: Tried to step 11 times. The "
        "specified number of total steps is 10\n"
    )
    result = invoke("state", "onecyclelr", "--set", "scheduler.total_steps=10", "--at", "20")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: run failed at row 11: ValueError: Tried to step")


# --- resume -----------------------------------------------------------------------------------


def test_resume_single_k_text():
    result = invoke("resume", "steplr", "--at", "40")
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert text.startswith(
        "resume steplr (StepLR, 100 rows, order: optimizer_first): checkpoint after K=40 "
        "scheduler steps (saved just before row 40; rows 40..99 compared); both state dicts "
        "through torch.save → torch.load(weights_only=True) into a freshly built optimizer "
        "and scheduler, compared with the uninterrupted run (lr and momentum, every group)"
    )
    assert (
        "ok: the documented order (optimizer state, then scheduler state) resumes exactly"
    ) in text
    assert "load order: scheduler.load before optimizer.load gives the same rows" in text
    # each variant's builds and loads, one step per line, in the order a script runs them
    wide = runner.invoke(app, ["resume", "steplr", "--at", "40"], env={"COLUMNS": "120"})
    lines = [line.strip() for line in wide.stdout.splitlines()]
    heading = next(k for k, line in enumerate(lines) if line.startswith("resumed by (in order)"))
    assert re.split(r"  +", lines[heading]) == [
        "resumed by (in order)",
        "result",
        "first difference",
    ]
    steps = [line.split("  ")[0] for line in lines[heading + 2 : heading + 14]]
    assert steps == [
        "new optimizer + scheduler", "→ optimizer.load", "→ scheduler.load (documented)",
        "new optimizer + scheduler", "→ scheduler.load", "→ optimizer.load",
        "new optimizer + scheduler", "→ scheduler.load only",
        "new optimizer", "→ optimizer.load", "→ new scheduler", "→ scheduler.load",
    ]  # fmt: skip
    assert result.stderr == ""


def test_resume_json():
    result = invoke("resume", "exponentiallr", "--at", "10", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert (doc["at"], doc["ok"], doc["weights_only"], doc["rows"]) == (10, True, True, 30)
    variants = {v["id"]: v for v in doc["variants"]}
    assert list(variants) == ["documented", "scheduler_then_optimizer", "scheduler_only",
                              "optimizer_before_scheduler"]  # fmt: skip
    assert variants["documented"] == {
        "id": "documented",
        "label": "new optimizer + scheduler → optimizer.load → scheduler.load (documented)",
        "documented": True, "checkpoints": 1, "identical": 1, "first_difference": None,
        "rows_compared": 20, "rows_differing": 0,
    }  # fmt: skip
    lr = run(load_plan("exponentiallr")).lr
    assert variants["scheduler_only"]["first_difference"] == {
        "at": 10, "row": 10, "column": "lr", "group": "group0",
        "uninterrupted": float(lr[10, 0]), "resumed": 0.1,
    }  # fmt: skip
    assert variants["scheduler_only"]["rows_differing"] == 20


def test_resume_all():
    result = invoke("resume", "multisteplr", "--epochs", "40", "--at", "all", "-f", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["at"] == "all"
    variants = {v["id"]: v for v in doc["variants"]}
    assert variants["documented"]["identical"] == variants["documented"]["checkpoints"] == 40
    # Without the optimizer state a resume is right only before the first milestone (30).
    assert variants["scheduler_only"]["identical"] == 30
    assert variants["scheduler_only"]["first_difference"]["at"] == 30


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--at", "x"), "error: --at must be a step number K or 'all', not 'x'\n"),
        (("--at", "100"), "error: --at 100 is out of range for steplr: K must be 0..99 (K counts "
         "scheduler.step() calls and the run has 100 rows; resuming needs a row after the "
         "checkpoint)\n"),
        (("--at", "all", "--epochs", "1001"), "error: --at all resumes from every one of the "
         "1,001 rows (about 501,501 resumed rows per variant); it is refused above 1,000 rows: "
         "pick one K with --at K, or shorten the run with --epochs\n"),
    ],
)  # fmt: skip
def test_resume_bad_at(args: tuple[str, ...], message: str):
    result = invoke("resume", "steplr", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == message


def test_resume_that_differs_exits_1(monkeypatch: pytest.MonkeyPatch):
    from lrviz.inspect import resume as resume_mod

    real = resume_mod._restore

    def forgetful(plan, variant, ckpt):  # a torch whose documented order lost the optimizer
        return real(plan, "scheduler_only" if variant == "documented" else variant, ckpt)

    monkeypatch.setattr(resume_mod, "_restore", forgetful)
    result = invoke("resume", "steplr", "--at", "40")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: DIFFERS: the documented order does not resume exactly at 1 of 1 checkpoints; "
        "first at K=40, row 40: lr group0 0.010000000000000002 (uninterrupted) vs 0.1 "
        "(resumed)\n"
    )
    assert "DIFFERS: the documented order" in result.stdout


# --- one JSON shape -------------------------------------------------------------------------

HEAD = ["name", "torch_version", "scheduler", "step_mode", "order", "iters_per_epoch", "groups"]


def _json_docs(spec: str, *options: str, state_at: str, resume_at: str) -> dict[str, dict]:
    """The JSON document of table, diff, state and resume for one spec."""
    commands = {
        "table": ("table",),
        "diff": ("diff",),
        "state": ("state", "--at", state_at),
        "resume": ("resume", "--at", resume_at),
    }
    docs = {}
    for name, command in commands.items():
        result = invoke(*command, spec, *options, "-f", "json")
        assert result.exit_code == 0, (name, result.stderr)
        docs[name] = json.loads(result.stdout)
    return docs


def test_every_json_document_has_the_tables_header_and_tail():
    docs = _json_docs("lambdalr", "--iters", "2", state_at="3", resume_at="3")
    table = docs["table"]
    assert {k: table[k] for k in HEAD} == {
        "name": "lambdalr", "torch_version": table["torch_version"], "scheduler": "LambdaLR",
        "step_mode": "epoch", "order": "optimizer_first", "iters_per_epoch": 2,
        "groups": ["backbone", "head"],
    }  # fmt: skip
    for name, doc in docs.items():
        assert list(doc)[: len(HEAD)] == HEAD, name
        assert {k: doc[k] for k in HEAD} == {k: table[k] for k in HEAD}, name
        assert (doc["warnings"], doc["error"]) == ([], None), name
        assert doc["notes"][0] == "bundled preset 'lambdalr'", name


def test_non_finite_floats_are_written_one_way_in_every_json(tmp_path: Path):
    spec = tmp_path / "overflow.yaml"  # lr: 3e306, inf, inf, nan, -inf
    spec.write_text(
        'scheduler: {type: LambdaLR, lr_lambda: "1e307 * 10 ** epoch * (3 - epoch)"}\n'
        "run: {epochs: 5}\n"
    )
    docs = _json_docs(str(spec), state_at="4", resume_at="2")
    lrs = [[3e306], ["Infinity"], ["Infinity"], ["NaN"], ["-Infinity"]]
    assert [r["lr"] for r in docs["table"]["rows"]] == lrs
    assert [r["lr"] for r in docs["diff"]["rows"]] == lrs
    assert docs["state"]["state"]["state"]["_last_lr"] == ["-Infinity"]
    variants = {v["id"]: v for v in docs["resume"]["variants"]}
    assert variants["scheduler_only"]["first_difference"] == {
        "at": 2, "row": 2, "column": "lr", "group": "group0",
        "uninterrupted": "Infinity", "resumed": 3e306,
    }  # fmt: skip


# --- code -------------------------------------------------------------------------------------


def test_code_prints_plain_text_when_piped_and_it_runs():
    result = invoke("code", "cosine_warm", "--epochs", "3")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith('"""cosine_warm: the schedule lrviz simulates')
    assert "\x1b[" not in result.stdout  # no colour codes in a pipe
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(result.stdout, "<code>", "exec"), namespace)
    lr = run(load_plan("cosine_warm", Options(epochs=3))).lr
    assert np.array_equal(np.array(namespace["lrs"]), lr)


def test_code_writes_a_file(tmp_path: Path):
    out = tmp_path / "schedule.py"
    result = invoke("code", "steplr", "-o", str(out))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == f"wrote {out}\n"
    assert out.read_text() == invoke("code", "steplr").stdout


def test_code_refuses_to_overwrite_the_spec(tmp_path: Path):
    spec = tmp_path / "s.yaml"
    spec.write_text("scheduler: {type: StepLR, step_size: 2}\nrun: {epochs: 4}\n")
    result = invoke("code", str(spec), "-o", str(spec))
    assert result.exit_code == 2
    assert result.stderr == f"error: {spec}: refusing to overwrite the spec being read\n"
    assert spec.read_text().startswith("scheduler:")


def test_code_bad_spec_is_a_spec_error(tmp_path: Path):
    spec = tmp_path / "s.yaml"
    spec.write_text("scheduler: {type: StepLR, step_size: ten}\nrun: {epochs: 4}\n")
    result = invoke("code", str(spec))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {spec}:1: scheduler.step_size: expected an integer, got 'ten'\n"
    )


def test_every_command_has_help():
    for command in ("diff", "state", "resume", "code"):
        result = invoke(command, "--help")
        assert result.exit_code == 0
        assert "Usage: lrviz " + command in result.stdout


@pytest.mark.parametrize(
    "command", [("diff",), ("state", "--at", "0"), ("resume", "--at", "0"),
                ("resume", "--at", "all"), ("code",)]
)  # fmt: skip
def test_a_schedule_that_fails_at_row_0_is_a_run_error(command: tuple[str, ...]):
    result = invoke(*command, "LambdaLR", "--set", "scheduler.lr_lambda=1 / epoch", "--epochs", "3")
    assert result.exit_code == 1
    assert result.stderr.endswith(
        'error: run failed at row 0: ExprEvalError: lr_lambda "1 / epoch" failed at epoch=0: '
        "division by zero\n"
    )
