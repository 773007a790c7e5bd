"""`lrviz resume`: every load variant's rows equal a plain-torch checkpoint/resume loop."""

from __future__ import annotations

import io
import warnings

import pytest
import torch

from lrviz.document import load_yaml
from lrviz.errors import UsageError
from lrviz.inspect import resume as resume_mod
from lrviz.load import Options, load_plan
from lrviz.presets import preset_path
from tests.reference import _find, _scheduler

CLASSES = [
    "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
    "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
    "CyclicLR", "OneCycleLR", "SequentialLR", "ChainedScheduler", "ReduceLROnPlateau",
]  # fmt: skip
SHORT = {"cycliclr": 2, "onecyclelr": 2}  # epochs for the per-batch presets
# torch's resume behaviour (docs/inspect.md), re-verified in plain torch on each class's preset:
# without the optimizer state only the first resumed row is wrong for these...
FIRST_ROW_ONLY = {"LambdaLR", "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR"}
# ...and loading the optimizer state before building the scheduler breaks these.
BUILT_AFTER_LOAD_BREAKS = {
    "LambdaLR", "ConstantLR", "LinearLR", "CosineAnnealingWarmRestarts", "CyclicLR",
    "OneCycleLR", "SequentialLR", "ChainedScheduler",
}  # fmt: skip


