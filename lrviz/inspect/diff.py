"""`lrviz diff`: torch's own lr getters side by side, row by row, and why they disagree."""

from __future__ import annotations

import copy
import json
import math
import operator
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text

from ..errors import UsageError
from ..render.table import fmt
from ..render.text import json_head
from ..render.text import json_number as _json_num
from ..render.text import number as _num
from ..stepping import fractional_epoch
from ..trace import Trace

if TYPE_CHECKING:
    import numpy as np

    from ..build import Built, Plan

# Closed form vs recursive lr: a relative gap up to this is rounding, not a different formula.
DRIFT_REL = 1e-9
CHUNK_ROWS = 20_000

# Per-row disagreement flags (a row can carry several).
LAST_LR = 1
GET_LR_AHEAD = 2
GET_LR_REAPPLIED = 4
GET_LR_ERROR = 8
CLOSED_DRIFT = 16
CLOSED_DIFFERS = 32
LAST_LR_ERROR = 64
LAST_LR_BAD = LAST_LR | LAST_LR_ERROR
KIND_IDS = {
    LAST_LR: "last_lr_stale",
    LAST_LR_ERROR: "last_lr_error",
    GET_LR_AHEAD: "get_lr_ahead",
    GET_LR_REAPPLIED: "get_lr_reapplied",
    GET_LR_ERROR: "get_lr_error",
    CLOSED_DRIFT: "closed_form_drift",
    CLOSED_DIFFERS: "closed_form_differs",
}
SHORT = {  # the table's "kind" column and the notes under it
    LAST_LR: "stale",
    LAST_LR_ERROR: "raised",
    GET_LR_AHEAD: "ahead",
    GET_LR_REAPPLIED: "re-applied",
    GET_LR_ERROR: "raised",
    CLOSED_DRIFT: "drift",
    CLOSED_DIFFERS: "differs",
}
HEADINGS = {"get_last_lr": "get_last_lr()", "get_lr": "get_lr()", "closed_form": "closed form"}
# The getters diff calls, by the name a scheduler object carries them under.
GETTERS = {"get_last_lr": "get_last_lr", "get_lr": "get_lr", "closed_form": "_get_closed_form_lr"}


@dataclass(frozen=True)
class Kind:
    """One kind of disagreement that occurred: how many rows, the first, and what it means."""

    flag: int
    id: str
    rows: int
    first_row: int
    note: str


@dataclass
class DiffReport:
    """The run's rows plus, per row and group, what each torch getter returned."""

    trace: Trace
    last_lr: np.ndarray | None  # get_last_lr(), rows x groups; None when the object has none
    get_lr: np.ndarray | None  # get_lr() between steps (NaN where it raised); None: never works
    get_lr_raises: str | None  # "NotImplementedError: ..." when get_lr() is not implemented
    closed_form: np.ndarray | None  # _get_closed_form_lr(); None when the class has none
    flags: np.ndarray  # per row, a bitmask of the flags above
    kinds: list[Kind]
    notes: list[str] = field(default_factory=list)  # explanations that are not disagreements
    # Getters the scheduler object does not have at all ("get_last_lr", "get_lr"): a
    # scheduler that is not a torch LRScheduler (mmengine, timm, your own) is shown with the
    # getters it has, and nothing is blamed on the ones it lacks.
    missing: list[str] = field(default_factory=list)
    lr_scheduler: bool = True  # whether the object is a torch LRScheduler

    @property
    def disagreeing_rows(self) -> int:
        return int((self.flags != 0).sum())

    def row_kinds(self, k: int) -> list[str]:
        """The kind ids of row k."""
        return [KIND_IDS[f] for f in KIND_IDS if int(self.flags[k]) & f]


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
    """The lr one more scheduler step would give, from a deep copy (the run itself is untouched)."""
    index = k if plan.order == "optimizer_first" else k + 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lrviz's own extra step, not a getter the user calls
        try:
            sched, optimizer = copy.deepcopy((built.scheduler, built.optimizer))
            if plan.metrics is not None:
                if index >= len(plan.metrics):
                    return None
                sched.step(plan.metrics[index])
            elif plan.step_mode == "fractional":
                sched.step(fractional_epoch(index, plan.iters_per_epoch))
            else:
                sched.step()
            return [float(g["lr"]) for g in optimizer.param_groups]
        except Exception:
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
            return f"{_num(float(column[k, g]))} while the lr{where} is {_num(float(lr[k, g]))}"
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


