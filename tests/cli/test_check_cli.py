"""`lrviz check`, `lrviz rules` and `lrviz snapshot` through the command line (CliRunner)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from lrviz.checks.registry import RULES
from lrviz.cli import app
from lrviz.presets import preset_names

DATA = Path(__file__).parents[1] / "data" / "check"
COSINE = (
    "T_max=30 is shorter than the run (99 scheduler steps): the lr reaches its minimum 0.0001 at "
    "row 30 (epoch 30) and climbs back to 0.0206901 by row 99; set T_max to at least 99"
)
EXPR = (
    "unknown name 'foo' (allowed: epoch, pi, e, sqrt, exp, log, log2, log10, sin, cos, tan, "
    "floor, ceil, abs, min, max, pow)"
)


def lrviz(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repo-like folder: configs/ with a clean spec, a warning, an error; cwd at its root."""
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "configs"
    (root / "sub").mkdir(parents=True)
    (root / ".hidden").mkdir()
    shutil.copy(DATA / "lrv003_cosine_short.yaml", root / "sub" / "cosine.yaml")
    shutil.copy(DATA / "lrv003_cosine_short.yaml", root / ".hidden" / "skipped.yaml")
    shutil.copy(DATA / "expect_ok.yaml", root / "ok.yml")
    (root / "expr.yaml").write_text(
        'scheduler:\n  type: LambdaLR\n  lr_lambda: "0.1 * foo"\nrun:\n  epochs: 5\n'
    )
    (root / "notes.txt").write_text("not a spec\n")
    return root


def test_text_format_one_line_per_finding_and_exit_1_on_error(configs: Path):
    result = lrviz("check", "configs")
    assert result.exit_code == 1
    assert result.stdout == (
        f"configs/expr.yaml:3: LRV001 error: scheduler.lr_lambda: {EXPR}; expr: 0.1 * foo\n"
        f"configs/sub/cosine.yaml:5: LRV003 warning: scheduler.T_max: {COSINE}\n"
        "3 files checked: 1 error, 1 warning, 0 silenced\n"
    )
    assert result.stderr == ""


def test_warnings_alone_exit_0_and_strict_makes_them_fail(configs: Path):
    result = lrviz("check", "configs/sub/cosine.yaml", "configs/ok.yml")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        f"configs/sub/cosine.yaml:5: LRV003 warning: scheduler.T_max: {COSINE}\n"
        "2 files checked: 0 errors, 1 warning, 0 silenced\n"
    )
    strict = lrviz("check", "--strict", "configs/sub/cosine.yaml", "configs/ok.yml")
    assert strict.exit_code == 1
    assert strict.stdout.splitlines()[-1] == (
        "2 files checked: 0 errors, 1 warning, 0 silenced (--strict: warnings count as errors)"
    )


def test_clean_specs_exit_0(configs: Path):
    result = lrviz("check", "--strict", "configs/ok.yml", "steplr")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "2 files checked: 0 errors, 0 warnings, 0 silenced\n",
        "",
    )


def test_json_format_matches_spec_section_4(configs: Path):
    result = lrviz("check", "--format", "json", "configs/sub/cosine.yaml", "configs/expr.yaml")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "files": [
            {
                "path": "configs/sub/cosine.yaml",
                "ok": True,
                "findings": [
                    {
                        "id": "LRV003",
                        "severity": "warning",
                        "line": 5,
                        "key": "scheduler.T_max",
                        "message": COSINE,
                    }
                ],
            },
            {
                "path": "configs/expr.yaml",
                "ok": False,
                "findings": [
                    {
                        "id": "LRV001",
                        "severity": "error",
                        "line": 3,
                        "key": "scheduler.lr_lambda",
                        "message": f"{EXPR}\n    expr: 0.1 * foo\n                ^^^",
                    }
                ],
            },
        ],
        "summary": {"files": 2, "errors": 1, "warnings": 1, "silenced": 0},
    }


def test_json_ok_is_false_for_warnings_under_strict(configs: Path):
    result = lrviz("check", "-f", "json", "--strict", "configs/sub/cosine.yaml")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["files"][0]["ok"] is False


def test_json_line_and_key_are_null_without_a_place(configs: Path):
    bad = Path("configs/bin.yaml")
    bad.write_bytes(b"\xff\xfe")
    result = lrviz("check", "-f", "json", str(bad))
    assert result.exit_code == 1
    assert json.loads(result.stdout)["files"][0]["findings"] == [
        {
            "id": "LRV001",
            "severity": "error",
            "line": None,
            "key": None,
            "message": "not UTF-8 text (invalid byte at line 1)",
        }
    ]


def test_github_format_annotations(configs: Path):
    result = lrviz("check", "--format", "github", "configs")
    assert result.exit_code == 1
    assert result.stdout == (
        "::error file=configs/expr.yaml,line=3,title=LRV001::"
        f"scheduler.lr_lambda: {EXPR}%0A    expr: 0.1 * foo"
        "%0A                ^^^\n"
        f"::warning file=configs/sub/cosine.yaml,line=5,title=LRV003::scheduler.T_max: {COSINE}\n"
        "3 files checked: 1 error, 1 warning, 0 silenced\n"
    )


