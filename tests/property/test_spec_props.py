"""Property tests: whatever a spec file holds, lrviz answers with rows or its own errors."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from lrviz.build import plan
from lrviz.document import read_document
from lrviz.errors import LrvizError, SpecError
from lrviz.spec import parse

KEYS = [
    "name",
    "description",
    "optimizer",
    "param_groups",
    "scheduler",
    "run",
    "type",
    "lr",
    "momentum",
    "betas",
    "T_max",
    "T_0",
    "step_size",
    "gamma",
    "milestones",
    "schedulers",
    "epochs",
    "iters_per_epoch",
    "step",
    "order",
    "metrics",
    "lr_lambda",
    "max_lr",
    "total_steps",
    "csv",
    "column",
    "check",
    "expect",
]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(
        [
            "StepLR",
            "OneCycleLR",
            "SequentialLR",
            "ReduceLROnPlateau",
            "LambdaLR",
            "epoch",
            "batch",
            "fractional",
            "0.9 ** epoch",
            "scheduler_first",
            "SGD",
            "Adam",
            "",
            "1e-6",
        ]
    )
    | st.text(max_size=12)
)
VALUES = st.recursive(
    SCALARS,
    lambda kids: (
        st.lists(kids, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), kids, max_size=5)
    ),
    max_leaves=25,
)
DOCS = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=6)

VALID = """\
name: demo
optimizer: {type: SGD, lr: 0.1, momentum: 0.9}
param_groups:
  - {name: a, lr: 0.01}
  - {name: b, lr: 0.1}
scheduler:
  type: SequentialLR
  milestones: [3]
  schedulers:
    - {type: LinearLR, start_factor: 0.1, total_iters: 3}
    - {type: CosineAnnealingLR, T_max: 7, eta_min: 1e-6}
run: {epochs: 10, iters_per_epoch: 2, step: batch}
"""


def _check(data) -> None:
    spec = parse(data, "fuzz.yaml", {}, {}, None, "fuzz")
    try:
        p = plan(spec, max_rows=2_000)
    except SpecError as exc:
        assert exc.problems and all(str(pr).startswith("fuzz.yaml") for pr in exc.problems)
        return
    from lrviz.simulation import run

    try:
        trace = run(p)
    except LrvizError:
        return
    assert trace.rows <= p.rows


@given(st.text(alphabet=string.printable + "é→\u2028", max_size=300))
def test_any_text_reads_or_reports_problems(text: str):
    _data, lines, problems = read_document(text, "fuzz.yaml")
    assert all(p.source == "fuzz.yaml" for p in problems)
    assert all(isinstance(v, int) for v in lines.values())


@given(DOCS)
def test_any_document_parses_plans_and_runs_or_fails_cleanly(data):
    _check(data)


@given(st.data())
def test_mutated_valid_specs_fail_cleanly(data):
    lines = VALID.splitlines()
    index = data.draw(st.integers(0, len(lines) - 1))
    how = data.draw(st.sampled_from(["drop", "dup", "edit", "swap"]))
    if how == "drop":
        del lines[index]
    elif how == "dup":
        lines.insert(index, lines[index])
    elif how == "swap":
        other = data.draw(st.integers(0, len(lines) - 1))
        lines[index], lines[other] = lines[other], lines[index]
    else:
        line = lines[index]
        pos = data.draw(st.integers(0, len(line)))
        junk = data.draw(st.text(alphabet=string.printable, max_size=4))
        lines[index] = line[:pos] + junk + line[pos + 1 :]
    text = "\n".join(lines) + "\n"
    doc, _, problems = read_document(text, "fuzz.yaml")
    if not problems:
        _check(doc)