class _Plain:
    """A plain-torch training script for one preset: build, loop, checkpoint, resume."""

    def __init__(self, name: str, plan) -> None:
        self.data = load_yaml(preset_path(name).read_text())
        self.plan = plan

    def optimizer(self):
        opt = dict(self.data.get("optimizer") or {})
        opt_cls = _find(torch.optim, opt.pop("type", "SGD"))
        opt.setdefault("lr", 0.1)
        raw = self.data.get("param_groups") or [{}]
        groups = [{k: v for k, v in g.items() if k != "name"} for g in raw]
        return opt_cls(
            [{"params": [torch.zeros(1, requires_grad=True)], **g} for g in groups], **opt
        )

    def scheduler(self, optimizer):
        return _scheduler(self.data["scheduler"], optimizer, self.plan.rows)

    def loop(self, optimizer, scheduler, start: int, stop: int) -> list[tuple]:
        plan, rows = self.plan, []
        for k in range(start, stop):
            g = optimizer.param_groups
            rows.append(tuple(x["lr"] for x in g) + tuple(x.get("momentum", 0) for x in g))
            optimizer.step()
            if plan.metrics is not None:
                scheduler.step(plan.metrics[k])
            elif plan.step_mode == "fractional":
                it = plan.iters_per_epoch
                scheduler.step(k // it + (k % it) / it)
            else:
                scheduler.step()
        return rows

    def run(self, at: int) -> tuple[list[tuple], dict[str, list[tuple]], bool]:
        """(uninterrupted rows, resumed rows per variant, weights_only=True loads it)."""
        n = self.plan.rows
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            opt = self.optimizer()
            sched = self.scheduler(opt)
            full = self.loop(opt, sched, 0, at)
            buffer = io.BytesIO()
            torch.save({"o": opt.state_dict(), "s": sched.state_dict()}, buffer)
            full += self.loop(opt, sched, at, n)
            blob = buffer.getvalue()
            try:
                torch.load(io.BytesIO(blob), weights_only=True)
                safe = True
            except Exception:
                safe = False
            resumed = {}
            for variant in ("documented", "scheduler_then_optimizer", "scheduler_only",
                            "optimizer_before_scheduler"):  # fmt: skip
                ckpt = torch.load(io.BytesIO(blob), weights_only=False)
                opt = self.optimizer()
                if variant == "optimizer_before_scheduler":
                    opt.load_state_dict(ckpt["o"])
                    sched = self.scheduler(opt)
                    sched.load_state_dict(ckpt["s"])
                else:
                    sched = self.scheduler(opt)
                    if variant == "documented":
                        opt.load_state_dict(ckpt["o"])
                    sched.load_state_dict(ckpt["s"])
                    if variant == "scheduler_then_optimizer":
                        opt.load_state_dict(ckpt["o"])
                resumed[variant] = self.loop(opt, sched, at, n)
        return full, resumed, safe


@pytest.mark.parametrize("cls", CLASSES)
def test_every_variant_matches_a_plain_torch_resume(cls: str):
    name = cls.lower()
    plan = load_plan(name, Options(epochs=SHORT.get(name)))
    at = plan.rows // 2  # mid-run: every preset's lr there differs from a fresh build's
    report = resume_mod.resume(plan, at)
    full, resumed, safe = _Plain(name, plan).run(at)

    assert safe and report.weights_only  # weights_only=True suffices in torch 2.13
    for variant, rows in resumed.items():
        bad = [at + i for i, row in enumerate(rows) if row != full[at + i]]
        outcome = report.outcomes[variant][0]
        assert outcome.rows == plan.rows - at
        assert outcome.differing == len(bad), variant
        if bad:
            assert outcome.first is not None and outcome.first.row == bad[0]
            assert outcome.last_differing == bad[-1]
        else:
            assert outcome.first is None
    # The facts, in plain torch: the documented order (and the other load order) is exact...
    assert resumed["documented"] == resumed["scheduler_then_optimizer"] == full[at:]
    assert report.ok
    # ...without the optimizer state the first resumed row is wrong (it has the fresh lr)...
    wrong = [i for i, row in enumerate(resumed["scheduler_only"]) if row != full[at + i]]
    assert wrong[0] == 0
    assert (wrong == [0]) == (cls in FIRST_ROW_ONLY)
    # ...and building the scheduler after optimizer.load re-applies its start for these.
    assert (resumed["optimizer_before_scheduler"] != full[at:]) == (cls in BUILT_AFTER_LOAD_BREAKS)


def test_first_difference_names_row_group_and_both_values():
    report = resume_mod.resume(load_plan("steplr"), 40)
    outcome = report.outcomes["scheduler_only"][0]
    assert outcome.first is not None
    assert outcome.first.describe() == (
        "row 40: lr group0 0.010000000000000002 (uninterrupted) vs 0.1 (resumed)"
    )
    assert (outcome.differing, outcome.rows, outcome.last_differing) == (60, 60, 99)


def test_momentum_is_compared_too():
    # OneCycleLR on Adam cycles beta1; without the optimizer state beta1 restarts at 0.95.
    report = resume_mod.resume(load_plan("onecyclelr_adam"), 100)
    assert report.ok
    first = report.outcomes["scheduler_only"][0].first
    assert first is not None and first.row == 100 and first.column == "lr"
    cyclic = resume_mod.resume(load_plan("cycliclr", Options(epochs=2)), 50)
    first = cyclic.outcomes["scheduler_only"][0].first
    assert first is not None and first.column == "lr"


def test_cycliclr_load_state_dict_mutates_its_argument():
    # The fact that makes lrviz load an independent copy per variant.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
        scheduler = torch.optim.lr_scheduler.CyclicLR(optimizer, 0.001, 0.006)
        state = scheduler.state_dict()
        scheduler.load_state_dict(state)
        assert "_scale_fn_custom" not in state
        with pytest.raises(KeyError, match="_scale_fn_custom"):
            scheduler.load_state_dict(state)
    report = resume_mod.resume(load_plan("cycliclr_scale_fn", Options(epochs=2)), 30)
    assert all(report.outcomes[v.id][0].first is None or v.id in (
        "scheduler_only", "optimizer_before_scheduler") for v in resume_mod.VARIANTS)  # fmt: skip
    assert report.notes[1].startswith("lr_lambda/scale_fn are functions")
    assert report.notes[2].startswith("CyclicLR.load_state_dict() removes '_scale_fn_custom'")


def test_at_all_tries_every_checkpoint():
    plan = load_plan("constantlr")
    report = resume_mod.resume(plan, None)
    assert report.at == list(range(10))
    assert report.ok
    plain = _Plain("constantlr", plan)
    for at in range(10):
        full, resumed, _ = plain.run(at)
        for variant, rows in resumed.items():
            assert report.outcomes[variant][at].identical == (rows == full[at:]), (variant, at)
    # Without its optimizer state ConstantLR resumes exactly only while the fresh lr (base lr
    # × factor) is still the right one: checkpoints before total_iters=4.
    assert [o.identical for o in report.outcomes["scheduler_only"]] == [k < 4 for k in range(10)]


def test_range_and_size_limits():
    plan = load_plan("steplr")
    with pytest.raises(UsageError) as info:
        resume_mod.resume(plan, 100)
    assert str(info.value) == (
        "--at 100 is out of range for steplr: K must be 0..99 (K counts scheduler.step() calls "
        "and the run has 100 rows; resuming needs a row after the checkpoint)"
    )
    big = load_plan("cycliclr")
    with pytest.raises(UsageError) as info:
        resume_mod.resume(big, None)
    assert str(info.value) == (
        "--at all resumes from every one of the 1,200 rows (about 720,600 resumed rows per "
        "variant); it is refused above 1,000 rows: pick one K with --at K, or shorten the run "
        "with --epochs"
    )
    assert resume_mod.parse_at("all") is None and resume_mod.parse_at("7") == 7
    with pytest.raises(UsageError) as info:
        resume_mod.parse_at("seven")
    assert str(info.value) == "--at must be a step number K or 'all', not 'seven'"


def test_a_run_that_fails_resumes_into_the_same_failure():
    plan = load_plan("onecyclelr", Options(("scheduler.total_steps=10",)))
    report = resume_mod.resume(plan, 5)
    assert report.trace.error is not None and report.trace.error.step == 11
    documented = report.outcomes["documented"][0]
    assert documented.identical and documented.rows == 6
    with pytest.raises(UsageError) as info:
        resume_mod.resume(plan, 11)
    assert str(info.value) == (
        "--at 11: the run failed at row 11 (ValueError: Tried to step 11 times. The specified "
        "number of total steps is 10) before reaching 11 steps; use --at 0..10"
    )


def test_scheduler_first_order_resumes_exactly():
    plan = load_plan("exponentiallr", Options(("run.order=scheduler_first",)))
    report = resume_mod.resume(plan, 0)
    assert report.ok and report.outcomes["documented"][0].rows == 30
    report = resume_mod.resume(plan, 12)
    assert report.ok
    assert not report.outcomes["scheduler_only"][0].identical
