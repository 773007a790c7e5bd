"""`lrviz diff`: every getter's value equals plain torch's, and inspecting changes nothing."""

from __future__ import annotations

import copy
import json
import warnings

import numpy as np
import pytest
import torch

from lrviz.document import load_yaml
from lrviz.inspect import diff as diff_mod
from lrviz.load import Options, load_plan
from lrviz.presets import preset_names, preset_path
from lrviz.render import diff as render_diff
from lrviz.reports import DiffReport
from lrviz.simulation import run
from tests.reference import _find, _scheduler

CLASSES = [
    "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
    "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
    "CyclicLR", "OneCycleLR", "SequentialLR", "ChainedScheduler", "ReduceLROnPlateau",
]  # fmt: skip
# torch's getters (docs/inspect.md), re-verified below with plain torch: get_lr() between steps...
GETTERS = {"LambdaLR", "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR"}  # ...is the lr
RAISES = {"SequentialLR", "ChainedScheduler", "ReduceLROnPlateau"}  # ...is not implemented
RECURSIVE = set(CLASSES) - GETTERS - RAISES  # ...re-applies a recursive update
CLOSED_FORM = {"StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
               "PolynomialLR", "CosineAnnealingLR"}  # fmt: skip
SHORT = {"cycliclr": 3, "onecyclelr": 2}  # epochs: keep the per-batch presets quick


def _plan(name: str, *overrides: str, epochs: int | None = None):
    return load_plan(name, Options(tuple(overrides), epochs))


