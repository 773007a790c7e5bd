"""The torch-free spec layer: YAML 1.2 numbers, key paths with lines, every problem reported."""

from __future__ import annotations

import math

import pytest
import yaml

from lrviz.document import apply_override, load_yaml, read_document
from lrviz.errors import Problem, SpecError, UsageError
from lrviz.load import Options, parse_source
from lrviz.presets import Source


def _spec(text: str, options: Options | None = None):
    return parse_source(Source(text, "cfg.yaml", "cfg", None, None), options or Options())


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e-6", 1e-6),
        ("1E-6", 1e-6),
        ("-1e-3", -1e-3),
        ("+2e5", 2e5),
        ("1.5e3", 1500.0),
        (".5", 0.5),
        ("1.", 1.0),
        ("0.1", 0.1),
        (".inf", math.inf),
        ("-.inf", -math.inf),
        ("10", 10),
        ("-3", -3),
        ("1_000", 1000),
    ],
)
def test_numbers_follow_yaml_1_2(text: str, value: float):
    loaded = load_yaml(f"v: {text}")["v"]
    assert loaded == value and type(loaded) is type(value)


def test_pyyaml_default_reads_1e_minus_6_as_text_which_is_why_lrviz_has_its_own_resolver():
    assert yaml.safe_load("v: 1e-6")["v"] == "1e-6"
    assert load_yaml("v: 1e-6")["v"] == 1e-6


def test_nan_is_a_float():
    assert math.isnan(load_yaml("v: .nan")["v"])


def test_quoted_numbers_stay_text():
    assert load_yaml("v: '1e-6'")["v"] == "1e-6"


def test_lines_come_from_the_node_tree():
    text = "scheduler:\n  type: StepLR\n  step_size: 30\nrun:\n  epochs: 5\n  metrics: [1, 2]\n"
    _, lines, problems = read_document(text, "cfg.yaml")
    assert problems == []
    assert lines["scheduler"] == 1
    assert lines["scheduler.step_size"] == 3
    assert lines["run.epochs"] == 5
    assert lines["run.metrics[1]"] == 6


def test_duplicate_keys_are_problems_not_silently_last_wins():
    _, _, problems = read_document("run:\n  epochs: 5\n  epochs: 6\n", "cfg.yaml")
    assert problems == [Problem("cfg.yaml", "run.epochs", 3, "duplicate key")]


def test_a_duplicate_is_reported_where_it_is_and_the_kept_value_is_located():
    text = (
        "scheduler:\n"  # 1
        "  type: StepLR\n"  # 2
        "  step_size: {a: 1}\n"  # 3
        "  gamma: 0.5\n"  # 4
        "  step_size:\n"  # 5: PyYAML keeps this one
        "    b: 2\n"  # 6
        "  step_size: 7\n"  # 7
        "base: &b {x: 1}\n"  # 8
        "merged: {<<: *b, x: 2}\n"  # 9: a merge key is not a duplicate
    )
    data, lines, problems = read_document(text, "cfg.yaml")
    assert data["scheduler"]["step_size"] == 7
    assert problems == [
        Problem("cfg.yaml", "scheduler.step_size", 5, "duplicate key"),
        Problem("cfg.yaml", "scheduler.step_size", 7, "duplicate key"),
    ]
    assert lines["scheduler.step_size"] == 7  # where the value used is
    assert "scheduler.step_size.a" not in lines and "scheduler.step_size.b" not in lines
    assert lines["scheduler.gamma"] == 4 and lines["merged.x"] == 9


def test_yaml_syntax_error_names_line_and_column():
    _, _, problems = read_document("scheduler:\n  type: StepLR\n   step_size: 3\n", "cfg.yaml")
    assert [str(p) for p in problems] == [
        "cfg.yaml:3: YAML syntax error: mapping values are not allowed here (column 13)"
    ]


def test_alias_bombs_are_bounded():
    bomb = "a: &a [1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    _data, lines, problems = read_document(bomb, "cfg.yaml")
    assert problems == [] and len(lines) < 200  # aliases are walked once, not expanded


def test_unknown_keys_get_did_you_mean_with_their_lines():
    spec = _spec("schedular: {type: StepLR}\nrun:\n  epochs: 3\n  stpe: batch\n")
    assert [str(p) for p in spec.problems] == [
        "cfg.yaml:1: schedular: unknown key; did you mean 'scheduler'?",
        "cfg.yaml: scheduler: missing: every spec needs a scheduler, "
        "e.g. {type: StepLR, step_size: 30}",
        "cfg.yaml:4: run.stpe: unknown key; did you mean 'step'?",
    ]


