"""`lrviz resume`: checkpoint after K steps, restore into fresh objects, compare every row."""

from __future__ import annotations

import copy
import io
import warnings
from typing import TYPE_CHECKING, Any

from ..errors import RunError, UsageError
from ..reports import VARIANTS, Difference, Outcome, ResumeReport
from .state import capture, check_at

if TYPE_CHECKING:
    from ..build import Built, Plan
    from ..trace import Trace

MAX_ALL_ROWS = 1_000  # --at all resumes from every row: about rows²/2 resumed rows per variant


def parse_at(text: str) -> int | None:
    """--at K or --at all (None)."""
    if text.strip().lower() == "all":
        return None
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"--at must be a step number K or 'all', not {text!r}") from None


def resume(plan: Plan, at: int | None) -> ResumeReport:
    """Checkpoint after K steps (or every K), reload each way, run on, compare row by row."""
    if at is None:
        if plan.rows > MAX_ALL_ROWS:
            raise UsageError(
                f"--at all resumes from every one of the {plan.rows:,} rows (about "
                f"{plan.rows * (plan.rows + 1) // 2:,} resumed rows per variant); it is refused "
                f"above {MAX_ALL_ROWS:,} rows: pick one K with --at K, or shorten the run with "
                f"--epochs"
            )
        points = list(range(plan.rows))
    else:
        check_at(plan, at, last=plan.rows - 1, why="resuming needs a row after the checkpoint")
        points = [at]
    trace, blobs = capture(plan, points, _checkpoint)
    if trace.rows == 0 and trace.error is not None:
        raise RunError(trace.error.step, trace.error.message)  # not even a state to save
    missing = [k for k in points if k not in blobs]
    if at is not None and missing:
        assert trace.error is not None
        raise UsageError(
            f"--at {at}: the run failed at row {trace.error.step} ({trace.error.message}) "
            f"before reaching {at} steps; use --at 0..{trace.rows - 1}"
        )
    points = [k for k in points if k in blobs]
    weights_only, wo_error = _weights_only(blobs[points[0]]) if points else (True, None)
    outcomes: dict[str, list[Outcome]] = {v.id: [] for v in VARIANTS}
    full = at is not None  # one K: count every differing row; all K: stop at the first
    for k in points:
        ckpt = _load(blobs[k], weights_only)
        for variant in VARIANTS:
            # An independent copy per variant: CyclicLR.load_state_dict removes a key from the
            # dict it is given, so a second load of the same dict would fail.
            outcomes[variant.id].append(
                _resume_one(plan, trace, variant.id, k, copy.deepcopy(ckpt), full)
            )
    report = ResumeReport(trace, points, outcomes, weights_only, wo_error)
    report.notes = _notes(plan, report)
    return report


def _checkpoint(built: Built) -> bytes:
    """Both state dicts, through torch.save, as a training script checkpoints them."""
    import torch

    buffer = io.BytesIO()
    torch.save(
        {"optimizer": built.optimizer.state_dict(), "scheduler": built.scheduler.state_dict()},
        buffer,
    )
    return buffer.getvalue()


def _weights_only(blob: bytes) -> tuple[bool, str | None]:
    """Whether torch.load's safe default (weights_only=True) accepts the checkpoint."""
    import torch

    try:
        torch.load(io.BytesIO(blob), weights_only=True)
    except Exception as exc:
        return False, " ".join(str(exc).split())[:300]
    return True, None


def _load(blob: bytes, weights_only: bool) -> dict[str, Any]:
    import torch

    loaded: dict[str, Any] = torch.load(io.BytesIO(blob), weights_only=weights_only)
    return loaded


def _restore(plan: Plan, variant: str, ckpt: dict[str, Any]) -> Built:
    from ..build import build

    built = build(plan)
    optimizer, scheduler = built.optimizer, built.scheduler
    if variant == "documented":
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
    elif variant == "scheduler_then_optimizer":
        scheduler.load_state_dict(ckpt["scheduler"])
        optimizer.load_state_dict(ckpt["optimizer"])
    elif variant == "scheduler_only":
        scheduler.load_state_dict(ckpt["scheduler"])
    else:  # optimizer_before_scheduler: the scheduler is constructed on the restored optimizer
        optimizer.load_state_dict(ckpt["optimizer"])
        built.scheduler = _new_scheduler(plan, optimizer)
        built.scheduler.load_state_dict(ckpt["scheduler"])
    return built


def _new_scheduler(plan: Plan, optimizer: Any) -> Any:
    """A second scheduler on an existing optimizer, built exactly as build() builds one."""
    from .. import build as build_mod

    factory = getattr(plan, "factory", None)  # the Python API's own scheduler factory
    if factory is not None:
        return factory(optimizer)
    return build_mod._build_scheduler(plan, plan.spec.scheduler, optimizer)


def _resume_one(
    plan: Plan, trace: Trace, variant: str, at: int, ckpt: dict[str, Any], full: bool
) -> Outcome:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the uninterrupted run already reported torch's warnings
        try:
            built = _restore(plan, variant, ckpt)
        except Exception as exc:
            rows = _span(plan, trace, at)
            failed = Difference(at, "load", None, None, _exc_text(exc))
            return Outcome(variant, at, rows, failed, rows if full else None, at + rows - 1)
        return _continue(plan, trace, built, variant, at, full)