def test_github_escapes_properties_and_omits_a_missing_line(configs: Path):
    odd = Path("configs/a,b%c.yaml")
    odd.write_bytes(b"\xff")
    result = lrviz("check", "-f", "github", str(odd))
    assert result.stdout.splitlines()[0] == (
        "::error file=configs/a%2Cb%25c.yaml,title=LRV001::not UTF-8 text (invalid byte at line 1)"
    )


def test_spec_errors_point_at_their_lines(configs: Path):
    result = lrviz(
        "check", str(DATA / "lrv001_spec_error.yaml"), str(DATA / "lrv001_yaml_error.yaml")
    )
    spec, yaml_file = DATA / "lrv001_spec_error.yaml", DATA / "lrv001_yaml_error.yaml"
    assert result.exit_code == 1
    assert result.stdout == (
        f"{spec}:4: LRV001 error: scheduler.step_size: expected an integer, got 'ten'\n"
        f"{spec}:7: LRV001 error: run.epoch: unknown key; did you mean 'epochs'?\n"
        f"{yaml_file}:5: LRV001 error: YAML syntax error: expected ',' or ']', but got ':' "
        "(column 4)\n"
        "2 files checked: 3 errors, 0 warnings, 0 silenced\n"
    )


def test_run_failure_is_a_finding_not_a_crash(configs: Path):
    spec = DATA / "lrv002_onecycle.yaml"
    result = lrviz("check", str(spec), "configs/ok.yml")
    assert (result.exit_code, result.stderr) == (1, "")
    assert result.stdout == (
        f"{spec}:6: LRV002 error: scheduler.total_steps: the run fails at row 11 "
        "(epoch 1, iter 1): ValueError: Tried "
        "to step 11 times. The specified number of total steps is 10 (rows 0..10 were "
        "produced)\n"
        "2 files checked: 1 error, 0 warnings, 0 silenced\n"
    )


def test_ignore_on_the_command_line_counts_silenced(configs: Path):
    args = ("check", "configs/sub/cosine.yaml", str(DATA / "lrv014_underflow.yaml"))
    for ignore in (("--ignore", "LRV003", "--ignore", "lrv014"), ("--ignore", "LRV003,LRV014")):
        result = lrviz(*args, *ignore)
        assert (result.exit_code, result.stdout) == (
            0,
            "2 files checked: 0 errors, 0 warnings, 2 silenced\n",
        )


def test_ignore_in_the_spec_counts_silenced():
    result = lrviz("check", str(DATA / "ignored.yaml"))
    assert (result.exit_code, result.stdout) == (
        0,
        "1 file checked: 0 errors, 0 warnings, 1 silenced\n",
    )


def test_glob_finds_yaml_recursively_and_skips_hidden(configs: Path):
    result = lrviz("check", "configs/**/*.yaml")
    assert result.stdout.splitlines()[-1] == "2 files checked: 1 error, 1 warning, 0 silenced"


