"""`lrviz diff`: torch's own lr getters side by side, row by row, and why they disagree."""

from __future__ import annotations

import copy
import operator
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..reports import (
    CLOSED_DIFFERS,
    CLOSED_DRIFT,
    GET_LR_AHEAD,
    GET_LR_ERROR,
    GET_LR_REAPPLIED,
    GETTERS,
    HEADINGS,
    KIND_IDS,
    LAST_LR,
    LAST_LR_ERROR,
    DiffReport,
    Kind,
)
from ..trace import Trace

if TYPE_CHECKING:
    import numpy as np

    from ..build import Built, Plan

# Closed form vs recursive lr: a relative gap up to this is rounding, not a different formula.
DRIFT_REL = 1e-9


class _Collector:
    """The on_row hook: calls the getters on the live scheduler and undoes any side effect."""

    def __init__(self, plan: Plan) -> None:
        import numpy as np

        n, g = plan.rows, len(plan.spec.groups)
        self.plan = plan
        self.last = np.full((n, g), np.nan)
        self.get = np.full((n, g), np.nan)
        self.closed: np.ndarray | None = None  # allocated when the class has a closed form
        self.missing: list[str] = []  # getters the object lacks (set at row 0)
        self.lr_scheduler = True  # a torch LRScheduler (set at row 0)
        self.last_failed: dict[int, str] = {}  # row -> why get_last_lr() raised
        self.composite = False  # the root steps child schedulers (SequentialLR, Chained...)
        self.metric_driven = False  # the root's step() takes a metric (ReduceLROnPlateau)
        # Row -> error text, for errors other than "not implemented".
        self.get_failed: dict[int, str] = {}
        self.get_not_implemented: str | None = None
        # What get_lr() wrote besides the lr -> whether the values it wrote differed.
        self.written: dict[str, bool] = {}
        self.warned: dict[str, int] = {}
        self.peek: list[float] | None = None  # the lr after one more step, seen from the last row

    def __call__(self, built: Built, k: int) -> None:
        # Runs inside simulate's warning capture: torch warnings raised here belong to the
        # inspection (get_lr's "please use get_last_lr()"), never to the user's run.
        with warnings.catch_warnings(record=True) as log:
            warnings.simplefilter("always")
            try:
                self._inspect(built, k)
            except Exception as exc:  # never let the inspection stop the run it inspects
                self.get_failed.setdefault(k, _exc_text(exc))
        for w in log:
            text = " ".join(str(w.message).split())
            self.warned[text] = self.warned.get(text, 0) + 1

    def _inspect(self, built: Built, k: int) -> None:
        import numpy as np

        sched, groups = built.scheduler, built.optimizer.param_groups
        if k == 0:
            import torch

            self.composite = hasattr(sched, "_schedulers")
            self.metric_driven = isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau)
            self.lr_scheduler = isinstance(sched, torch.optim.lr_scheduler.LRScheduler)
            self.missing = [n for n, a in GETTERS.items() if not callable(getattr(sched, a, None))]
            if "closed_form" not in self.missing:
                self.closed = np.full_like(self.last, np.nan)
        if "get_last_lr" not in self.missing:
            try:
                self.last[k] = [float(v) for v in sched.get_last_lr()]
            except Exception as err:
                self.last_failed[k] = _exc_text(err)
        if self.get_not_implemented is None and "get_lr" not in self.missing:
            values, exc = _guarded(sched, groups, sched.get_lr, self.written)
            if isinstance(exc, NotImplementedError):
                self.get_not_implemented = _exc_text(exc)
            elif exc is not None:
                self.get_failed[k] = _exc_text(exc)
            else:
                self.get[k] = values
        if self.closed is not None:
            values, exc = _guarded(sched, groups, sched._get_closed_form_lr, self.written)
            if exc is None:
                self.closed[k] = values
        last_row = k == self.plan.rows - 1
        if last_row and self.get_not_implemented is None and "get_lr" not in self.missing:
            self.peek = _next_lr(self.plan, built, k)


