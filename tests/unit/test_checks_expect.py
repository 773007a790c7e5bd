"""The spec's expect: block (LRV017) and golden snapshots (LRV018), checked by `check`."""

from __future__ import annotations

from pathlib import Path

import torch

from lrviz.checks.golden import compare
from lrviz.checks.model import ERROR, Finding
from lrviz.checks.runner import check_spec
from lrviz.load import Options, load_plan
from lrviz.render.text import iter_csv
from lrviz.simulation import run

DATA = Path(__file__).parents[1] / "data" / "check"


def findings(name: str, *sets: str) -> list[Finding]:
    return check_spec(str(DATA / name), Options(tuple(sets))).findings


def _steplr_head_lrs() -> list[float]:
    """The 'head' group of expect_ok.yaml, from a plain torch loop."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    out = []
    for _ in range(100):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_expectations_that_hold_give_no_finding():
    lrs = _steplr_head_lrs()  # the values expect_ok.yaml states, from torch itself
    assert abs(lrs[-1] - 1e-4) <= 1e-6 * 1e-4 and lrs[30] == lrs[59] != 0.01
    assert findings("expect_ok.yaml") == []


def test_failed_expectations_name_expected_and_actual_at_their_line():
    lrs = _steplr_head_lrs()
    assert findings("expect_fail.yaml") == [
        Finding(
            "LRV017",
            ERROR,
            6,
            "expect.final_lr",
            f"final_lr: expected 0.001, got {lrs[99]!r} at row 99 (group0); tolerance rel "
            f"1e-06, abs 0",
        ),
        Finding(
            "LRV017",
            ERROR,
            8,
            "expect.monotonic",
            "monotonic decreasing: the lr (group0) stays at 0.1 at rows 0-1 (96 such steps)",
        ),
        Finding(
            "LRV017",
            ERROR,
            10,
            "expect.lr_at[0]",
            f"lr_at epoch 30: expected 0.02, got {lrs[30]!r} at row 30 (group0); tolerance rel "
            f"1e-06, abs 0",
        ),
        Finding(
            "LRV017", ERROR, 11, "expect.lr_at[1]", "lr_at epoch 150: beyond the run (epochs 0..99)"
        ),
    ]


def test_tolerances_and_groups():
    # group selects the column; abs widens the band; rel per lr_at item overrides the default
    assert findings("expect_ok.yaml", "expect.final_lr=0.0002") != []
    assert findings("expect_ok.yaml", "expect.final_lr=0.0002", "expect.abs=1e-4") == []
    assert findings("expect_ok.yaml", "expect.group=backbone", "expect.max_lr=0.01") != []
    assert (
        findings(
            "expect_ok.yaml",
            "expect.group=backbone",
            "expect.max_lr=0.01",
            "expect.min_lr=1e-5",
            "expect.final_lr=1e-5",
            "expect.lr_at=[{epoch: 30, lr: 0.001}]",
        )
        == []
    )


def test_monotonic_kinds():
    cases = {"non_increasing": [], "non_decreasing": ["LRV017"], "increasing": ["LRV017"]}
    for kind, rules in cases.items():
        assert [f.rule for f in findings("expect_ok.yaml", f"expect.monotonic={kind}")] == rules
    rising = findings("expect_ok.yaml", "expect.monotonic=non_decreasing")[0].message
    assert rising == (
        "monotonic non_decreasing: the lr (head) falls from 0.1 at row 29 to "
        "0.010000000000000002 at row 30 (3 such steps)"
    )


def test_per_batch_epoch_means_the_first_batch_of_the_epoch():
    found = findings(
        "lrv004_unit_batch.yaml",
        "scheduler.T_max=500",
        "expect.lr_at=[{epoch: 1, lr: 0.5}, {step: 50, lr: 0.5}, {step: 500, lr: 0}]",
    )
    assert [f.message.split(":")[0] for f in found] == [
        "lr_at epoch 1",
        "lr_at step 50",
        "lr_at step 500",
    ]
    assert found[0].message.endswith("at row 50 (group0); tolerance rel 1e-06, abs 0")
    assert found[2].message == "lr_at step 500: beyond the run (steps 0..499)"


def test_malformed_expect_block_is_a_spec_error_per_value():
    assert findings("expect_bad.yaml") == [
        Finding("LRV001", ERROR, 6, "expect.final_lr", "expected a finite number, got 'small'"),
        Finding(
            "LRV001",
            ERROR,
            7,
            "expect.monotonic",
            "expected one of decreasing, increasing, non_increasing, non_decreasing, got 'down'",
        ),
        Finding("LRV001", ERROR, 8, "expect.group", "no param group 'heads' (groups: group0)"),
        Finding("LRV001", ERROR, 9, "expect.rel", "expected a number >= 0, got -1"),
        Finding("LRV001", ERROR, 11, "expect.lr_at[0]", "missing lr: the expected value"),
        Finding("LRV001", ERROR, 12, "expect.lr_at[1]", "give exactly one of epoch: or step:"),
        Finding(
            "LRV001",
            ERROR,
            13,
            "expect.lr_at[2]",
            "expected a mapping such as {epoch: 30, lr: 0.005}, got 0.5",
        ),
    ]


def test_unknown_expect_key_is_caught_by_the_spec_parser():
    assert findings("expect_ok.yaml", "expect.final=1") == [
        Finding(
            "LRV001",
            ERROR,
            None,
            "expect.final",
            "--set expect.final=1: unknown key; did you mean 'final_lr'?",
        )
    ]


def test_expectations_on_rows_a_failed_run_did_not_produce():
    found = findings(
        "lrv002_onecycle.yaml", "expect.final_lr=0.1", "expect.lr_at=[{step: 15, lr: 0.1}]"
    )
    assert [(f.rule, f.message) for f in found] == [
        ("LRV017", "final_lr: the last row was not produced (the run failed at row 11)"),
        ("LRV017", "lr_at step 15: row 15 was not produced (the run failed at row 11)"),
        ("LRV002", found[2].message),
    ]


# --- golden snapshots ------------------------------------------------------------------------


def _golden(tmp_path: Path, name: str = "steplr", *sets: str) -> Path:
    path = tmp_path / "golden.csv"
    path.write_text("".join(iter_csv(run(load_plan(name, Options(tuple(sets)))))))
    return path


def test_golden_identical_rows_pass(tmp_path: Path):
    trace = run(load_plan("cosine_warm"))
    assert compare(trace, _golden(tmp_path, "cosine_warm")) == []


def test_golden_reports_first_differing_row_column_and_both_values(tmp_path: Path):
    golden = _golden(tmp_path)
    trace = run(load_plan("steplr", Options(("scheduler.gamma=0.2",))))
    assert compare(trace, golden, spec_arg="steplr") == [
        Finding(
            "LRV018",
            ERROR,
            None,
            None,
            f"differs from golden {golden} at row 30, column lr_group0: golden "
            f"0.010000000000000002, now 0.020000000000000004 (relative difference 0.5, rtol "
            f"1e-12); 70 of 100 rows differ",
        )
    ]


def test_golden_tolerance(tmp_path: Path):
    golden = tmp_path / "golden.csv"
    text = "".join(iter_csv(run(load_plan("exponentiallr"))))
    golden.write_text(text.replace("0.09000000000000001,", "0.0900000001,"))  # rel 1.1e-9
    trace = run(load_plan("exponentiallr"))
    assert [f.message.split(":")[0] for f in compare(trace, golden)] == [
        f"differs from golden {golden} at row 1, column lr_group0"
    ]
    assert compare(trace, golden, rtol=1e-8) == []


def test_golden_row_count_and_columns(tmp_path: Path):
    golden = _golden(tmp_path)
    shorter = run(load_plan("steplr", Options(epochs=90)))
    assert [f.message for f in compare(shorter, golden)] == [
        f"golden {golden} has 100 rows, the run has 90"
    ]
    other = run(load_plan("lambdalr"))
    assert [f.message for f in compare(other, golden)] == [
        f"columns differ from golden {golden}: golden has step, epoch, iter, x, lr_group0, "
        f"momentum_group0; the run has step, epoch, iter, x, lr_backbone, lr_head, "
        f"momentum_backbone, momentum_head"
    ]


def test_golden_missing_or_unreadable(tmp_path: Path):
    trace = run(load_plan("steplr"))
    missing = tmp_path / "nope.csv"
    assert [f.message for f in compare(trace, missing, spec_arg="steplr")] == [
        f"no golden file {missing}; write it with: lrviz snapshot steplr -o {missing}"
    ]
    junk = tmp_path / "junk.csv"
    junk.write_text("step,epoch\n0,zero\n")
    assert [f.message for f in compare(trace, junk)] == [
        f"golden file {junk} is not an lrviz CSV: could not convert string to float: 'zero'"
    ]