def _exc_text(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _continue(
    plan: Plan, trace: Trace, built: Built, variant: str, start: int, full: bool
) -> Outcome:
    """Run the plan's own loop (simulation.run_from) from row `start`; compare with the trace.

    Only the first resumed row is checked on the spot, so a variant that is wrong from the
    start stops there when `full` is False.
    """
    import numpy as np

    from ..simulation import run_from

    part = run_from(plan, built, start, None if full else start + 1)
    lr, mom, error = part.lr.copy(), part.momentum.copy(), part.error
    on_track = _first_difference(trace, start, lr, mom) is None
    if not full and error is None and start + 1 < plan.rows and on_track:
        rest = run_from(plan, built, start + 1)
        lr, mom = np.concatenate([lr, rest.lr]), np.concatenate([mom, rest.momentum])
        error = rest.error
    failure = None if error is None else (error.step, error.message)
    return _outcome(plan, trace, variant, start, lr, mom, failure, full)


def _first_difference(trace: Trace, start: int, lr: Any, mom: Any) -> Difference | None:
    """The first resumed row that differs from the trace (value or existence)."""
    import numpy as np

    rows = lr.shape[0]
    have = min(rows, trace.rows - start)
    want_lr = trace.lr[start : start + have]
    bad = ~_same_array(lr[:have], want_lr)
    mom_bad = ~_same_array(mom[:have], trace.momentum[start : start + have])
    rows_bad = np.flatnonzero(bad.any(axis=1) | mom_bad.any(axis=1))
    if len(rows_bad):
        i = int(rows_bad[0])
        if bad[i].any():
            g = int(np.flatnonzero(bad[i])[0])
            return Difference(start + i, "lr", trace.groups[g], float(want_lr[i, g]),
                              float(lr[i, g]))  # fmt: skip
        g = int(np.flatnonzero(mom_bad[i])[0])
        return Difference(start + i, "momentum", trace.groups[g],
                          float(trace.momentum[start + i, g]), float(mom[i, g]))  # fmt: skip
    if rows > have:  # the uninterrupted run failed at this row; the resumed one went on
        message = trace.error.message if trace.error else "no row"
        return Difference(start + have, "error", None, f"failed ({message})", "a row")
    return None


def _outcome(
    plan: Plan,
    trace: Trace,
    variant: str,
    start: int,
    lr: Any,
    mom: Any,
    failure: tuple[int, str] | None,
    full: bool,
) -> Outcome:
    import numpy as np

    rows = _span(plan, trace, start)
    first = _first_difference(trace, start, lr, mom)
    failed_differently = False
    if failure is not None:
        row, message = failure
        same = trace.error is not None and trace.error.step == row
        if not same and row < plan.rows:
            failed_differently = True
            want = (
                f"failed ({trace.error.message})"
                if trace.error is not None and row >= trace.rows
                else "a row"
            )
            if first is None or first.row > row:
                first = Difference(row, "error", None, want, f"failed ({message})")
    if not full:
        return Outcome(variant, start, rows, first)
    if first is None:
        return Outcome(variant, start, rows, None, 0, None)
    recorded = lr.shape[0]
    have = min(recorded, trace.rows - start)
    bad = ~_same_array(lr[:have], trace.lr[start : start + have]).all(axis=1)
    bad |= ~_same_array(mom[:have], trace.momentum[start : start + have]).all(axis=1)
    differing = np.flatnonzero(bad)
    count = len(differing)
    last = int(differing[-1]) + start if count else None
    missing = rows - have  # rows the resumed run failed to produce, or produced extra
    if failed_differently or missing > 0 or recorded > have:
        count += max(missing, recorded - have, 1 if failed_differently else 0)
        last = start + rows - 1
    return Outcome(variant, start, rows, first, count, last)


def _same_array(a: Any, b: Any) -> Any:
    import numpy as np

    return (a == b) | (np.isnan(a) & np.isnan(b))


def _span(plan: Plan, trace: Trace, at: int) -> int:
    """Rows compared when resuming at `at`: to the end, or to the row the run failed at."""
    return (trace.rows if trace.error else plan.rows) - at


def _notes(plan: Plan, report: ResumeReport) -> list[str]:
    from ..spec import iter_schedulers

    notes = []
    if report.weights_only:
        notes.append(
            f"torch.load(weights_only=True), torch's default since 2.6, loads this checkpoint "
            f"in torch {report.trace.torch_version}: both state dicts hold only numbers, "
            f"strings, lists and dicts."
        )
    else:
        notes.append(
            f"torch.load(weights_only=True) refused this checkpoint ({report.weights_only_error}); "
            f"lrviz loaded it with weights_only=False, which a training script must do too."
        )
    nodes = list(iter_schedulers(plan.spec.scheduler))
    if any(n.kwargs.get(p) is not None for n in nodes for p in ("lr_lambda", "scale_fn")):
        notes.append(
            "lr_lambda/scale_fn are functions, and state_dict() never saves functions: the "
            "resumed scheduler uses the function its new constructor got — here the same "
            "expression, so that is fine. A checkpoint loaded into code with a different "
            "function silently follows the new one."
        )
    if any(n.type.lower() == "cycliclr" for n in nodes):
        notes.append(
            "CyclicLR.load_state_dict() removes '_scale_fn_custom' from the dict it is given "
            "(loading the same dict twice raises KeyError), so every variant loads its own "
            "copy of the checkpoint."
        )
    return notes
