"""`lrviz resume`: checkpoint after K steps, restore into fresh objects, compare every row."""

from __future__ import annotations

import copy
import io
import math
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text

from ..errors import RunError, UsageError
from .state import capture, check_at

if TYPE_CHECKING:
    from ..build import Built, Plan
    from ..trace import Trace

MAX_ALL_ROWS = 1_000  # --at all resumes from every row: about rows²/2 resumed rows per variant


@dataclass(frozen=True)
class Variant:
    """One way of loading a checkpoint into a fresh optimizer and scheduler."""

    id: str
    label: str
    documented: bool = False


# Every variant starts from a freshly built optimizer and scheduler (lrviz.build.build).
VARIANTS = (
    Variant("documented", "optimizer.load, then scheduler.load (documented)", True),
    Variant("scheduler_then_optimizer", "scheduler.load, then optimizer.load"),
    Variant("scheduler_only", "scheduler.load only (optimizer state not loaded)"),
    Variant("optimizer_before_scheduler", "optimizer.load before the scheduler is built, "
            "then scheduler.load"),
)  # fmt: skip


@dataclass(frozen=True)
class Difference:
    """The first row where a resumed run and the uninterrupted run part."""

    row: int
    column: str  # "lr", "momentum", "error" (a run failed) or "load" (loading raised)
    group: str | None
    uninterrupted: float | str | None
    resumed: float | str | None

    def describe(self, *, short: bool = False) -> str:
        """'row 40: lr head 0.01 (uninterrupted) vs 0.1 (resumed)'; `short` rounds the values
        to 6 significant digits unless that would hide the difference."""
        if self.column == "load":
            return f"loading the checkpoint raised {self.resumed}"
        if self.column == "error":
            return (
                f"row {self.row}: {self.uninterrupted} (uninterrupted) vs {self.resumed} (resumed)"
            )
        a, b = _show(self.uninterrupted), _show(self.resumed)
        if short and isinstance(self.uninterrupted, float) and isinstance(self.resumed, float):
            a6, b6 = f"{self.uninterrupted:.6g}", f"{self.resumed:.6g}"
            if a6 != b6:
                a, b = a6, b6
        return f"row {self.row}: {self.column} {self.group} {a} (uninterrupted) vs {b} (resumed)"


@dataclass(frozen=True)
class Outcome:
    """How one variant resumed from one checkpoint."""

    variant: str
    at: int
    rows: int  # rows compared (at .. end of run)
    first: Difference | None
    differing: int | None = None  # rows that differ; None when the comparison stopped at the first
    last_differing: int | None = None

    @property
    def identical(self) -> bool:
        return self.first is None


