"""Issue 14: one diagnostics module, one output guard, and the rough edges of the command line."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lrviz.cli import app
from lrviz.presets import preset_names

HEADLESS = {"CI": "1", "DISPLAY": "", "WAYLAND_DISPLAY": ""}


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env or HEADLESS)


def write(tmp_path: Path, text: str, name: str = "cfg.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.fixture
def no_runs(monkeypatch):
    """Fail the test if anything is simulated: the refusal must come first."""
    import lrviz.simulation

    def refuse(*args, **kwargs):
        raise AssertionError("simulated before the output was checked")

    monkeypatch.setattr(lrviz.simulation, "run", refuse)
    monkeypatch.setattr(lrviz.simulation, "run_chunks", refuse)


# --- the output guard ------------------------------------------------------------------------


def test_snapshot_into_a_folder_named_with_a_slash_creates_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("snapshot", "steplr", "cosine_warm", "-o", "golden/")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "wrote golden/steplr.csv (100 rows)\nwrote golden/cosine_warm.csv (700 rows)\n"
    )
    assert sorted(p.name for p in (tmp_path / "golden").iterdir()) == [
        "cosine_warm.csv",
        "steplr.csv",
    ]
    one = invoke("snapshot", "steplr", "-o", "single/")  # one SPEC: a folder all the same
    assert (one.exit_code, one.stdout) == (0, "wrote single/steplr.csv (100 rows)\n")
    plain = invoke("snapshot", "steplr", "-o", "golden.csv")  # no slash: the file itself
    assert (plain.exit_code, plain.stdout) == (0, "wrote golden.csv (100 rows)\n")
    assert (tmp_path / "golden.csv").is_file()


def test_snapshot_folder_refusals_come_before_any_run(tmp_path, monkeypatch, no_runs):
    monkeypatch.chdir(tmp_path)
    Path("a_file").write_text("x")
    cases = [
        (("-o", "a_file/"), "error: -o a_file/: a_file is a file, not a folder\n"),
        (("-o", "missing/deeper/"), f"error: -o missing/deeper/: folder {tmp_path / 'missing'} "
         "does not exist\n"),
    ]  # fmt: skip
    for args, message in cases:
        result = invoke("snapshot", "steplr", *args)
        assert (result.exit_code, result.stdout, result.stderr) == (2, "", message)
    Path("golden").mkdir()
    (Path("golden") / "steplr.csv").mkdir()
    result = invoke("snapshot", "steplr", "-o", "golden")
    assert result.stderr == "error: golden/steplr.csv: is a folder; give a file name\n"
    assert result.exit_code == 2
    assert not Path("missing").exists()


def test_a_spec_error_in_any_snapshot_spec_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = write(tmp_path, "scheduler: {type: StepLR}\nrun: {epochs: 3}\n", "bad.yaml")
    result = invoke("snapshot", "steplr", bad, "-o", "golden/")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert not (tmp_path / "golden").exists()


@pytest.mark.parametrize(
    "command",
    [
        ("plot", "steplr", "-o", "out.png"),
        ("export", "steplr", "-o", "out.png"),
        ("export", "steplr", "-o", "out.csv", "-o", "out.json"),
        ("code", "steplr", "-o", "out.png"),
    ],
)
def test_an_output_that_is_a_folder_is_refused_before_the_run(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    target = command[command.index("-o") + 1]
    Path(target).mkdir()
    result = invoke(*command)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"error: {target}: is a folder; give a file name\n"


def test_a_trailing_slash_on_a_file_output_is_refused(tmp_path, monkeypatch, no_runs):
    monkeypatch.chdir(tmp_path)
    result = invoke("export", "steplr", "-o", "rows.csv/")
    assert (result.exit_code, result.stderr) == (
        2,
        "error: rows.csv/: ends with '/', which names a folder; give a file name\n",
    )
    assert list(tmp_path.iterdir()) == []


def test_plot_writes_every_output_given(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.svg"
    result = invoke("plot", "steplr", "-o", str(a), "-o", str(b), "--size", "3x2", "--dpi", "40")
    assert result.exit_code == 0
    assert result.stderr == f"wrote {a}\nwrote {b}\n"
    assert a.read_bytes()[:4] == b"\x89PNG" and b.read_text().startswith("<?xml")


def test_plot_of_many_specs_has_a_short_default_name_and_a_legend_that_fits(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    names = preset_names()[:20]
    result = invoke("plot", *names, "--dpi", "30")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"wrote {names[0]}_and_19_more.png (no display; -o chooses the file)"
    )
    assert "Warning" not in result.stderr and "constrained_layout" not in result.stderr


# --- one line per problem, with the flag the user typed ---------------------------------------


def test_duplicate_key_points_at_the_duplicate(tmp_path):
    spec = write(
        tmp_path,
        "scheduler:\n  type: StepLR\n  step_size: 10\n  step_size: 20\nrun: {epochs: 10}\n",
    )
    result = invoke("table", spec)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"error: {spec}:4: scheduler.step_size: duplicate key\n"


def test_a_run_too_long_is_blamed_on_the_flag_typed():
    result = invoke("table", "steplr", "--iters", "1000000", "--step", "batch")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --iters 1000000: the run has 100,000,000 rows (100 epochs × 1,000,000 iters), "
        "more than the limit of 20,000,000; raise it with --max-rows 100000000\n"
    )
    result = invoke("table", "steplr", "--epochs", "30000000")
    assert result.stderr == (
        "error: --epochs 30000000: the run has 30,000,000 rows (30,000,000 epochs), more than "
        "the limit of 20,000,000; raise it with --max-rows 30000000\n"
    )
    both = invoke("table", "StepLR", "--epochs", "5000", "--iters", "5000", "--step", "batch")
    assert both.stderr.startswith("error: --epochs 5000 --iters 5000: the run has 25,000,000 rows")


def test_the_memory_refusal_after_max_rows_is_blamed_on_the_flag_too(monkeypatch):
    import lrviz.build

    monkeypatch.setattr(lrviz.build, "_available_memory", lambda: 2**20)  # 1 MiB free
    result = invoke("table", "steplr", "--iters", "1000", "--step", "batch")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --iters 1000: the run needs about 0.0 GiB for 100,000 rows × 1 group, more than "
        "half the free memory (0.0 GiB); shorten it or use fewer param groups\n"
    )


def test_a_problem_with_a_flag_names_the_flag():
    result = invoke("table", "reducelronplateau", "--step", "fractional")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --step fractional: run.step: ReduceLROnPlateau.step() takes no epoch argument, "
        "so step: fractional cannot drive it; use epoch or batch\n"
    )
    typed = invoke("table", "steplr", "--set", "run.epochs=0")  # a --set stays a --set
    assert typed.stderr.startswith("error: --set run.epochs=0: run.epochs: ")


def test_an_overflowing_gamma_gives_one_warning_line_and_no_library_path():
    result = invoke("table", "steplr", "--set", "scheduler.gamma=1e400", "--rows", "5")
    assert result.exit_code == 0
    assert result.stderr == (
        "warning: lr is NaN, infinite or negative in 70 rows; first at row 30: [inf]\n"
    )


def test_a_bad_set_value_is_one_line():
    result = invoke("table", "steplr", "--set", "scheduler.gamma=[1")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "error: --set 'scheduler.gamma=[1': value is not valid YAML: expected ',' or ']', but "
        "got '<stream end>' at column 3\n"
    )


def test_a_file_that_is_not_a_style_is_one_line(tmp_path, no_runs):
    style = write(tmp_path, "root:x:0:0:root\ndaemon:x:1:1\naxes.grid: True\n", "bad.mplstyle")
    result = invoke("plot", "steplr", "--style", style, "-o", str(tmp_path / "x.png"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: --style {style}: not a matplotlib style file: 2 lines not `key: value` "
        "settings matplotlib knows, the first at line 1\n"
    )


def test_a_style_file_with_settings_is_used(tmp_path):
    good = write(tmp_path, "axes.grid: True\nlines.linewidth: 2\n", "good.mplstyle")
    result = invoke("plot", "steplr", "--style", good, "-o", str(tmp_path / "x.png"))
    assert (result.exit_code, result.stderr) == (0, f"wrote {tmp_path / 'x.png'}\n")


def test_debug_shows_the_traceback_and_keeps_the_exit_status():
    plain = invoke("table", "missing.yaml")
    debug = invoke("--debug", "table", "missing.yaml")
    assert plain.exit_code == debug.exit_code == 2
    assert plain.stderr == "error: missing.yaml: no such file\n"
    assert debug.stderr.startswith("Traceback (most recent call last):\n")
    assert debug.stderr.endswith("\nerror: missing.yaml: no such file\n")


def test_usage_errors_are_one_line_and_exit_2():
    cases = [
        (("table", "steplr", "--iters", "0"), "error: invalid value for '--iters': Input should "
         "be greater than or equal to 1; see 'lrviz table --help'\n"),
        (("table",), "error: missing argument 'SPEC'; see 'lrviz table --help'\n"),
        (("table", "steplr", "--nope"), "error: no such option: --nope; see "
         "'lrviz table --help'\n"),
        (("tabel",), "error: no such command 'tabel'. Did you mean 'table', 'state'?; see "
         "'lrviz --help'\n"),
    ]  # fmt: skip
    for args, message in cases:
        result = invoke(*args)
        assert (result.exit_code, result.stdout, result.stderr) == (2, "", message), args


def test_show_of_a_preset_says_it_is_a_preset():
    result = invoke("show", "cosine_warm")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: 'cosine_warm' is a bundled preset, a schedule file rather than a scheduler "
        "type: lrviz table cosine_warm shows its rows; its scheduler is "
        "CosineAnnealingWarmRestarts (lrviz show CosineAnnealingWarmRestarts)\n"
    )


@pytest.mark.parametrize(
    "args",
    [("table", "steplr"), ("list",), ("show", "StepLR"), ("table", "steplr", "-f", "csv")],
)
def test_a_closed_pipe_ends_quietly_with_0(args):
    proc = subprocess.Popen(
        [sys.executable, "-m", "lrviz", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader (`| head -1`) is gone before the first write
    with proc.stderr:
        err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0
    assert err == b""


# --- what the output looks like ----------------------------------------------------------------


def test_csv_and_markdown_keep_odd_group_names_in_their_column(tmp_path):
    spec = write(
        tmp_path,
        "param_groups:\n  - {name: 'enc,dec', lr: 0.1}\n  - {name: 'a|b', lr: 0.2}\n"
        "scheduler: {type: StepLR, step_size: 2}\nrun: {epochs: 3}\n",
    )
    rows = list(csv.reader(io.StringIO(invoke("table", spec, "-f", "csv").stdout)))
    assert rows[0] == [
        *("step", "epoch", "iter", "x", "lr_enc,dec", "lr_a|b"),
        *("momentum_enc,dec", "momentum_a|b"),
    ]
    assert {len(r) for r in rows} == {8}
    md = invoke("table", spec, "-f", "markdown").stdout.splitlines()
    assert md[0] == (
        r"| step | epoch | iter | x | lr_enc,dec | lr_a\|b | momentum_enc,dec | momentum_a\|b |"
    )


def test_table_rows_keep_the_lr_changes_the_footer_promises():
    out = invoke("table", "steplr", "--rows", "10").stdout
    steps = [int(line.split("│")[1]) for line in out.splitlines() if line.startswith("│    ")
             or line.startswith("│   ")]  # fmt: skip
    assert steps == [0, 14, 29, 30, 44, 59, 60, 89, 90, 99]


def test_piped_output_is_not_wrapped_at_80_columns():
    out = invoke("table", "cosine_warm", "--rows", "5").stdout.splitlines()
    assert out[:2] == [
        "CosineAnnealingWarmRestarts T_0=5 T_mult=2 eta_min=1e-5, fractional per batch, backbone "
        "0.01 / head 0.1; restarts land one batch late (x=5.05, 15.05)",
        "CosineAnnealingWarmRestarts · step: fractional · order: optimizer_first · 700 rows "
        "(35 epochs × 20 iters) · torch " + out[1].rsplit("torch ", 1)[1],
    ]


def test_every_group_gets_a_sparkline_and_same_shapes_share_one(tmp_path):
    spec = write(
        tmp_path,
        "param_groups:\n  - {name: up, lr: 0.1}\n  - {name: same, lr: 0.2}\n"
        "scheduler: {type: LambdaLR, lr_lambda: ['epoch + 1', 'epoch + 1']}\nrun: {epochs: 4}\n",
    )
    lines = [ln for ln in invoke("table", spec).stdout.splitlines() if ln.startswith("lr ")]
    assert lines == ["lr up, same: ▁▃▆█"]
    two = [ln for ln in invoke("table", "onecyclelr_adam").stdout.splitlines()]
    assert [ln.split(":")[0] for ln in two if ln.startswith("lr ")] == ["lr encoder, decoder"]


def test_one_row_one_epoch_one_group_are_singular(tmp_path):
    spec = write(tmp_path, "scheduler: {type: ConstantLR}\nrun: {epochs: 1}\n")
    header = invoke("table", spec).stdout.splitlines()[0]
    assert "· 1 row (1 epoch) ·" in header


def test_an_overlay_of_very_different_scales_suggests_log(tmp_path):
    result = invoke(
        "plot", "steplr", "onecyclelr_adam", "-o", str(tmp_path / "x.png"), "--size", "3x2"
    )
    assert result.exit_code == 0
    assert result.stderr.splitlines()[0] == (
        "note: the curves' peaks differ 1,000-fold; --log shows the small ones"
    )
    logged = invoke("plot", "steplr", "onecyclelr_adam", "--log", "-o", str(tmp_path / "y.png"))
    assert logged.stderr == f"wrote {tmp_path / 'y.png'}\n"


def test_diff_csv_keeps_odd_group_names_in_their_column(tmp_path):
    spec = write(
        tmp_path,
        "param_groups:\n  - {name: 'enc,dec', lr: 0.1}\n  - {name: head, lr: 0.2}\n"
        "scheduler: {type: StepLR, step_size: 2}\nrun: {epochs: 3}\n",
    )
    rows = list(csv.reader(io.StringIO(invoke("diff", spec, "-f", "csv").stdout)))
    assert rows[0][4] == "lr_enc,dec"
    assert {len(r) for r in rows} == {len(rows[0])}