def _guarded(
    sched: Any, groups: list[dict[str, Any]], fn: Callable[[], Any], written: dict[str, bool]
) -> tuple[list[float] | None, BaseException | None]:
    """Call a getter; restore every param_group entry and scheduler attribute it replaced.

    CyclicLR/OneCycleLR's get_lr() rewrites momentum: without this, inspecting would change
    the schedule. torch's getters replace values (never mutate them in place), so restoring
    the replaced objects restores the state exactly.
    """
    saved_groups = [dict(g) for g in groups]
    saved = [(s, dict(vars(s))) for s in _schedulers(sched) if hasattr(s, "__dict__")]
    try:
        return [float(v) for v in fn()], None
    except Exception as exc:
        return None, exc
    finally:
        for group, before in zip(groups, saved_groups, strict=True):
            if not _changed(group, before):
                continue
            for key in set(group) | set(before):
                if group.get(key, _MISSING) is not before.get(key, _MISSING):
                    label = f"param_groups[g][{key!r}]"
                    changed = group.get(key, _MISSING) != before.get(key, _MISSING)
                    written[label] = written.get(label, False) or changed
            group.clear()
            group.update(before)
        for s, attrs in saved:
            if _changed(s.__dict__, attrs):
                written[f"{type(s).__name__} attributes"] = True
                s.__dict__.clear()
                s.__dict__.update(attrs)


def _changed(now: dict[str, Any], before: dict[str, Any]) -> bool:
    """Whether any entry was added, removed or replaced (identity, not equality: fast)."""
    return (
        len(now) != len(before)
        or any(map(operator.is_not, now.values(), before.values()))
        or now.keys() != before.keys()
    )


_MISSING = object()


def _schedulers(sched: Any) -> list[Any]:
    out = [sched]
    for child in getattr(sched, "_schedulers", None) or []:
        out.extend(_schedulers(child))
    return out


def _next_lr(plan: Plan, built: Built, k: int) -> list[float] | None:
    """The lr the loop's next scheduler.step() would give after row k, from a deep copy."""
    from ..simulation import loop_calls

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lrviz's own extra step, not a getter the user calls
        try:
            twin = copy.deepcopy(built)  # the run itself is untouched
            before, after = loop_calls(plan, twin)
            if plan.order == "optimizer_first":
                after(k)
            else:
                before(k + 1)
            return [float(g["lr"]) for g in twin.optimizer.param_groups]
        except Exception:  # no metric left, or torch refuses one more step: no next lr
            return None