@dataclass
class ResumeReport:
    """Every variant's outcome at every checkpoint K, plus what loading needed."""

    trace: Trace
    at: list[int]
    outcomes: dict[str, list[Outcome]]
    weights_only: bool  # torch.load(weights_only=True) accepted the checkpoint
    weights_only_error: str | None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the documented order resumed every checkpoint exactly."""
        return all(o.identical for o in self.outcomes["documented"])


def _show(value: float | str | None) -> str:
    if isinstance(value, float):
        return repr(value)
    return "none" if value is None else str(value)


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


# --- output --------------------------------------------------------------------------------


def _outcome_text(outcome: Outcome) -> Text:
    if outcome.identical:
        return Text(f"identical ({outcome.rows:,} rows)", style="green")
    if outcome.differing is None:
        return Text("differs", style="bold red")
    assert outcome.last_differing is not None
    tail = (
        "never recovers"
        if outcome.last_differing >= outcome.at + outcome.rows - 1
        else f"identical from row {outcome.last_differing + 1}"
    )
    return Text(f"{outcome.differing:,} of {outcome.rows:,} rows differ ({tail})", style="red")


def render_resume(report: ResumeReport) -> Table:
    """One line per variant: identical, or where the resumed run first departs."""
    single = len(report.at) == 1
    from rich import box

    table = Table(title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    table.add_column("fresh objects, then", ratio=3)
    table.add_column("result", ratio=3)
    table.add_column("first difference", ratio=4)
    for variant in VARIANTS:
        results = report.outcomes[variant.id]
        label = Text(variant.label, style="bold" if variant.documented else "")
        if single and results:
            o = results[0]
            shown = o.first.describe(short=True) if o.first else ""
            table.add_row(label, _outcome_text(o), shown)
            continue
        bad = [o for o in results if not o.identical]
        if not bad:
            table.add_row(
                label, Text(f"identical at all {len(results):,} checkpoints", style="green"), ""
            )
            continue
        first = bad[0]
        assert first.first is not None
        table.add_row(
            label,
            Text(f"differs at {len(bad):,} of {len(results):,} checkpoints", style="red"),
            f"K={first.at}, {first.first.describe(short=True)}",
        )
    return table


def headline(report: ResumeReport) -> list[str]:
    """What was checkpointed and how, before the table."""
    trace = report.trace
    load = "weights_only=True" if report.weights_only else "weights_only=False"
    if len(report.at) == 1:
        k = report.at[0]
        what = (
            f"checkpoint after K={k} scheduler steps (saved just before row {k}; "
            f"rows {k}..{k + report.outcomes['documented'][0].rows - 1} compared)"
        )
    else:
        what = f"a checkpoint after every K in 0..{report.at[-1] if report.at else 0}"
    return [
        f"resume {trace.name} ({trace.scheduler}, {trace.rows:,} rows, order: {trace.order}): "
        f"{what}; both state dicts through torch.save → torch.load({load}) into a freshly "
        f"built optimizer and scheduler, compared with the uninterrupted run (lr and "
        f"momentum, every group)"
    ]


def verdict(report: ResumeReport) -> str:
    """One line: does the documented order resume exactly?"""
    if report.ok:
        return "ok: the documented order (optimizer state, then scheduler state) resumes exactly"
    bad = [o for o in report.outcomes["documented"] if not o.identical]
    assert bad[0].first is not None
    return (
        f"DIFFERS: the documented order does not resume exactly at {len(bad):,} of "
        f"{len(report.at):,} checkpoints; first at K={bad[0].at}, {bad[0].first.describe()}"
    )


def order_matters(report: ResumeReport) -> str:
    """Whether loading the scheduler before the optimizer changes anything."""
    doc, other = report.outcomes["documented"], report.outcomes["scheduler_then_optimizer"]
    same = all(a.first == b.first for a, b in zip(doc, other, strict=True))
    if same:
        return (
            "load order: scheduler.load before optimizer.load gives the same rows (both only "
            "restore saved state); what matters is that both are loaded, and that the scheduler "
            "is built before optimizer.load (see the other variants)"
        )
    return "load order matters here: scheduler.load before optimizer.load gives different rows"


def to_json(report: ResumeReport) -> dict[str, Any]:
    """The report as JSON-safe data."""
    trace = report.trace

    def diff(d: Difference | None) -> dict[str, Any] | None:
        if d is None:
            return None
        return {
            "row": d.row,
            "column": d.column,
            "group": d.group,
            "uninterrupted": _json_value(d.uninterrupted),
            "resumed": _json_value(d.resumed),
        }

    variants = []
    for variant in VARIANTS:
        results = report.outcomes[variant.id]
        bad = [o for o in results if not o.identical]
        entry: dict[str, Any] = {
            "id": variant.id,
            "label": variant.label,
            "documented": variant.documented,
            "checkpoints": len(results),
            "identical": len(results) - len(bad),
            "first_difference": ({"at": bad[0].at, **(diff(bad[0].first) or {})} if bad else None),
        }
        if len(results) == 1:
            entry["rows_compared"] = results[0].rows
            entry["rows_differing"] = results[0].differing
        variants.append(entry)
    return {
        "name": trace.name,
        "torch_version": trace.torch_version,
        "scheduler": trace.scheduler,
        "step_mode": trace.step_mode,
        "order": trace.order,
        "rows": trace.rows,
        "at": report.at[0] if len(report.at) == 1 else "all",
        "weights_only": report.weights_only,
        "ok": report.ok,
        "variants": variants,
        "notes": report.notes,
        "warnings": [vars(w) for w in trace.warnings],
        "error": vars(trace.error) if trace.error else None,
    }


def _json_value(value: float | str | None) -> float | str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value