def _plain(name: str, plan) -> dict[str, list]:
    """Plain torch, independent of lrviz: per row the lr, get_last_lr(), get_lr() and closed
    form (each getter called on a deep copy, so it cannot disturb the run), plus the lr one
    more step would give after the last row."""
    data = load_yaml(preset_path(name).read_text())
    opt = dict(data.get("optimizer") or {})
    opt_cls = _find(torch.optim, opt.pop("type", "SGD"))
    opt.setdefault("lr", 0.1)
    groups = [{k: v for k, v in g.items() if k != "name"} for g in data.get("param_groups") or [{}]]
    params = [{"params": [torch.zeros(1, requires_grad=True)], **g} for g in groups]
    out: dict[str, list] = {"lr": [], "last": [], "get": [], "closed": [], "peek": []}
    iters, mode, order = plan.iters_per_epoch, plan.step_mode, plan.order

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimizer = opt_cls(params, **opt)
        scheduler = _scheduler(data["scheduler"], optimizer, plan.rows)

        def step(sched, k: int) -> None:
            if plan.metrics is not None:
                sched.step(plan.metrics[k])
            elif mode == "fractional":
                sched.step(k // iters + (k % iters) / iters)
            else:
                sched.step()

        def getter(method: str):
            sched, _ = copy.deepcopy((scheduler, optimizer))
            if not hasattr(sched, method):
                return None
            try:
                return [float(v) for v in getattr(sched, method)()]
            except NotImplementedError:
                return None

        for k in range(plan.rows):
            if order == "scheduler_first":
                step(scheduler, k)
            out["lr"].append([g["lr"] for g in optimizer.param_groups])
            out["last"].append([float(v) for v in scheduler.get_last_lr()])
            out["get"].append(getter("get_lr"))
            out["closed"].append(getter("_get_closed_form_lr"))
            optimizer.step()
            if order == "optimizer_first":
                step(scheduler, k)
        if order == "scheduler_first" and plan.metrics is None:
            step(scheduler, plan.rows)  # the step that would produce one more row
        out["peek"] = [g["lr"] for g in optimizer.param_groups]
    return out


def _class_preset(cls: str) -> str:
    return cls.lower()


@pytest.mark.parametrize("cls", CLASSES)
def test_getters_equal_plain_torch_and_flags_follow_from_them(cls: str):
    name = _class_preset(cls)
    plan = _plan(name, epochs=SHORT.get(name))
    report = diff_mod.inspect_plan(plan)
    plain = _plain(name, plan)
    lr = np.array(plain["lr"])
    assert np.array_equal(report.trace.lr, lr)
    assert np.array_equal(report.last_lr, np.array(plain["last"]))

    # The class's facts, observed in plain torch.
    gets = plain["get"]
    raises = all(g is None for g in gets)
    never_differs = not raises and all(g == row for g, row in zip(gets, plain["lr"], strict=True))
    assert raises == (cls in RAISES)
    assert never_differs == (cls in GETTERS)
    assert (not raises and not never_differs) == (cls in RECURSIVE)
    assert (plain["closed"][0] is not None) == (cls in CLOSED_FORM)

    # lrviz reports exactly those values and flags exactly those rows.
    if raises:
        assert report.get_lr is None
        assert report.get_lr_raises is not None
        assert report.get_lr_raises.startswith("NotImplementedError")
    else:
        get = np.array(gets)
        assert np.array_equal(report.get_lr, get)
        nxt = np.vstack([lr[1:], [plain["peek"]]])
        differs = (get != lr).any(axis=1)
        ahead = differs & ((get == lr) | (get == nxt)).all(axis=1)
        flagged = report.flags & (diff_mod.GET_LR_AHEAD | diff_mod.GET_LR_REAPPLIED) != 0
        assert np.array_equal(flagged, differs)
        assert np.array_equal(report.flags & diff_mod.GET_LR_AHEAD != 0, ahead)
    if cls in CLOSED_FORM:
        closed = np.array(plain["closed"])
        assert np.array_equal(report.closed_form, closed)
        assert np.array_equal(
            report.flags & (diff_mod.CLOSED_DRIFT | diff_mod.CLOSED_DIFFERS) != 0,
            (closed != lr).any(axis=1),
        )
    else:
        assert report.closed_form is None
    assert not (report.flags & diff_mod.LAST_LR).any()


def test_exponentiallr_get_lr_runs_exactly_one_step_ahead():
    report = diff_mod.inspect_plan(_plan("exponentiallr"))
    assert report.get_lr is not None
    assert np.array_equal(report.get_lr[:-1], report.trace.lr[1:])
    assert report.get_lr[-1, 0] == report.trace.lr[-1, 0] * 0.9
    kind = next(k for k in report.kinds if k.id == "get_lr_ahead")
    assert (kind.rows, kind.first_row) == (30, 0)
    assert kind.note == (
        "get_lr() returned the NEXT row's lr on 30 rows (first: row 0, 0.09000000000000001 "
        "while the lr is 0.1): ExponentialLR.get_lr() is the recursive update step() applies "
        "(new lr from the current lr), not a getter, so called between steps it runs one step "
        "ahead. Read the lr with get_last_lr()."
    )


def test_steplr_get_lr_decays_twice_at_decay_epochs():
    report = diff_mod.inspect_plan(_plan("steplr"))
    assert report.disagreeing_rows == 3
    assert np.flatnonzero(report.flags).tolist() == [30, 60, 90]
    assert report.get_lr is not None
    assert report.get_lr[30, 0] == 0.1 * 0.1 * 0.1  # the decay at epoch 30, applied again
    assert [k.id for k in report.kinds] == ["get_lr_reapplied"]


def test_drift_note_gives_the_largest_gap_measured_in_plain_torch():
    plan = _plan("linearlr")
    report = diff_mod.inspect_plan(plan)
    plain = _plain("linearlr", plan)
    gap = np.abs(np.array(plain["closed"]) - np.array(plain["lr"]))
    drift = next(k for k in report.kinds if k.id == "closed_form_drift")
    assert drift.rows == int((gap > 0).any(axis=1).sum()) == 13
    assert f"at most {gap.max():.2g} absolute" in drift.note
    assert gap.max() < 1e-15  # rounding, not a different formula: never "differs"
    assert "closed_form_differs" not in [k.id for k in report.kinds]


def test_cycliclr_get_lr_writes_momentum_so_the_inspection_must_restore_it():
    # The fact, in plain torch: CyclicLR.get_lr() overwrites the group's momentum.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
        scheduler = torch.optim.lr_scheduler.CyclicLR(optimizer, 0.001, 0.006, step_size_up=4)
        optimizer.param_groups[0]["momentum"] = 0.123
        scheduler.get_lr()
    assert optimizer.param_groups[0]["momentum"] == 0.9
    # lrviz restores it and says so.
    report = diff_mod.inspect_plan(_plan("cycliclr", epochs=1))
    assert report.notes[1] == (
        "get_lr() also wrote param_groups[g]['momentum'] (a side effect: CyclicLR cycles "
        "momentum inside get_lr()); lrviz restored it after every call, so the rows are "
        "unchanged."
    )


def _same_trace(a, b) -> None:
    assert np.array_equal(a.lr, b.lr)
    assert np.array_equal(a.momentum, b.momentum, equal_nan=True)
    assert a.momentum_kind == b.momentum_kind
    assert a.warnings == b.warnings
    assert a.error == b.error


CASES = [(name, ()) for name in preset_names()] + [
    ("cycliclr", ("run.order=scheduler_first",)),
    ("onecyclelr_adam", ("run.order=scheduler_first",)),
    ("exponentiallr", ("run.step=fractional", "run.iters_per_epoch=3")),
    ("steplr", ("run.step=fractional", "run.iters_per_epoch=2", "run.order=scheduler_first")),
]


@pytest.mark.parametrize(("name", "overrides"), CASES)
def test_inspecting_changes_nothing(name: str, overrides: tuple[str, ...]):
    plan = load_plan(name, Options(overrides))
    report = diff_mod.inspect_plan(plan)
    _same_trace(report.trace, run(plan))


def test_inspection_warnings_are_not_the_runs_warnings():
    plan = _plan("steplr", "run.step=fractional", "run.iters_per_epoch=2")
    report = diff_mod.inspect_plan(plan)
    # The run's own warning (step(epoch) is deprecated) is kept, with the row it happened at...
    assert [(w.step, w.count, w.category) for w in report.trace.warnings] == [
        (1, 200, "UserWarning")
    ]
    assert report.trace.warnings[0].message.startswith("The epoch parameter in")
    # ...while get_lr()'s own "use get_last_lr()" warning is only a note.
    assert report.notes == [
        "the inspection's own calls made torch warn \"To get the last learning rate computed "
        'by the scheduler, please use `get_last_lr()`." (×200); expected, and not counted '
        "among the run's warnings."
    ]


def test_composites_and_plateau_explain_why_get_lr_raises():
    chained = diff_mod.inspect_plan(_plan("docs_chained"))
    assert chained.notes[0] == (
        "get_lr() raises NotImplementedError for ChainedScheduler: it has no formula of its "
        "own: step() steps its child schedulers. get_last_lr() and optimizer.param_groups are "
        "the getters."
    )
    plateau = diff_mod.inspect_plan(_plan("reducelronplateau"))
    assert plateau.notes[0] == (
        "get_lr() raises NotImplementedError for ReduceLROnPlateau: its lr reacts to the "
        "metric passed to step(), so there is nothing to compute. get_last_lr() and "
        "optimizer.param_groups are the getters."
    )
    assert chained.disagreeing_rows == plateau.disagreeing_rows == 0
    assert render_diff.summary_lines(chained)[0] == "all 10 rows agree: get_last_lr() equals the lr"


def test_sampling_keeps_first_last_and_disagreeing_rows():
    report = diff_mod.inspect_plan(_plan("steplr"))
    rows = render_diff.sample_rows(report, 12)
    assert len(rows) == 12
    assert {0, 30, 60, 90, 99} <= set(rows)


def test_a_run_that_fails_keeps_its_rows_and_failure():
    plan = _plan("onecyclelr", "scheduler.total_steps=10")
    report = diff_mod.inspect_plan(plan)
    assert report.trace.rows == 11
    assert report.trace.error is not None and report.trace.error.step == 11
    _same_trace(report.trace, run(plan))


# --- schedulers that are not torch LRSchedulers (mmengine-, timm-style, your own) ----------


class _Halving:
    """A duck-typed scheduler: step() halves every group's lr; no torch getter at all."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.t = 0
        self.base = [g["lr"] for g in optimizer.param_groups]

    def step(self):
        self.t += 1
        for group, base in zip(self.optimizer.param_groups, self.base, strict=True):
            group["lr"] = base * 0.5**self.t

    def state_dict(self):
        return {"t": self.t}


class _WithLastLr(_Halving):
    def get_last_lr(self):
        return [base * 0.5**self.t for base in self.base]


class _WithGetLr:
    """Only get_lr(), which (like timm's _get_lr) computes the value the next step sets;
    __slots__, so the object has no __dict__ for the inspection to save."""

    __slots__ = ("base", "optimizer", "t")

    def __init__(self, optimizer):
        self.optimizer, self.t = optimizer, 0
        self.base = [g["lr"] for g in optimizer.param_groups]

    def get_lr(self):
        return [base * 0.5 ** (self.t + 1) for base in self.base]

    def step(self):
        self.t += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr / 0.5  # the lr for step t


class _BrokenLastLr(_Halving):
    def get_last_lr(self):
        raise RuntimeError("no record kept")


DUCK_GROUPS = [{"lr": 0.1}, {"lr": 0.01}]


def _duck_diff(factory):
    import lrviz

    report = lrviz.diff(factory, epochs=4, param_groups=DUCK_GROUPS)
    _same_trace(report.trace, lrviz.simulate(factory, epochs=4, param_groups=DUCK_GROUPS))
    assert report.trace.lr.tolist() == [[0.1 * 0.5**k, 0.01 * 0.5**k] for k in range(4)]
    return report


def test_a_scheduler_without_getters_is_shown_without_blame():
    report = _duck_diff(_Halving)
    assert (report.last_lr, report.get_lr, report.closed_form) == (None, None, None)
    assert report.missing == ["get_last_lr", "get_lr", "closed_form"]
    assert report.kinds == [] and report.disagreeing_rows == 0
    assert render_diff.summary_lines(report) == [
        "4 rows, nothing to compare: _Halving has no lr getter",
        "note: _Halving is not a torch LRScheduler and has none of torch's lr getters "
        "(get_last_lr(), get_lr(), _get_closed_form_lr()): there is nothing to compare with the "
        "lr (optimizer.param_groups), which is shown as it is.",
    ]
    assert (
        next(render_diff.iter_csv(report)) == "step,epoch,iter,x,lr_group0,lr_group1,disagreement\n"
    )
    data = json.loads("".join(render_diff.iter_json(report)))
    assert data["missing"] == ["get_last_lr", "get_lr", "closed_form"]
    assert {(r["get_last_lr"], r["get_lr"], r["closed_form"]) for r in data["rows"]} == {
        (None, None, None)
    }
    assert data["summary"]["kinds"] == []
    table = render_diff.render_diff_table(report)
    assert table.title == "_Halving: _Halving has no lr getter to compare"
    assert [c.header for c in table.columns] == ["step", "epoch", "group", "lr", "kind"]


def test_a_scheduler_with_only_get_last_lr_is_compared_on_that():
    report = _duck_diff(_WithLastLr)
    assert report.missing == ["get_lr", "closed_form"]
    assert report.last_lr is not None and np.array_equal(report.last_lr, report.trace.lr)
    assert report.get_lr is None and report.disagreeing_rows == 0
    assert render_diff.summary_lines(report) == [
        "all 4 rows agree: get_last_lr() equals the lr",
        "note: _WithLastLr is not a torch LRScheduler and has no get_lr() or "
        "_get_closed_form_lr(): only get_last_lr() is compared with the lr "
        "(optimizer.param_groups).",
    ]
    header = next(render_diff.iter_csv(report))
    assert header == (
        "step,epoch,iter,x,lr_group0,get_last_lr_group0,lr_group1,get_last_lr_group1,disagreement\n"
    )


def test_a_scheduler_with_only_get_lr_is_compared_on_that_without_torchs_explanation():
    report = _duck_diff(_WithGetLr)
    assert report.missing == ["get_last_lr", "closed_form"]
    assert report.last_lr is None
    assert report.get_lr is not None
    assert np.array_equal(report.get_lr[:-1], report.trace.lr[1:])  # one step ahead
    assert [(k.id, k.rows) for k in report.kinds] == [("get_lr_ahead", 4)]
    assert report.kinds[0].note == (
        "get_lr() returned the NEXT row's lr on 4 rows (first: row 0, 0.05 while the lr "
        "(group0) is 0.1): called between steps, _WithGetLr.get_lr() computes what the next "
        "step() sets, so it runs one step ahead."
    )
    assert report.notes == [
        "_WithGetLr is not a torch LRScheduler and has no get_last_lr() or "
        "_get_closed_form_lr(): only get_lr() is compared with the lr (optimizer.param_groups)."
    ]
    data = json.loads("".join(render_diff.iter_json(report)))
    assert data["rows"][0]["get_last_lr"] is None
    assert data["rows"][0]["get_lr"] == [0.05, 0.005]
    assert render_diff.render_diff_table(report).title == "_WithGetLr: get_lr() vs the lr"


def test_a_get_last_lr_that_raises_is_reported_as_raising_not_stale():
    report = _duck_diff(_BrokenLastLr)
    assert [(k.id, k.rows) for k in report.kinds] == [("last_lr_error", 4)]
    assert report.kinds[0].note == (
        "get_last_lr() raised on 4 rows (first: row 0): RuntimeError: no record kept."
    )
    assert "get_lr_error" not in report.row_kinds(0)


# --- the verdict: which getter returns the lr in use ---------------------------------------


def test_the_verdict_names_the_getter_to_read_the_lr_with():
    use_groups = "use optimizer.param_groups[g]['lr']"
    assert (
        render_diff.verdict(_duck_diff(_Halving))
        == f"_Halving: no lr getter to compare; {use_groups}"
    )
    assert render_diff.verdict(_duck_diff(_WithLastLr)) == (
        "_WithLastLr: get_last_lr() returns the lr in use"
    )
    assert render_diff.verdict(_duck_diff(_WithGetLr)) == (
        f"_WithGetLr: get_lr() is not a getter — it computes the next step's lr; {use_groups}"
    )
    assert render_diff.verdict(_duck_diff(_BrokenLastLr)) == (
        f"_BrokenLastLr: get_last_lr() raises; {use_groups}"
    )
    constant = diff_mod.inspect_plan(_plan("constantlr", "scheduler.factor=1.0"))
    assert render_diff.verdict(constant) == (
        "ConstantLR: every getter agrees with the lr in use (get_last_lr(), get_lr() and the "
        "closed form)"
    )


def _report(flags: list[int]) -> DiffReport:
    """A report as diff would make it, with these per-row flags (values do not matter here)."""
    trace = run(_plan("steplr", epochs=len(flags)))
    lr = trace.lr
    return DiffReport(trace, lr, lr, None, lr, np.array(flags), [])


def test_the_verdict_follows_the_kinds():
    drift, differs = diff_mod.CLOSED_DRIFT, diff_mod.CLOSED_DIFFERS
    assert render_diff.verdict(_report([0, drift])) == (
        "StepLR: every getter agrees with the lr in use (get_last_lr() and get_lr()); the "
        "closed form up to rounding"
    )
    assert render_diff.verdict(_report([differs, 0])) == (
        "StepLR: the closed form follows another formula than step(); use get_last_lr()"
    )
    assert render_diff.verdict(_report([diff_mod.LAST_LR, 0])) == (
        "StepLR: get_last_lr() is stale; use get_lr()"
    )
    both = diff_mod.GET_LR_AHEAD | diff_mod.LAST_LR
    assert render_diff.verdict(_report([both, diff_mod.GET_LR_REAPPLIED])) == (
        "StepLR: get_lr() is not a getter — it re-applies the last update; get_last_lr() is "
        "stale; use optimizer.param_groups[g]['lr']"
    )