def _exc_text(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def inspect_plan(plan: Plan) -> DiffReport:
    """Run a plan exactly as `lrviz table` does, calling torch's getters between steps."""
    from ..simulation import run

    if plan.cadences:
        raise UsageError(
            f"diff inspects one scheduler object, and {plan.spec.name} has a list of "
            f"{len(plan.cadences)} ({plan.scheduler_class}); write one member as its own spec"
        )
    collector = _Collector(plan)
    trace = run(plan, on_row=collector)
    return _classify(trace, collector)


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    import numpy as np

    return (a == b) | (np.isnan(a) & np.isnan(b))


def _classify(trace: Trace, c: _Collector) -> DiffReport:
    import numpy as np

    n = trace.rows
    lr = trace.lr
    flags = np.zeros(n, dtype=np.int64)
    last = None if "get_last_lr" in c.missing else c.last[:n]
    if last is not None:
        failed = np.zeros(n, dtype=bool)
        failed[[k for k in c.last_failed if k < n]] = True
        flags[~failed & ~_same(last, lr).all(axis=1)] |= LAST_LR
        flags[failed] |= LAST_LR_ERROR

    get = None if c.get_not_implemented or "get_lr" in c.missing else c.get[:n]
    if get is not None:
        ok = ~np.isnan(get).all(axis=1)
        nxt = np.full_like(lr, np.nan)
        nxt[:-1] = lr[1:]
        if n and c.peek is not None and n == c.plan.rows:
            nxt[-1] = c.peek
        equal = _same(get, lr)
        ahead_cells = equal | _same(get, nxt)
        differ = ok & ~equal.all(axis=1)
        flags[differ & ahead_cells.all(axis=1)] |= GET_LR_AHEAD
        flags[differ & ~ahead_cells.all(axis=1)] |= GET_LR_REAPPLIED
        for k in c.get_failed:
            if k < n:
                flags[k] |= GET_LR_ERROR

    closed = None if c.closed is None else c.closed[:n]
    gap = rel = None
    if closed is not None:
        gap = np.abs(closed - lr)
        scale = np.maximum(np.abs(lr), np.abs(closed))
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.where(gap == 0, 0.0, gap / scale)
        differ_cells = ~_same(closed, lr)
        drift_cells = differ_cells & (rel <= DRIFT_REL)
        row_differ = differ_cells.any(axis=1)
        row_drift = row_differ & ~(differ_cells & ~drift_cells).any(axis=1)
        flags[row_drift] |= CLOSED_DRIFT
        flags[row_differ & ~row_drift] |= CLOSED_DIFFERS

    report = DiffReport(trace, last, get, c.get_not_implemented, closed, flags, [])
    report.missing = list(c.missing)
    report.lr_scheduler = c.lr_scheduler
    report.kinds = _kinds(report, c, gap, rel)
    report.notes = _notes(report, c)
    return report


def _example(report: DiffReport, column: np.ndarray, k: int) -> str:
    """'0.09 while the lr is 0.1' for the first group that differs at row k."""
    lr = report.trace.lr
    for g in range(lr.shape[1]):
        if not _same(column[k : k + 1, g], lr[k : k + 1, g]).all():
            where = f" ({report.trace.groups[g]})" if lr.shape[1] > 1 else ""
            return f"{float(column[k, g])!r} while the lr{where} is {float(lr[k, g])!r}"
    return ""


def _kinds(report: DiffReport, c: _Collector, gap: Any, rel: Any) -> list[Kind]:
    import numpy as np

    cls = report.trace.scheduler
    out = []
    for flag, kind_id in KIND_IDS.items():
        rows = np.flatnonzero(report.flags & flag)
        if not len(rows):
            continue
        k = int(rows[0])
        head = f"{len(rows):,} row{'s' if len(rows) != 1 else ''} (first: row {k}"
        if flag == LAST_LR:
            assert report.last_lr is not None
            note = (
                f"get_last_lr() differs from optimizer.param_groups lr on {head}, "
                f"{_example(report, report.last_lr, k)}): something changed the optimizer's "
                f"lr after the scheduler's last step, so the scheduler's record is stale."
            )
        elif flag == LAST_LR_ERROR:
            note = f"get_last_lr() raised on {head}): {c.last_failed[k]}."
        elif flag == GET_LR_AHEAD and not report.lr_scheduler:
            assert report.get_lr is not None
            note = (
                f"get_lr() returned the NEXT row's lr on {head}, "
                f"{_example(report, report.get_lr, k)}): called between steps, {cls}.get_lr() "
                f"computes what the next step() sets, so it runs one step ahead."
            )
        elif flag == GET_LR_AHEAD:
            assert report.get_lr is not None
            note = (
                f"get_lr() returned the NEXT row's lr on {head}, "
                f"{_example(report, report.get_lr, k)}): {cls}.get_lr() is the recursive update "
                f"step() applies (new lr from the current lr), not a getter, so called between "
                f"steps it runs one step ahead. Read the lr with get_last_lr()."
            )
        elif flag == GET_LR_REAPPLIED and not report.lr_scheduler:
            assert report.get_lr is not None
            note = (
                f"get_lr() returned neither this row's nor the next row's lr on {head}, "
                f"{_example(report, report.get_lr, k)}): called between steps, {cls}.get_lr() "
                f"is not a getter for the current lr."
            )
        elif flag == GET_LR_REAPPLIED:
            assert report.get_lr is not None
            note = (
                f"get_lr() returned neither this row's nor the next row's lr on {head}, "
                f"{_example(report, report.get_lr, k)}): {cls}.get_lr() applies the update for "
                f"step last_epoch to the current lr, which already includes it (a decay or "
                f"warm-up factor applied twice). Read the lr with get_last_lr()."
            )
        elif flag == GET_LR_ERROR:
            note = f"get_lr() raised on {head}): {c.get_failed[k]}."
        elif flag == CLOSED_DRIFT:
            assert report.closed_form is not None
            cells = (report.flags & CLOSED_DRIFT != 0)[:, None] & (gap > 0)
            note = (
                f"_get_closed_form_lr() differs from the lr by floating-point drift on {head}, "
                f"{_example(report, report.closed_form, k)}): at most "
                f"{float(gap[cells].max()):.2g} absolute, {float(rel[cells].max()):.2g} "
                f"relative. step() updates the lr recursively (lr × ratio) and accumulates "
                f"rounding; the closed form computes base_lr × f(last_epoch) directly. Harmless, "
                f"but exact equality tests between the two fail."
            )
        else:
            assert report.closed_form is not None
            note = (
                f"_get_closed_form_lr() differs from the lr by more than rounding on {head}, "
                f"{_example(report, report.closed_form, k)}): the recursive update step() "
                f"applies and the closed form that step(epoch) uses follow different formulas "
                f"here, so a loop that passes an epoch to step() gets a different schedule."
            )
        out.append(Kind(flag, kind_id, len(rows), k, note))
    return out


def _notes(report: DiffReport, c: _Collector) -> list[str]:
    cls = report.trace.scheduler
    notes = []
    lacks = [f"{GETTERS[m]}()" for m in report.missing]
    if lacks and not report.lr_scheduler:
        if len(lacks) == len(GETTERS):
            what = "none of torch's lr getters"
        else:
            what = "no " + (" or ".join(lacks) if len(lacks) < 3 else ", ".join(lacks))
        has = [HEADINGS[n] for n in GETTERS if n not in report.missing]
        notes.append(
            f"{cls} is not a torch LRScheduler and has {what}"
            + (f" ({', '.join(lacks)})" if len(lacks) == len(GETTERS) else "")
            + ": "
            + (
                f"only {' and '.join(has)} {'is' if len(has) == 1 else 'are'} compared with "
                f"the lr (optimizer.param_groups)."
                if has
                else "there is nothing to compare with the lr (optimizer.param_groups), which "
                "is shown as it is."
            )
        )
    if report.get_lr_raises:
        why = (
            "it has no formula of its own: step() steps its child schedulers"
            if c.composite
            else "its lr reacts to the metric passed to step(), so there is nothing to compute"
            if c.metric_driven
            else "it does not implement it"
        )
        notes.append(
            f"get_lr() raises {report.get_lr_raises} for {cls}: {why}. get_last_lr() and "
            f"optimizer.param_groups are the getters."
        )
    if report.closed_form is None and report.lr_scheduler and "closed_form" in report.missing:
        notes.append(f"{cls} has no closed form (_get_closed_form_lr); that column is omitted.")
    if c.written:
        what = ", ".join(sorted(c.written))
        why = (
            f"a side effect: {cls} cycles momentum inside get_lr()"
            if all("momentum" in w or "betas" in w for w in c.written)
            else "a side effect"
        )
        changed = any(c.written.values())
        notes.append(
            f"get_lr() also wrote {what} ({why}); lrviz restored it after every call, so the "
            f"rows are unchanged"
            + (" (the values it wrote differed from the current ones)." if changed else ".")
        )
    for text, count in c.warned.items():
        notes.append(
            f'the inspection\'s own calls made torch warn "{text}" (×{count:,}); expected, and '
            f"not counted among the run's warnings."
        )
    return notes
