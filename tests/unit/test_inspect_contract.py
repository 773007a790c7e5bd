"""What every inspector promises: the rows `lrviz table` shows, bit for bit, for every bundled
preset; and reports that are plain data (rich is for lrviz/render and lrviz/cli only)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import lrviz
from lrviz.errors import UsageError
from lrviz.inspect.diff import inspect_plan
from lrviz.inspect.resume import resume
from lrviz.inspect.state import state_at
from lrviz.presets import preset_names
from lrviz.trace import Trace

CASES = [(name, ()) for name in preset_names()] + [  # and the loop's other shapes
    ("cycliclr", ("run.order=scheduler_first", "run.epochs=2")),
    ("exponentiallr", ("run.step=fractional", "run.iters_per_epoch=3")),
    ("steplr", ("run.step=fractional", "run.iters_per_epoch=2", "run.order=scheduler_first")),
    ("multisteplr", ("run.iters_per_epoch=3",)),  # per-epoch steps, three rows an epoch
]


def _inspected(plan) -> dict[str, Trace]:
    """The run each inspector makes on its way: diff's, resume's and state's trace."""
    at = plan.rows // 2
    report = resume(plan, at)
    assert report.ok, f"the documented order resumes {plan.spec.name} at K={at} exactly"
    traces = {"resume": report.trace, "state": state_at(plan, at).trace}
    if plan.cadences:  # a scheduler list: diff inspects one object and says so
        with pytest.raises(UsageError):
            inspect_plan(plan)
    else:
        traces["diff"] = inspect_plan(plan).trace
    return traces


@pytest.mark.parametrize(("name", "overrides"), CASES)
def test_every_inspectors_rows_are_the_tables(name: str, overrides: tuple[str, ...]):
    table = lrviz.run(name, overrides=overrides)
    plan = lrviz.make_plan(name, overrides=overrides)
    for which, trace in _inspected(plan).items():
        assert trace.rows == table.rows, which
        assert np.array_equal(trace.lr, table.lr), which
        assert np.array_equal(trace.momentum, table.momentum, equal_nan=True), which
        assert trace.momentum_kind == table.momentum_kind, which
        assert (trace.warnings, trace.error) == (table.warnings, table.error), which


def test_inspectors_and_reports_do_not_load_rich():
    # ruff's banned-api (TID251) stops a direct import; this catches one through another module
    code = (
        "import sys\n"
        "import lrviz.reports, lrviz.inspect.diff, lrviz.inspect.resume, lrviz.inspect.state\n"
        "print(sorted(m for m in ('rich', 'torch', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "[]\n"
