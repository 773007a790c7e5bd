"""The lint rules `lrviz check` applies: stable ids, severities and explanations (torch-free)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import UsageError, did_you_mean
from .model import ERROR, WARNING


@dataclass(frozen=True)
class Rule:
    """A rule as users see it in `lrviz rules`: id, severity, short title, longer explanation."""

    id: str
    severity: str
    name: str
    title: str
    explanation: str
    silenceable: bool = True


_RULES = (
    Rule(
        "LRV000",
        ERROR,
        "internal-error",
        "lrviz itself failed on this file (a bug in lrviz, not necessarily in the spec)",
        "Something unexpected went wrong while checking this one file. The other files are "
        "still checked, and this file counts as failed so CI does not pass it unseen. Re-run "
        "`lrviz --debug check FILE` for the traceback and report it.",
        silenceable=False,
    ),
    Rule(
        "LRV001",
        ERROR,
        "spec-invalid",
        "the spec cannot be loaded (YAML error, unknown key, wrong type, bad check/expect block)",
        "The file is not a valid schedule: a YAML syntax error, an unknown key, a value of the "
        "wrong type for the torch constructor, a missing required argument, or a malformed "
        "check:/expect: block. Each problem is one finding at its line. Nothing else is checked "
        "until the spec loads, so this rule cannot be silenced.",
        silenceable=False,
    ),
    Rule(
        "LRV002",
        ERROR,
        "run-failed",
        "torch raised during the run (e.g. OneCycleLR stepped past total_steps)",
        "The simulated training loop stopped because torch (or an lr_lambda expression) raised: "
        "OneCycleLR stepped more often than total_steps, an lr_lambda that divides by zero, "
        "T_max=0, a gamma given as text. Your training script would crash at the same row. The "
        "message names the row and torch's own error.",
    ),
    Rule(
        "LRV003",
        WARNING,
        "cosine-horizon-short",
        "CosineAnnealingLR's T_max is shorter than the run, so the lr climbs back up",
        "CosineAnnealingLR reaches eta_min after T_max scheduler steps and then follows the "
        "cosine back UP towards the base lr (it is periodic, not clamped). When T_max is smaller "
        "than the number of scheduler steps the run makes, the end of training uses a rising "
        "lr. Set T_max to the number of scheduler steps (epochs when stepped per epoch, "
        "epochs x iters_per_epoch when stepped per batch), or use CosineAnnealingWarmRestarts "
        "if restarts are intended.",
    ),
    Rule(
        "LRV004",
        WARNING,
        "horizon-unit",
        "a horizon counts epochs while the scheduler steps per batch (or batches while per epoch)",
        "Horizons (T_max, total_iters, step_size, milestones, T_0) count scheduler.step() calls. "
        "A value equal to run.epochs while the loop steps once per batch makes the whole "
        "schedule happen in the first epoch; a value equal to epochs x iters_per_epoch while the "
        "loop steps once per epoch stretches it far beyond the run. The message says where the "
        "curve reaches its floor (or end) as a percentage of the run.",
    ),
    Rule(
        "LRV005",
        ERROR,
        "lr-invalid",
        "an lr that is NaN, infinite or negative",
        "torch optimizers accept any float as lr at step time: NaN or inf destroys the weights, "
        "and a negative lr ascends the gradient. Typical causes: a negative eta_min, gamma or "
        "end_factor, or an lr_lambda expression that goes negative.",
    ),
    Rule(
        "LRV006",
        WARNING,
        "per-batch-scheduler-per-epoch",
        "CyclicLR/OneCycleLR stepped once per epoch",
        "CyclicLR and OneCycleLR are documented to be stepped after every batch; their "
        "step_size_up/total_steps count batches. Stepped per epoch (run.step: epoch or "
        "fractional) with several batches per epoch, the lr changes in a staircase and the "
        "cycle lengths are in the wrong unit.",
    ),
    Rule(
        "LRV007",
        WARNING,
        "cawr-mid-cycle",
        "CosineAnnealingWarmRestarts ends mid-cycle, far above eta_min",
        "SGDR is meant to end at the bottom of a cycle. When the run stops mid-cycle the final "
        "weights are trained at a high lr. The message lists the restarts (run from torch) and "
        "run lengths that end on a cycle boundary.",
    ),
    Rule(
        "LRV008",
        WARNING,
        "lr-constant",
        "the lr never changes during the run",
        "Every row of the run uses the same lr, usually because every decay point (step_size, "
        "milestones, T_max, patience) lies beyond the run, or a factor of 1 was used.",
    ),
    Rule(
        "LRV009",
        WARNING,
        "milestones",
        "milestones unsorted, duplicated, 0, or beyond the run",
        "MultiStepLR applies gamma once per listed occurrence (a duplicate applies it twice; 0 "
        "applies it at construction). SequentialLR picks its scheduler with bisect, so unsorted "
        "milestones silently skip a phase, a duplicate or 0 means a scheduler never runs, and a "
        "milestone beyond the run means the next scheduler never starts.",
    ),
    Rule(
        "LRV010",
        WARNING,
        "sequential-boundary",
        "a SequentialLR child's total_iters differs from its milestone span",
        "In SequentialLR a warm-up child (LinearLR, ConstantLR, PolynomialLR) is replaced at its "
        "milestone. If its total_iters is shorter than the span, the lr plateaus before the "
        "switch; if longer, the warm-up is cut and the lr jumps at the switch. torch 2.13 has no "
        "off-by-one when total_iters equals the milestone span.",
    ),
    Rule(
        "LRV011",
        WARNING,
        "chained-overwrite",
        "ChainedScheduler contains a scheduler that overwrites the others' factors",
        "ChainedScheduler steps every child on the same lr, so their factors multiply; but "
        "LambdaLR, CosineAnnealingWarmRestarts, CyclicLR and OneCycleLR compute the lr from "
        "base_lr (or max_lr) on every step, discarding what the other children did. Use "
        "SequentialLR, or fold the factors into one lr_lambda.",
    ),
    Rule(
        "LRV012",
        WARNING,
        "cycle-momentum",
        "cycle_momentum switches momentum on for an optimizer configured without it",
        "CyclicLR and OneCycleLR default to cycle_momentum=True and then write momentum "
        "(base_momentum..max_momentum) into every param group, even when the optimizer was "
        "configured with momentum 0. Set cycle_momentum: false, or configure momentum.",
    ),
    Rule(
        "LRV013",
        WARNING,
        "plateau-metrics",
        "ReduceLROnPlateau fed negative metrics with threshold_mode rel, or NaN metrics",
        "With threshold_mode 'rel' the improvement threshold is best*(1-threshold), which for a "
        "negative best is ABOVE best: a slightly worse value counts as an improvement and the "
        "lr is never reduced. NaN counts as a bad epoch (a NaN first metric cuts immediately). "
        "Use threshold_mode: abs for metrics that can be negative.",
    ),
    Rule(
        "LRV014",
        WARNING,
        "lr-underflow",
        "the lr falls to (nearly) zero long before the end",
        "The lr drops below a millionth of its peak and stays there for more than a tenth of "
        "the run: those steps train nothing. Usually a gamma too small for the run length or a "
        "decay horizon much shorter than the run.",
    ),
    Rule(
        "LRV015",
        WARNING,
        "torch-warning",
        "torch warned during the run",
        "torch raised a warning while the loop ran (deprecated step(epoch), "
        "lr_scheduler.step() before optimizer.step(), ...). Each distinct warning is reported "
        "once with the row where it first happened and how often it happened.",
    ),
    Rule(
        "LRV016",
        WARNING,
        "cawr-restart-skipped",
        "CosineAnnealingWarmRestarts step(epoch) skips a restart through math.log rounding",
        "CosineAnnealingWarmRestarts.step(epoch) finds the cycle with int(math.log(...)), and "
        "for some T_mult (3, 9, 10 among them) the logarithm of an exact restart epoch rounds "
        "down: math.log(243, 3) is 4.999999999999999. At such an epoch the lr is eta_min "
        "instead of the restart value. lrviz replays each restart epoch of the run through "
        "torch's step(epoch) and compares it with the plain step() path.",
    ),
    Rule(
        "LRV017",
        ERROR,
        "expectation-failed",
        "an expect: value does not match the run",
        "The spec's expect: block states what the run must do (final_lr, max_lr, min_lr, "
        "lr_at, monotonic) within rel/abs tolerances; this expectation does not hold. The "
        "message names the expected and actual values.",
    ),
    Rule(
        "LRV018",
        ERROR,
        "golden-mismatch",
        "the rows differ from the golden snapshot (--golden)",
        "The run no longer matches the CSV written by `lrviz snapshot`: a row differs beyond "
        "--rtol, the columns differ, or the row count changed (e.g. after a torch upgrade). "
        "The message names the first differing row and column with both values.",
    ),
    Rule(
        "LRV019",
        WARNING,
        "hf-warmup-ratio",
        "a TrainingArguments file sets warmup_ratio, deprecated in transformers 5.0, removed in "
        "5.15",
        "transformers 5.0 deprecated warmup_ratio (TrainingArguments copies it into "
        "warmup_steps, replacing any warmup_steps the file sets) and 5.15 removed it: the "
        "installed Trainer then refuses the file. Since 5.0 a warmup_steps below 1 is the "
        "ratio of the training steps, rounded up as warmup_ratio was, so warmup_steps: 0.1 "
        "replaces warmup_ratio: 0.1. Where transformers refuses it, lrviz reads warmup_ratio "
        "as transformers 4 did (used only when warmup_steps is 0). Reported only when the "
        "installed transformers is 5.x.",
    ),
)

RULES: dict[str, Rule] = {r.id: r for r in _RULES}


def get(rule_id: str) -> Rule:
    """A rule by id (case-insensitive); UsageError with a did-you-mean otherwise."""
    rule = RULES.get(rule_id.strip().upper())
    if rule is None:
        raise UsageError(f"unknown rule {rule_id!r}{suggest(rule_id)} (see 'lrviz rules')")
    return rule


def suggest(word: str) -> str:
    """A did-you-mean suffix for a mistyped rule id: by number first (LRV04 -> LRV004)."""
    digits = re.fullmatch(r"\s*(?:LRV?)?\s*0*(\d{1,3})\s*", word, re.IGNORECASE)
    if digits and f"LRV{int(digits.group(1)):03d}" in RULES:
        return f"; did you mean 'LRV{int(digits.group(1)):03d}'?"
    by_name = {r.name: r.id for r in RULES.values()}
    if word.strip().lower() in by_name:
        return f"; did you mean '{by_name[word.strip().lower()]}'?"
    return did_you_mean(word, list(RULES))
