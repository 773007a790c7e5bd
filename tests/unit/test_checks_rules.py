"""Each lint rule: a spec that triggers it (exact finding) and a close variant that does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from lrviz.checks.model import ERROR, WARNING, Finding
from lrviz.checks.registry import RULES
from lrviz.checks.rules import CHECKS
from lrviz.checks.runner import check_spec
from lrviz.load import Options
from lrviz.presets import preset_names

DATA = Path(__file__).parents[1] / "data" / "check"


def findings(name: str, *sets: str, **kw) -> list[Finding]:
    return check_spec(str(DATA / name), Options(tuple(sets)), **kw).findings


def of(rule: str, found: list[Finding]) -> list[Finding]:
    return [f for f in found if f.rule == rule]


def test_every_registered_rule_has_a_check_or_a_producer():
    checked = {rule for rule, _ in CHECKS}
    produced_elsewhere = {"LRV000", "LRV001", "LRV017", "LRV018"}  # runner, expect, golden
    assert checked | produced_elsewhere == set(RULES)
    assert not checked & produced_elsewhere
    assert all(r.severity in (ERROR, WARNING) for r in RULES.values())


def test_lrv001_spec_errors_become_one_finding_per_problem():
    assert findings("lrv001_spec_error.yaml") == [
        Finding("LRV001", ERROR, 4, "scheduler.step_size", "expected an integer, got 'ten'"),
        Finding("LRV001", ERROR, 7, "run.epoch", "unknown key; did you mean 'epochs'?"),
    ]
    assert findings("lrv001_spec_error.yaml", "scheduler.step_size=10", "run.epoch=null") == [
        Finding(
            "LRV001",
            ERROR,
            None,
            "run.epoch",
            "--set run.epoch=null: unknown key; did you mean 'epochs'?",
        )
    ]


def test_lrv001_yaml_syntax_error():
    assert findings("lrv001_yaml_error.yaml") == [
        Finding(
            "LRV001",
            ERROR,
            5,
            None,
            "YAML syntax error: expected ',' or ']', but got ':' (column 4)",
        )
    ]


def test_lrv002_onecycle_stepped_past_total_steps():
    assert findings("lrv002_onecycle.yaml") == [
        Finding(
            "LRV002",
            ERROR,
            6,
            "scheduler.total_steps",
            "the run fails at row 11 (epoch 1, iter 1): ValueError: Tried to step 11 times. "
            "The specified number of total steps is 10 (rows 0..10 were produced)",
        )
    ]
    assert findings("lrv002_onecycle.yaml", "scheduler.total_steps=20") == []


def test_lrv002_lambda_dividing_by_zero_points_at_the_expression():
    assert findings("lrv002_lambda.yaml") == [
        Finding(
            "LRV002",
            ERROR,
            4,
            "scheduler.lr_lambda",
            'the run fails at row 5 (epoch 5): ExprEvalError: lr_lambda "1 / (5 - epoch)" '
            "failed at epoch=5: division by zero (rows 0..4 were produced)",
        )
    ]


def test_lrv002_variant_without_zero_division_is_clean():
    assert findings("lrv002_lambda.yaml", 'scheduler.lr_lambda="1 / (50 + epoch)"') == []


def test_lrv003_cosine_horizon_shorter_than_the_run():
    assert findings("lrv003_cosine_short.yaml") == [
        Finding(
            "LRV003",
            WARNING,
            5,
            "scheduler.T_max",
            "T_max=30 is shorter than the run (99 scheduler steps): the lr reaches its minimum "
            "0.0001 at row 30 (epoch 30) and climbs back to 0.0206901 by row 99; set T_max to "
            "at least 99",
        )
    ]
    assert findings("lrv003_cosine_short.yaml", "scheduler.T_max=99") == []


def test_lrv004_horizon_in_epochs_while_stepping_per_batch():
    assert findings("lrv004_unit_batch.yaml") == [
        Finding(
            "LRV004",
            WARNING,
            5,
            "scheduler.T_max",
            "T_max=10 matches run.epochs (10) but the scheduler steps once per batch (500 "
            "rows): the lr reaches its floor at row 10 (epoch 0, iter 10), 2.0% of the run (lr "
            "0 there); multiply by iters_per_epoch (50) or use run.step: epoch",
        )
    ]
    assert findings("lrv004_unit_batch.yaml", "run.step=epoch") == []
    assert findings("lrv004_unit_batch.yaml", "scheduler.T_max=500") == []


def test_lrv004_horizon_in_batches_while_stepping_per_epoch():
    found = findings("lrv004_unit_epoch.yaml")
    assert of("LRV004", found) == [
        Finding(
            "LRV004",
            WARNING,
            5,
            "scheduler.step_size",
            "step_size=500 matches the batch count (10 epochs × 50 iters) but the scheduler "
            "steps once per epoch (run.step: epoch): the lr would make its first decay after "
            "500 steps, 5,000% of the run; divide by iters_per_epoch (50) or use run.step: batch",
        )
    ]
    assert [f.rule for f in found] == ["LRV004", "LRV008"]  # and so the lr never changes
    assert findings("lrv004_unit_epoch.yaml", "scheduler.step_size=5") == []


def test_lrv004_points_at_the_child_of_a_composite():
    found = check_spec("warmup_cosine", Options(epochs=100, iters=10, step="batch")).findings
    assert [(f.rule, f.line, f.key) for f in found] == [
        ("LRV004", 16, "scheduler.schedulers[1].T_max")
    ]
    assert found[0].message.startswith(
        "T_max=95 (from milestone 5, so ending at step 100) matches run.epochs (100) but the "
        "scheduler steps once per batch (1,000 rows): the lr reaches its floor at row 100"
    )


def test_lrv005_negative_lr():
    assert findings("lrv005_negative.yaml") == [
        Finding(
            "LRV005",
            ERROR,
            6,
            "scheduler.eta_min",
            "the lr is negative from row 9 (epoch 9) on (-0.00730811; 1 of 10 rows): torch "
            "optimizers accept a negative lr and ascend the gradient",
        )
    ]
    assert findings("lrv005_negative.yaml", "scheduler.eta_min=0") == []


def test_lrv005_non_finite_lr():
    found = findings("lrv005_negative.yaml", "optimizer.lr=.inf", "scheduler.eta_min=0")
    assert [(f.rule, f.message) for f in found] == [
        (
            "LRV005",
            "the lr is not finite from row 0 (epoch 0) on (inf; 10 of 10 rows): a NaN or "
            "infinite lr destroys the weights",
        )
    ]


def test_lrv006_per_batch_scheduler_stepped_per_epoch():
    assert findings("lrv006_onecycle_epoch.yaml") == [
        Finding(
            "LRV006",
            WARNING,
            9,
            "run.step",
            "OneCycleLR is meant to be stepped once per batch, but run.step is epoch with 50 "
            "batches per epoch: the lr changes once per epoch and total_steps counts epochs; use "
            "run.step: batch",
        )
    ]
    assert findings("lrv006_onecycle_epoch.yaml", "run.step=batch") == []


def test_lrv007_warm_restarts_ending_mid_cycle():
    assert findings("lrv007_cawr_mid_cycle.yaml") == [
        Finding(
            "LRV007",
            WARNING,
            9,
            "run.epochs",
            "the run ends mid-cycle: the last row, row 19 (epoch 19), uses lr 0.0578639, 58% of "
            "the way from eta_min 0.0001 up to 0.1; restarts at epochs 10; runs of 10 or 30 "
            "epochs end on a cycle boundary (run.epochs is 20)",
        )
    ]
    assert findings("lrv007_cawr_mid_cycle.yaml", "run.epochs=30") == []


def test_lrv007_fractional_loop_lists_the_late_restarts():
    found = check_spec("cosine_warm", Options(epochs=30)).findings
    assert [f.message for f in found] == [
        "the run ends mid-cycle: the last row, row 599 (epoch 29, iter 19), uses lr "
        "0.00152892, 15% of the way from eta_min 1e-05 up to 0.01; restarts at epochs 5.05, "
        "15.05; runs of 15 or 35 epochs end on a cycle boundary (run.epochs is 30)"
    ]


def test_lrv008_lr_never_changes():
    assert findings("lrv008_constant.yaml") == [
        Finding(
            "LRV008",
            WARNING,
            5,
            "scheduler.step_size",
            "the lr never changes: all 100 rows use 0.1; step_size=200 is beyond the run (99 "
            "scheduler steps)",
        )
    ]
    assert findings("lrv008_constant.yaml", "scheduler.step_size=50") == []


def test_lrv009_duplicated_and_late_multistep_milestones():
    assert findings("lrv009_multistep.yaml") == [
        Finding(
            "LRV009",
            WARNING,
            5,
            "scheduler.milestones[1]",
            "milestone 30 is listed 2 times, so gamma is applied 2 times at once: the lr drops "
            "from 0.1 to 0.001 at row 30 (epoch 30)",
        ),
        Finding(
            "LRV009",
            WARNING,
            5,
            "scheduler.milestones[2]",
            "milestone 120 is beyond the run (99 scheduler steps): that decay never happens",
        ),
    ]
    assert findings("lrv009_multistep.yaml", "scheduler.milestones=[30, 60]") == []


def test_lrv009_milestone_zero():
    found = findings("lrv009_multistep.yaml", "scheduler.milestones=[0, 60]")
    assert [(f.rule, f.key, f.message) for f in found] == [
        (
            "LRV009",
            "scheduler.milestones[0]",
            "milestone 0: MultiStepLR applies gamma at construction, so row 0 already uses "
            "0.01 instead of the optimizer's 0.1",
        )
    ]


def test_lrv009_unsorted_sequential_milestones():
    assert findings("lrv009_sequential_unsorted.yaml") == [
        Finding(
            "LRV009",
            WARNING,
            9,
            "scheduler.milestones[1]",
            "milestones [20, 5] are not in increasing order (5 after 20): SequentialLR picks its "
            "scheduler with bisect, so schedulers[1] (ConstantLR) never runs",
        )
    ]
    assert findings("lrv009_sequential_unsorted.yaml", "scheduler.milestones=[5, 20]") == []


def test_lrv010_sequential_warmup_shorter_than_its_milestone():
    assert findings("lrv010_warmup_plateau.yaml") == [
        Finding(
            "LRV010",
            WARNING,
            8,
            "scheduler.schedulers[0].total_iters",
            "total_iters=3 but SequentialLR switches to schedulers[1] (CosineAnnealingLR) at "
            "milestone 5, 5 steps after LinearLR starts: the lr plateaus at 0.1 for rows 3-4 "
            "before the switch",
        )
    ]
    assert findings("lrv010_warmup_plateau.yaml", "scheduler.schedulers.0.total_iters=5") == []


def test_lrv010_sequential_warmup_longer_than_its_milestone():
    found = findings("lrv010_warmup_plateau.yaml", "scheduler.schedulers.0.total_iters=10")
    assert [f.message for f in found] == [
        "total_iters=10 but SequentialLR switches to schedulers[1] (CosineAnnealingLR) at "
        "milestone 5, 5 steps after LinearLR starts: LinearLR is cut short after 5 of its 10 "
        "steps and the lr jumps from 0.046 at row 4 to 0.1 at row 5"
    ]


def test_lrv011_chained_scheduler_with_an_overwriting_child():
    assert findings("lrv011_chained_lambda.yaml") == [
        Finding(
            "LRV011",
            WARNING,
            7,
            "scheduler.schedulers[1]",
            "LambdaLR (schedulers[1]) sets the lr from base_lr on every step, so "
            "ChainedScheduler discards the factors of schedulers[0] (LinearLR)",
        )
    ]
    variant = "scheduler.schedulers.1={type: ExponentialLR, gamma: 0.95}"
    assert findings("lrv011_chained_lambda.yaml", variant) == []


def test_lrv012_cycle_momentum_on_sgd_without_momentum():
    assert findings("lrv012_cycle_momentum.yaml") == [
        Finding(
            "LRV012",
            WARNING,
            3,
            "scheduler",
            "cycle_momentum is on, so OneCycleLR sets SGD momentum to 0.85..0.95 during the run "
            "although the optimizer has group0: no momentum (default 0); set cycle_momentum: "
            "false or configure momentum",
        )
    ]
    assert findings("lrv012_cycle_momentum.yaml", "scheduler.cycle_momentum=false") == []
    assert findings("lrv012_cycle_momentum.yaml", "optimizer.momentum=0.9") == []


def test_lrv013_negative_metrics_with_rel_threshold():
    found = findings("lrv013_negative_metrics.yaml")
    assert of("LRV013", found) == [
        Finding(
            "LRV013",
            WARNING,
            10,
            "run.metrics[0]",
            "8 of the 8 metrics are negative (first -1 at step 0) and threshold_mode is rel: the "
            "threshold best × (1 ∓ threshold) then lies on the wrong side of best, so a slightly "
            "worse metric counts as an improvement; use threshold_mode: abs",
        )
    ]
    assert [f.rule for f in found] == ["LRV008", "LRV013"]  # the consequence: never reduced
    assert findings("lrv013_negative_metrics.yaml", "scheduler.threshold_mode=abs") == []


def test_lrv013_nan_metric():
    found = findings("lrv013_nan_metrics.yaml")
    assert of("LRV013", found) == [
        Finding(
            "LRV013",
            WARNING,
            8,
            "run.metrics[2]",
            "1 of the 5 metrics is NaN (first at step 2): ReduceLROnPlateau counts NaN as a bad "
            "epoch",
        )
    ]
    assert not of("LRV013", findings("lrv013_nan_metrics.yaml", "run.metrics.2=0.85"))


def test_lrv014_lr_underflows_long_before_the_end():
    assert findings("lrv014_underflow.yaml") == [
        Finding(
            "LRV014",
            WARNING,
            5,
            "scheduler.gamma",
            "the lr of group0 falls to 9.53674e-08 at row 20 (epoch 20), below a millionth of "
            "its peak 0.1, and stays there for the last 80 rows (80% of the run)",
        )
    ]
    assert findings("lrv014_underflow.yaml", "scheduler.gamma=0.9") == []


def test_lrv015_torch_warnings_with_row_and_count():
    found = findings("lrv015_torch_warning.yaml")
    assert [(f.rule, f.line, f.key) for f in found] == [("LRV015", 9, "run.step")]
    assert found[0].message.startswith(
        "torch warned 8 times, first at row 1 (epoch 0, iter 1): UserWarning: The epoch "
        "parameter in `scheduler.step()` was not necessary and is being deprecated"
    )
    assert findings("lrv015_torch_warning.yaml", "run.step=epoch") == []


def test_lrv015_order_warning_points_at_run_order():
    found = check_spec("steplr", Options(("run.order=scheduler_first",))).findings
    assert [(f.rule, f.key) for f in found] == [("LRV015", "run.order")]
    assert found[0].message.startswith(
        "torch warned once, first at row 0 (epoch 0): UserWarning: Detected call of "
        "`lr_scheduler.step()` before `optimizer.step()`."
    )


def test_lrv016_cawr_step_epoch_skips_a_restart():
    found = findings("lrv016_cawr_log.yaml")
    assert of("LRV016", found) == [
        Finding(
            "LRV016",
            WARNING,
            6,
            "scheduler.T_mult",
            "step(epoch) skips the restart at epoch 121: math.log rounding puts it at the end of "
            "the previous cycle, so row 243 (epoch 121, iter 1) uses lr 0 instead of 1 (T_0=1, "
            "T_mult=3); the plain step() path (run.step: batch with T_0 in batches, or epoch) "
            "restarts correctly",
        )
    ]
    assert findings("lrv016_cawr_log.yaml", "scheduler.T_mult=2") == []
    assert not of("LRV016", findings("lrv016_cawr_log.yaml", "run.step=batch"))


def test_spec_level_ignore_silences_and_counts():
    result = check_spec(str(DATA / "ignored.yaml"))
    assert (result.findings, result.silenced) == ([], 1)


def test_command_line_ignore_silences_and_counts():
    result = check_spec(str(DATA / "lrv003_cosine_short.yaml"), ignore=frozenset({"LRV003"}))
    assert (result.findings, result.silenced) == ([], 1)


def test_bad_ignore_entries_are_spec_errors():
    result = check_spec(str(DATA / "bad_ignore.yaml"))
    assert result.findings == [
        Finding(
            "LRV003",
            WARNING,
            5,
            "scheduler.T_max",
            "T_max=30 is shorter than the run (99 scheduler steps): the lr reaches its minimum "
            "0 at row 30 (epoch 30) and climbs back to 0.0206107 by row 99; set T_max to at "
            "least 99",
        ),
        Finding(
            "LRV001",
            ERROR,
            9,
            "check.ignore[0]",
            "unknown rule 'LRV03'; did you mean 'LRV003'? (see 'lrviz rules')",
        ),
        Finding("LRV001", ERROR, 9, "check.ignore[1]", "LRV001 cannot be silenced"),
    ]


def test_spec_errors_cannot_be_silenced():
    result = check_spec(str(DATA / "lrv001_spec_error.yaml"), ignore=frozenset({"LRV001"}))
    assert [f.rule for f in result.findings] == ["LRV001", "LRV001"] and result.silenced == 0


@pytest.mark.parametrize("name", preset_names())
def test_bundled_presets_are_clean(name: str):
    assert check_spec(name).findings == []


def test_lrv019_hf_warmup_ratio_names_its_replacement():
    from lrviz.formats import hf

    release = hf.installed()
    assert release is not None
    found = findings("lrv019_hf_warmup_ratio.yaml")
    if release.major_minor >= hf.RATIO_REMOVED:
        message = (
            f"warmup_ratio was removed in transformers 5.15, and the installed {release.text} "
            "refuses this file; lrviz reads it as transformers 4 did (ceil(200 × 0.05) = 10 "
            "warmup steps); write warmup_steps: 0.05 instead"
        )
    elif release.fractional_warmup:
        message = (
            "warmup_ratio is deprecated since transformers 5.0 and removed in 5.15; the "
            f"installed {release.text} copies it into warmup_steps, so 10 warmup steps; write "
            "warmup_steps: 0.05 instead"
        )
    else:  # transformers 4: warmup_ratio is the current spelling
        assert found == []
        return
    assert found == [Finding("LRV019", WARNING, 5, "warmup_ratio", message)]
    assert findings("lrv019_hf_warmup_ratio.yaml", "warmup_ratio=null", "warmup_steps=0.05") == []