def test_defaults_follow_the_spec():
    spec = _spec("scheduler: {type: StepLR, step_size: 3}\nrun: {epochs: 4}\n")
    assert spec.problems == []
    assert (spec.optimizer_type, spec.optimizer_kwargs) == ("SGD", {"lr": 0.1})
    assert (spec.groups, spec.group_names) == ([{}], ["group0"])
    assert (spec.run.iters_per_epoch, spec.run.step, spec.run.order) == (1, None, "optimizer_first")
    assert spec.name == "cfg"


def test_overrides_are_yaml_parsed_and_located_at_the_flag():
    spec = _spec(
        "scheduler: {type: StepLR, step_size: 3}\nrun: {epochs: 4}\n",
        Options(("scheduler.gamma=5e-1", "run.epochs=ten")),
    )
    assert spec.scheduler.kwargs["gamma"] == 0.5
    assert [str(p) for p in spec.problems] == [
        "--set run.epochs=ten: run.epochs: expected a whole number, got 'ten'"
    ]


def test_override_into_a_list_item():
    data = {"scheduler": {"schedulers": [{"type": "LinearLR"}, {"type": "StepLR"}]}}
    assert apply_override(data, "scheduler.schedulers.1.step_size=7") == (
        "scheduler.schedulers[1].step_size"
    )
    assert data["scheduler"]["schedulers"][1]["step_size"] == 7


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("noequals", "--set 'noequals': expected dotted.key=value, e.g. scheduler.T_0=10"),
        ("scheduler.type.x=1", "--set 'scheduler.type.x=1': scheduler.type is not a mapping"),
        ("a.5=1", "--set 'a.5=1': a is not a mapping"),
    ],
)
def test_bad_overrides_are_usage_errors(assignment: str, message: str):
    data = {"scheduler": {"type": "StepLR"}, "a": 3}
    with pytest.raises(UsageError) as err:
        apply_override(data, assignment)
    assert str(err.value) == message


def test_metrics_from_a_csv_column(tmp_path):
    (tmp_path / "log.csv").write_text("epoch,val_loss\n0,1.0\n1,\n2,0.5\n")
    source = Source(
        "scheduler: {type: ReduceLROnPlateau}\nrun:\n  epochs: 2\n"
        "  metrics: {csv: log.csv, column: val_loss}\n",
        "cfg.yaml",
        "cfg",
        tmp_path,
        None,
    )
    spec = parse_source(source)
    assert spec.problems == [] and spec.run.metrics == [1.0, 0.5]


def test_metrics_csv_with_a_misspelled_column(tmp_path):
    (tmp_path / "log.csv").write_text("epoch,val_loss\n0,1.0\n")
    source = Source(
        "scheduler: {type: ReduceLROnPlateau}\nrun:\n  epochs: 2\n"
        "  metrics: {csv: log.csv, column: val_los}\n",
        "cfg.yaml",
        "cfg",
        tmp_path,
        None,
    )
    assert [str(p) for p in parse_source(source).problems] == [
        "cfg.yaml:4: run.metrics.column: log.csv has no column 'val_los' "
        "(columns: epoch, val_loss); did you mean 'val_loss'?"
    ]


def test_spec_error_lists_problems_in_file_order():
    err = SpecError([Problem("a.yaml", "x", 9, "late"), Problem("a.yaml", "y", 2, "early")])
    assert str(err) == "a.yaml:2: y: early\na.yaml:9: x: late"


def test_keys_that_look_like_key_path_syntax_are_located():
    # Found by fuzzing: a key named "]" once crashed the locator.
    spec = _spec(
        "optimizer: {']': 1, 'a[0]': 2}\nscheduler: {type: StepLR, step_size: 2}\n"
        "run: {epochs: 2}\n"
    )
    from lrviz.build import plan

    with pytest.raises(SpecError) as err:
        plan(spec)
    assert [str(p) for p in err.value.problems] == [
        "cfg.yaml:1: optimizer.]: unknown argument for SGD",
        "cfg.yaml:1: optimizer.a[0]: unknown argument for SGD",
    ]