# --- output --------------------------------------------------------------------------------


def summary_lines(report: DiffReport) -> list[str]:
    """The count of disagreeing rows, then one note per kind, then the other notes."""
    n = report.trace.rows
    bad = report.disagreeing_rows
    words = _columns_in_words(report)
    if bad:
        head = f"{bad:,} of {n:,} rows disagree"
    elif not words:
        head = f"{n:,} rows, nothing to compare: {report.trace.scheduler} has no lr getter"
    else:
        said = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
        head = f"all {n:,} rows agree: {said} {'equals' if len(words) == 1 else 'equal'} the lr"
    kinds = [f"{SHORT[k.flag]}: {k.note}" for k in report.kinds]
    return [head, *kinds] + [f"note: {t}" for t in report.notes]


def _columns_in_words(report: DiffReport) -> list[str]:
    cols = [] if report.last_lr is None else ["get_last_lr()"]
    if report.get_lr is not None:
        cols.append("get_lr()")
    if report.closed_form is not None:
        cols.append("the closed form")
    return cols


def sample_rows(report: DiffReport, budget: int) -> list[int]:
    """At most `budget` rows: first, last, the first of each kind, disagreeing rows, then even."""
    import numpy as np

    n = report.trace.rows
    if n <= budget:
        return list(range(n))
    picked = {0, n - 1} | {k.first_row for k in report.kinds}
    bad = np.flatnonzero(report.flags)
    quota = max(0, budget * 3 // 4 - len(picked))
    if len(bad) <= quota:
        picked.update(bad.tolist())
    elif quota:
        picked.update(bad[np.linspace(0, len(bad) - 1, quota).round().astype(int)].tolist())
    spare = budget - len(picked)
    if spare > 0:
        picked.update(np.linspace(0, n - 1, spare + 2).round().astype(int).tolist())
    return sorted(picked)[:budget]


def _cell(value: float, lr: float) -> Text:
    if value == lr or (math.isnan(value) and math.isnan(lr)):
        return Text("=", style="dim")
    if fmt(value) == fmt(lr):  # differs below display precision: the notes give the size
        return Text("≈", style="bold yellow")
    return Text(fmt(value), style="bold yellow")


def render_diff_table(report: DiffReport, *, max_rows: int = 40) -> Table:
    """The rows as a rich Table: '=' where a getter returns the lr exactly, '≈' where it
    differs below display precision, the value where it differs visibly.

    One line per row and param group, so the width does not grow with the groups.
    """
    from rich import box

    trace = report.trace
    rows = sample_rows(report, max_rows)
    caption = None
    if len(rows) < trace.rows:
        caption = (
            f"showing {len(rows)} of {trace.rows:,} rows (first, last, disagreeing rows, evenly "
            f"spaced); --all shows every row, --format csv exports them"
        )
    columns = _columns(report)
    # get_last_lr() is the lr on every row: leave its column out and say so in the title
    same_last = report.last_lr is not None and not (report.flags & LAST_LR_BAD).any()
    if same_last:
        columns = columns[1:]
    shown = " · ".join(HEADINGS[c] for c, _ in columns)
    title = f"{trace.name}: {shown} vs the lr" if columns else trace.name
    if same_last:
        title += (
            " (get_last_lr() is the lr on every row)"
            if columns
            else (": get_last_lr() is the lr on every row")
        )
    elif not columns:
        title += f": {trace.scheduler} has no lr getter to compare"
    table = Table(
        title=title,
        caption=caption,
        title_justify="left",
        caption_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("step", justify="right")
    table.add_column("x" if trace.per_batch else "epoch", justify="right")  # x = e + i / iters
    many = len(trace.groups) > 1
    if many:
        table.add_column("group")
    table.add_column("lr", justify="right", style="cyan", no_wrap=True)
    for label, _ in columns:
        table.add_column(HEADINGS[label], justify="right", no_wrap=True)
    table.add_column("kind", min_width=10)
    _, epoch, _, x = trace.positions()
    prev = -1
    for k in rows:
        if prev >= 0 and k > prev + 1:
            table.add_row(Text(f"⋮ {k - prev - 1:,}", style="dim"))
        where = f"{float(x[k]):.6g}" if trace.per_batch else str(int(epoch[k]))
        flag = int(report.flags[k])
        kinds = ", ".join(SHORT[f] for f in SHORT if flag & f)
        for g, group in enumerate(trace.groups):
            lr = float(trace.lr[k, g])
            cells: list[Text | str] = [str(k), where] if g == 0 else ["", ""]
            if many:
                cells.append(group)
            cells.append(fmt(lr))
            for _, values in columns:
                assert values is not None
                v = float(values[k, g])
                cells.append(Text("raised", style="red") if math.isnan(v) else _cell(v, lr))
            cells.append(kinds if g == 0 else "")
            table.add_row(*cells, style="on grey15" if flag else None)
        prev = k
    return table


def _columns(report: DiffReport) -> list[tuple[str, np.ndarray | None]]:
    cols: list[tuple[str, np.ndarray | None]] = []
    if report.last_lr is not None:
        cols.append(("get_last_lr", report.last_lr))
    if report.get_lr is not None:
        cols.append(("get_lr", report.get_lr))
    if report.closed_form is not None:
        cols.append(("closed_form", report.closed_form))
    return cols


def iter_csv(report: DiffReport) -> Iterator[str]:
    """Every row as CSV: positions, per group the lr and each getter, then the kinds."""
    trace = report.trace
    cols = _columns(report)
    names = ["step", "epoch", "iter", "x"]
    for group in trace.groups:
        names += [f"lr_{group}"] + [f"{label}_{group}" for label, _ in cols]
    yield ",".join([*names, "disagreement"]) + "\n"

    def cell(v: float) -> str:
        return "" if math.isnan(v) else _num(v)

    for start in range(0, trace.rows, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, trace.rows)
        step, epoch, it, x = trace.positions(start, stop)
        lines = []
        for i, k in enumerate(range(start, stop)):
            out = [str(int(step[i])), str(int(epoch[i])), str(int(it[i])), _num(float(x[i]))]
            for g in range(len(trace.groups)):
                out.append(_num(float(trace.lr[k, g])))
                out += [cell(float(values[k, g])) for _, values in cols if values is not None]
            out.append(" ".join(report.row_kinds(k)))
            lines.append(",".join(out) + "\n")
        yield "".join(lines)


def iter_json(report: DiffReport) -> Iterator[str]:
    """One JSON object: the run's header, every row with each getter's values, the summary."""
    trace = report.trace
    head = json_head(trace) | {
        "get_lr_raises": report.get_lr_raises,  # e.g. "NotImplementedError", or null
        "closed_form": report.closed_form is not None,  # whether the class has one
        "missing": report.missing,  # getters the object lacks: their values are null
    }
    yield json.dumps(head)[:-1] + ', "rows": ['

    def values(array: np.ndarray | None, k: int) -> str:
        if array is None:
            return "null"
        row = [float(v) for v in array[k]]
        if all(math.isnan(v) for v in row):
            return "null"
        return "[" + ", ".join(_json_num(v) for v in row) + "]"

    for start in range(0, trace.rows, CHUNK_ROWS):
        lines = []
        for k in range(start, min(start + CHUNK_ROWS, trace.rows)):
            row = trace.row(k)
            mom = ", ".join(_json_num(m) for m in row["momentum"])
            lines.append(
                f'{{"step": {k}, "epoch": {row["epoch"]}, "iter": {row["iter"]}, '
                f'"x": {_json_num(row["x"])}, '
                f'"lr": [{", ".join(_json_num(v) for v in row["lr"])}], "momentum": [{mom}], '
                f'"get_last_lr": {values(report.last_lr, k)}, '
                f'"get_lr": {values(report.get_lr, k)}, '
                f'"closed_form": {values(report.closed_form, k)}, '
                f'"disagree": {json.dumps(report.row_kinds(k))}}}'
            )
        yield ("\n  " if start == 0 else ",\n  ") + ",\n  ".join(lines)
    tail = {
        "summary": {
            "rows": trace.rows,
            "disagreeing_rows": report.disagreeing_rows,
            "kinds": [
                {"id": k.id, "rows": k.rows, "first_row": k.first_row, "note": k.note}
                for k in report.kinds
            ],
        },
        "notes": trace.notes + report.notes,
        "warnings": [vars(w) for w in trace.warnings],
        "error": vars(trace.error) if trace.error else None,
    }
    yield "\n], " + json.dumps(tail)[1:] + "\n"
