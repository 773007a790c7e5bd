"""`lrviz state`: the state_dict() after K steps equals plain torch's, children included."""

from __future__ import annotations

import json
import math
import warnings

import pytest
import torch
from rich.console import Console

from lrviz.document import load_yaml
from lrviz.errors import UsageError
from lrviz.inspect import state as state_mod
from lrviz.load import Options, load_plan
from lrviz.presets import preset_path
from lrviz.render import state as render_state
from lrviz.render.json import plain
from lrviz.reports import StateNode
from tests.reference import _find, _scheduler

CLASSES = [
    "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
    "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
    "CyclicLR", "OneCycleLR", "SequentialLR", "ChainedScheduler", "ReduceLROnPlateau",
]  # fmt: skip


def _plain_state(name: str, plan, steps: int) -> dict:
    """Plain torch: build from the preset's YAML, run the loop until `steps` scheduler steps."""
    data = load_yaml(preset_path(name).read_text())
    opt = dict(data.get("optimizer") or {})
    opt_cls = _find(torch.optim, opt.pop("type", "SGD"))
    opt.setdefault("lr", 0.1)
    groups = [{k: v for k, v in g.items() if k != "name"} for g in data.get("param_groups") or [{}]]
    params = [{"params": [torch.zeros(1, requires_grad=True)], **g} for g in groups]
    iters = plan.iters_per_epoch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimizer = opt_cls(params, **opt)
        scheduler = _scheduler(data["scheduler"], optimizer, plan.rows)
        for k in range(steps):
            optimizer.step()
            if plan.metrics is not None:
                scheduler.step(plan.metrics[k])
            elif plan.step_mode == "fractional":
                scheduler.step(k // iters + (k % iters) / iters)
            else:
                scheduler.step()
    return scheduler.state_dict()


def _as_state_dict(node: StateNode) -> dict:
    """The tree put back together the way torch nests it."""
    out = dict(node.state)
    if node.children:
        out["_schedulers"] = [_as_state_dict(c) for c in node.children]
    return out


@pytest.mark.parametrize("cls", CLASSES)
def test_state_after_k_steps_equals_plain_torch(cls: str):
    name = cls.lower()
    plan = load_plan(name, Options(epochs={"cycliclr": 2, "onecyclelr": 2}.get(name)))
    for at in (0, plan.rows // 3, plan.rows):
        report = state_mod.state_at(plan, at)
        node = report.node
        assert node is not None and report.trace.error is None
        assert node.cls == cls
        assert _as_state_dict(node) == _plain_state(name, plan, at)


def test_state_holds_no_functions_and_the_tree_shows_the_expressions():
    plan = load_plan("lambdalr")
    node = state_mod.state_at(plan, 3).node
    assert node is not None
    assert node.state["lr_lambdas"] == [None, None]  # torch never saves plain functions
    assert node.expressions == {"lr_lambdas": ["0.95 ** epoch", "1 / (1 + 0.1 * epoch)"]}
    console = Console(width=200, record=True)
    console.print(render_state.render_tree(node, "title"))
    text = console.export_text()
    assert (
        "lr_lambdas: [None, None]  ← functions are not saved; this spec's lr_lambda: "
        '["0.95 ** epoch", "1 / (1 + 0.1 * epoch)"]'
    ) in text
    assert "last_epoch: 3" in text


def test_cycliclr_scale_fn_is_not_saved_either():
    node = state_mod.state_at(load_plan("cycliclr_scale_fn"), 5).node
    assert node is not None
    assert node.state["_scale_fn_custom"] is None
    doc = render_state.to_json(node)
    assert doc["functions_not_saved"] == {"_scale_fn_custom": "0.5 * (1 + sin(x * pi / 2))"}
    assert doc["state"]["last_epoch"] == 5


def test_composite_children_nest_with_their_spec_keys():
    node = state_mod.state_at(load_plan("warmup_cosine"), 7).node
    assert node is not None
    assert [(c.cls, c.key) for c in node.children] == [
        ("LinearLR", "scheduler.schedulers[0]"),
        ("CosineAnnealingLR", "scheduler.schedulers[1]"),
    ]
    assert "_schedulers" not in node.state
    doc = render_state.to_json(node)
    assert [c["class"] for c in doc["state"]["_schedulers"]] == ["LinearLR", "CosineAnnealingLR"]
    json.dumps(doc)  # JSON-safe throughout


def test_scheduler_first_order_counts_steps_the_same_way():
    plan = load_plan("steplr", Options(("run.order=scheduler_first",)))
    for at in (0, 1, 31, plan.rows):
        node = state_mod.state_at(plan, at).node
        assert node is not None
        assert node.state["last_epoch"] == at
        assert node.state["_step_count"] == at + 1


def test_k_out_of_range_names_the_range():
    plan = load_plan("steplr")
    for at in (-1, 101):
        with pytest.raises(UsageError) as info:
            state_mod.state_at(plan, at)
        assert str(info.value) == (
            f"--at {at} is out of range for steplr: K must be 0..100 (K counts scheduler.step() "
            f"calls and the run has 100 rows; 0 is the freshly built scheduler)"
        )


def test_a_state_past_the_failure_does_not_exist():
    plan = load_plan("onecyclelr", Options(("scheduler.total_steps=10",)))
    report = state_mod.state_at(plan, 20)
    assert report.node is None
    assert report.trace.error is not None and report.trace.error.step == 11
    node = state_mod.state_at(plan, 10).node
    assert node is not None and node.state["last_epoch"] == 10


def test_json_values_are_json_safe():
    assert plain(math.inf) == "Infinity"
    assert plain(-math.inf) == "-Infinity"
    assert plain(math.nan) == "NaN"
    assert plain((0.9, 0.999)) == [0.9, 0.999]
    assert plain(lambda x: x) == "<function>"
    assert plain(torch.tensor([0.5])) == [0.5]
    saved = StateNode("LambdaLR", "scheduler", {"fn": lambda x: x}, expressions={"fn": "0.9 ** x"})
    assert render_state.to_json(saved)["state"]["fn"] == "0.9 ** x"  # a callable that was saved
    node = state_mod.state_at(load_plan("reducelronplateau"), 0).node
    assert node is not None
    assert render_state.to_json(node)["state"]["best"] == "Infinity"  # mode=min starts at inf


def test_a_state_that_cannot_be_taken_is_a_run_error_not_a_torch_failure():
    from lrviz.errors import RunError

    def broken(built):
        raise TypeError("cannot pickle 'generator' object")

    with pytest.raises(RunError) as info:
        state_mod.capture(load_plan("steplr"), [5], broken)
    assert str(info.value) == (
        "run failed at row 5: saving the state after 5 steps raised TypeError: cannot pickle "
        "'generator' object"
    )