def test_same_file_twice_is_checked_once(configs: Path):
    result = lrviz("check", "configs/ok.yml", "./configs/ok.yml", "configs")
    assert result.stdout.splitlines()[-1] == "3 files checked: 1 error, 1 warning, 0 silenced"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.yaml"], "error: missing.yaml: no such file or folder\n"),
        (["configs/*.json"], "error: configs/*.json: no .yaml or .yml file matches\n"),
        (["stepplr"], "error: 'stepplr' is not a file, a bundled preset or a scheduler class"),
        (
            ["--ignore", "LRV04", "configs"],
            "error: unknown rule 'LRV04'; did you mean 'LRV004'? (see 'lrviz rules')\n",
        ),
        (
            ["--ignore", "LRV001", "configs"],
            "error: --ignore LRV001: LRV001 (spec-invalid) cannot be silenced\n",
        ),
        (
            ["--golden", "g.csv", "configs"],
            "error: --golden g.csv: a single CSV needs a single SPEC (3 given); give a folder of "
            "<stem>.csv files to check several\n",
        ),
        (
            ["--golden", "g.csv", "configs/ok.yml"],
            "error: --golden g.csv: no such file (write it with lrviz snapshot)\n",
        ),
    ],
)
def test_usage_errors_exit_2(configs: Path, args: list[str], message: str):
    (configs / "empty").mkdir()
    result = lrviz("check", *args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(message)


def test_empty_folder_and_bad_format_exit_2(configs: Path):
    (configs / "empty").mkdir()
    empty = lrviz("check", "configs/empty")
    assert (empty.exit_code, empty.stderr) == (
        2,
        "error: configs/empty: no .yaml or .yml files in this folder\n",
    )
    assert lrviz("check", "--format", "xml", "configs").exit_code == 2


def test_rules_lists_every_rule_and_explains_one():
    listing = lrviz("rules")
    assert listing.exit_code == 0
    lines = listing.stdout.splitlines()
    assert lines[1] == (
        "LRV001  error    spec-invalid                   the spec cannot be loaded (YAML error, "
        "unknown key, wrong type, bad check/expect block)"
    )
    assert [line[:6] for line in lines[:-1]] == [f"LRV{i:03d}" for i in range(len(RULES))]
    one = lrviz("rules", "lrv003")
    assert one.exit_code == 0
    assert one.stdout.splitlines()[:3] == [
        "LRV003 cosine-horizon-short (warning)",
        "CosineAnnealingLR's T_max is shorter than the run, so the lr climbs back up",
        "",
    ]
    unknown = lrviz("rules", "nothing")
    assert (unknown.exit_code, unknown.stderr) == (
        2,
        "error: unknown rule 'nothing' (see 'lrviz rules')\n",
    )


def test_snapshot_then_golden_check_catches_a_changed_schedule(configs: Path):
    golden = Path("golden")
    golden.mkdir()
    wrote = lrviz("snapshot", "configs/sub/cosine.yaml", "steplr", "-o", "golden")
    assert (wrote.exit_code, wrote.stderr) == (0, "")
    assert wrote.stdout == (
        "wrote golden/cosine.csv (100 rows)\nwrote golden/steplr.csv (100 rows)\n"
    )
    same = lrviz(
        "check", "configs/sub/cosine.yaml", "steplr", "--golden", "golden", "--ignore", "LRV003"
    )
    assert (same.exit_code, same.stdout) == (
        0,
        "2 files checked: 0 errors, 0 warnings, 1 silenced\n",
    )
    changed = lrviz(
        "check", "steplr", "--golden", "golden/steplr.csv", "--set", "scheduler.gamma=0.5"
    )
    assert changed.exit_code == 1
    assert changed.stdout == (
        "steplr: LRV018 error: differs from golden golden/steplr.csv at row 30, column "
        "lr_group0: golden 0.010000000000000002, now 0.05 (relative difference 0.8, rtol 1e-12); "
        "70 of 100 rows differ\n"
        "1 file checked: 1 error, 0 warnings, 0 silenced\n"
    )
    missing = lrviz("check", "multisteplr", "--golden", "golden")
    assert missing.stdout.splitlines()[0] == (
        "multisteplr: LRV018 error: no golden file golden/multisteplr.csv; write it with: "
        "lrviz snapshot multisteplr -o golden/multisteplr.csv"
    )


def test_snapshot_writes_the_export_csv_and_refuses_the_spec_itself(configs: Path):
    result = lrviz("snapshot", "steplr", "-o", "steplr.csv")
    assert result.exit_code == 0
    assert Path("steplr.csv").read_text().splitlines()[:2] == [
        "step,epoch,iter,x,lr_group0,momentum_group0",
        "0,0,0,0.0,0.1,0.9",
    ]
    same = lrviz("snapshot", "configs/ok.yml", "-o", "configs/ok.yml")
    assert (same.exit_code, same.stderr) == (
        2,
        "error: configs/ok.yml: refusing to overwrite the spec being read\n",
    )
    several = lrviz("snapshot", "steplr", "configs/ok.yml", "-o", "x.csv")
    assert (several.exit_code, several.stderr) == (
        2,
        "error: -o x.csv: 2 SPECs need a folder: an existing one, or end the name with '/' to "
        "create it\n",
    )


def test_snapshot_of_a_failing_run_writes_its_rows_and_exits_1(configs: Path):
    spec = DATA / "lrv002_onecycle.yaml"
    result = lrviz("snapshot", str(spec), "-o", "fail.csv")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {spec}: run failed at row 11: ValueError: Tried to step 11 times. The specified "
        "number of total steps is 10 (rows 0..10 were produced)\n"
    )
    assert len(Path("fail.csv").read_text().splitlines()) == 12  # header + rows 0..10


OVERRIDES = st.tuples(
    st.sampled_from(
        [
            "scheduler.T_max",
            "scheduler.T_mult",
            "scheduler.milestones",
            "scheduler.type",
            "scheduler.schedulers",
            "scheduler.schedulers.0.total_iters",
            "optimizer.lr",
            "run.epochs",
            "run.step",
            "run.metrics",
            "expect.lr_at",
            "expect.monotonic",
            "check.ignore",
        ]
    ),
    st.sampled_from(
        [
            "0", "-1", "3", ".nan", "1e400", "[]", "[5, 2]", "[0, 0]", "'ten'", "null",
            "StepLR", "fractional", "[-1.0, .nan]", "[LRV003]", "[{epoch: 3, lr: 0.1}]", "{",
        ]
    ),
)  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(preset_names()), st.lists(OVERRIDES, max_size=3))
def test_any_override_ends_in_findings_never_a_crash(preset: str, sets: list[tuple[str, str]]):
    args = ["check", preset, "--format", "json", "--max-rows", "5000"]
    for key, value in sets:
        args += ["--set", f"{key}={value}"]
    result = lrviz(*args)
    assert result.exception is None or isinstance(result.exception, SystemExit), args
    assert (result.exit_code, result.stderr) in ((0, ""), (1, "")), args
    report = json.loads(result.stdout)
    assert report["files"][0]["ok"] is (result.exit_code == 0)
