"""`lrviz plot` and `lrviz export`: files, messages, exit codes, determinism."""

from __future__ import annotations

import csv
import importlib
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lrviz.cli import app
from lrviz.cli.plot import headless

HEADLESS = {"CI": "1", "DISPLAY": "", "WAYLAND_DISPLAY": ""}
SMALL = ["--size", "3x2", "--dpi", "50"]  # these tests read files, not pixels


def _invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env or HEADLESS)


def test_plot_writes_the_file_given_and_says_so(tmp_path):
    out = tmp_path / "cosine_warm.png"
    result = _invoke("plot", "cosine_warm", "-o", str(out), *SMALL)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == f"wrote {out}\n"
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert [p.name for p in tmp_path.iterdir()] == ["cosine_warm.png"]  # no temporary left


def test_plot_without_output_and_display_writes_spec_stem_png_here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _invoke("plot", "cosine_warm", "sequentiallr", *SMALL)
    assert result.exit_code == 0
    assert result.stderr == (
        "wrote cosine_warm_vs_sequentiallr.png (no display; -o chooses the file)\n"
    )
    assert (tmp_path / "cosine_warm_vs_sequentiallr.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_with_a_display_but_no_gui_backend_falls_back_to_a_file(tmp_path, monkeypatch):
    # The test process runs matplotlib on Agg (conftest), so no window can open.
    monkeypatch.chdir(tmp_path)
    result = _invoke("plot", "steplr", *SMALL, env={"CI": "", "DISPLAY": ":0"})
    assert result.exit_code == 0
    assert result.stderr == "wrote steplr.png (no display; -o chooses the file)\n"


def test_plot_with_a_window_shows_the_figure_and_writes_nothing(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt
    from matplotlib.backends import backend_registry

    monkeypatch.chdir(tmp_path)
    shown = []
    # Pretend Agg is a GUI backend and record what plt.show() would have shown.
    monkeypatch.setattr(backend_registry, "list_builtin", lambda *a: ["agg"])
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    result = _invoke("plot", "steplr", *SMALL, env={"CI": "", "DISPLAY": ":0"})
    assert result.exit_code == 0
    assert result.stderr == "showing the plot in a window (-o FILE writes a file instead)\n"
    assert list(tmp_path.iterdir()) == []
    (fig,) = shown
    assert [ln.get_label() for ln in fig.axes[0].get_lines()] == ["steplr"]
    assert tuple(fig.get_size_inches()) == (3.0, 2.0)
    plt.close("all")


def test_headless_detection():
    assert headless({"CI": "true", "DISPLAY": ":0"}, "linux")
    assert headless({}, "linux")
    assert not headless({"DISPLAY": ":0"}, "linux")
    assert not headless({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not headless({}, "darwin") and headless({"CI": "1"}, "win32")


def test_plot_vector_formats_and_options(tmp_path):
    for name in ("a.svg", "a.pdf"):
        out = tmp_path / name
        result = _invoke(
            "plot",
            "warmup_cosine",
            "-o",
            str(out),
            "--log",
            "--momentum",
            "--x",
            "step",
            "--title",
            "Warm-up",
            "--style",
            "ggplot",
            *SMALL,
        )
        assert result.exit_code == 0, result.stderr
        assert result.stderr == f"wrote {out}\n"
    assert (tmp_path / "a.svg").read_bytes().startswith(b"<?xml")
    assert (tmp_path / "a.pdf").read_bytes().startswith(b"%PDF")


def test_export_many_outputs_simulate_once_and_match_table_formats(tmp_path, monkeypatch):
    calls = []
    module = importlib.import_module("lrviz.simulation")  # the module, whatever lrviz.simulate is
    real_run = module.run
    monkeypatch.setattr(module, "run", lambda *a, **k: calls.append(1) or real_run(*a, **k))
    paths = [tmp_path / f"s.{ext}" for ext in ("csv", "json", "png")]
    args = [a for p in paths for a in ("-o", str(p))]
    result = _invoke("export", "cosine_warm", *args, *SMALL)
    assert result.exit_code == 0
    assert calls == [1]
    assert result.stderr == "".join(f"wrote {p}\n" for p in paths)
    table_csv = _invoke("table", "cosine_warm", "--format", "csv").stdout
    table_json = _invoke("table", "cosine_warm", "--format", "json").stdout
    assert paths[0].read_text() == table_csv
    assert paths[1].read_text() == table_json
    rows = list(csv.DictReader(io.StringIO(paths[0].read_text())))
    assert len(rows) == 700 and rows[101]["x"] == "5.05"
    assert json.loads(paths[1].read_text())["rows"][0]["lr"] == [0.01, 0.1]


def test_export_same_spec_gives_identical_bytes(tmp_path):
    exts = ("csv", "json", "svg", "pdf", "png")
    for run_dir in ("one", "two"):
        (tmp_path / run_dir).mkdir()
        args = [a for e in exts for a in ("-o", str(tmp_path / run_dir / f"r.{e}"))]
        result = _invoke("export", "reducelronplateau", *args, "--momentum", *SMALL)
        assert result.exit_code == 0, result.stderr
    for e in exts:
        one = (tmp_path / "one" / f"r.{e}").read_bytes()
        assert one == (tmp_path / "two" / f"r.{e}").read_bytes(), e
        assert len(one) > 500


def test_export_unknown_extension_is_a_usage_error_before_any_write(tmp_path):
    good, bad = tmp_path / "a.csv", tmp_path / "a.txt"
    result = _invoke("export", "steplr", "-o", str(good), "-o", str(bad))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {bad}: unknown extension '.txt'; "
        "the formats are .csv, .json, .png, .svg, .pdf, .html\n"
    )
    assert list(tmp_path.iterdir()) == []
    noext = tmp_path / "README"
    result = _invoke("export", "steplr", "-o", str(noext))
    assert result.stderr == (
        f"error: {noext}: no extension; the formats are .csv, .json, .png, .svg, .pdf, .html\n"
    )
    result = _invoke("plot", "steplr", "-o", str(good))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {good}: unknown extension '.csv'; the formats are .png, .svg, .pdf, .html\n"
    )


def test_export_refuses_to_overwrite_the_spec(tmp_path):
    spec = tmp_path / "sched.json"  # JSON is YAML: a spec file lrviz reads by its extension
    text = '{"scheduler": {"type": "StepLR", "step_size": 2}, "run": {"epochs": 4}}\n'
    spec.write_text(text)
    result = _invoke("export", str(spec), "-o", str(tmp_path / "out.csv"), "-o", str(spec))
    assert result.exit_code == 2
    assert result.stderr == f"error: {spec}: refusing to overwrite the spec being read\n"
    assert spec.read_text() == text
    assert not (tmp_path / "out.csv").exists()


def test_export_missing_folder(tmp_path):
    out = tmp_path / "nope" / "a.csv"
    result = _invoke("export", "steplr", "-o", str(out))
    assert result.exit_code == 2
    assert result.stderr == f"error: {out}: folder {out.parent} does not exist\n"


def test_failed_run_writes_its_rows_marks_the_failure_and_exits_1(tmp_path):
    table, image = tmp_path / "f.csv", tmp_path / "f.svg"
    result = _invoke(
        "export",
        "onecyclelr",
        "--set",
        "scheduler.total_steps=10",
        "-o",
        str(table),
        "-o",
        str(image),
        *SMALL,
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"wrote {table}\nwrote {image}\n"
        "error: run failed at row 11: ValueError: Tried to step 11 times. "
        "The specified number of total steps is 10 (rows 0..10 were produced)\n"
    )
    assert len(table.read_text().splitlines()) == 1 + 11
    # matplotlib keeps each text as a comment beside its glyph paths: the legend says it
    assert b"<!-- error at row 11 -->" in image.read_bytes()


def test_plot_several_specs_reports_each_failure_by_name(tmp_path):
    spec = tmp_path / "short.yaml"
    spec.write_text(
        "scheduler: {type: OneCycleLR, max_lr: 0.1, total_steps: 10}\n"
        "run: {epochs: 1, iters_per_epoch: 20}\n"
    )
    out = tmp_path / "both.png"
    result = _invoke("plot", str(spec), "steplr", "-o", str(out), *SMALL)
    assert result.exit_code == 1
    assert result.stderr == (
        f"wrote {out}\n"
        "error: short: run failed at row 11: ValueError: Tried to step 11 times. "
        "The specified number of total steps is 10 (rows 0..10 were produced)\n"
    )
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_plot_spec_error_writes_nothing(tmp_path):
    out = tmp_path / "both.png"
    result = _invoke(
        "plot", "onecyclelr", "steplr", "--set", "scheduler.total_steps=10", "-o", str(out)
    )
    assert result.exit_code == 2  # --set applies to every SPEC; StepLR has no total_steps
    assert result.stderr == (
        "error: --set scheduler.total_steps=10: scheduler.total_steps: unknown argument for "
        "StepLR (arguments: step_size, gamma, last_epoch)\n"
    )
    assert not out.exists()


def test_terminal_plot_goes_to_stdout(tmp_path):
    result = _invoke("plot", "cosine_warm", "--terminal")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert "cosine_warm: learning rate" in result.stdout
    assert result.stdout.endswith("x: epoch\nrestart at epoch 5.05, 15.05 (row 101, 301)\n")
    assert "\x1b[" not in result.stdout  # not a terminal: no colour codes
    result = _invoke("plot", "cosine_warm", "--terminal", "-o", str(tmp_path / "x.png"))
    assert result.exit_code == 2
    assert result.stderr == "error: --terminal draws in the terminal; drop -o, or drop --terminal\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--size", "6by4"],
            "error: --size must be WIDTHxHEIGHT in inches, e.g. 6x3.6, not '6by4'\n",
        ),
        (
            ["--size", "400x3", "--dpi", "100"],
            "error: --size 400x3 at --dpi 100 is 40,000×300 pixels; "
            "each side may be at most 32,768\n",
        ),
    ],
)
def test_bad_size(args, message):
    result = _invoke("plot", "steplr", *args)
    assert result.exit_code == 2
    assert result.stderr == message


def test_bad_style_suggests_one():
    result = _invoke("plot", "steplr", "--style", "ggplt")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: --style 'ggplt' is not a matplotlib style or a file; did you mean 'ggplot'? "
        "(styles: Solarize_Light2, bmh, "
    )


def test_momentum_without_momentum_says_so(tmp_path):
    out = tmp_path / "a.png"
    result = _invoke(
        "plot",
        "steplr",
        "--set",
        "optimizer={type: Adagrad, lr: 0.1}",
        "--momentum",
        "-o",
        str(out),
        *SMALL,
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        "note: --momentum: the optimizer has neither momentum nor betas; nothing to show\n"
        f"wrote {out}\n"
    )


def test_help_lists_the_options():
    result = _invoke("plot", "--help")
    assert result.exit_code == 0
    for option in (
        "--output",
        "--x",
        "--log",
        "--momentum",
        "--title",
        "--size",
        "--dpi",
        "--style",
        "--terminal",
        "--epochs",
        "--iters",
        "--step",
        "--set",
        "--max-rows",
    ):
        assert option in result.stdout
    assert "--output" in _invoke("export", "--help").stdout


def test_demo_command(tmp_path, monkeypatch):
    """What `make demo` runs."""
    monkeypatch.chdir(tmp_path)
    result = _invoke("plot", "cosine_warm", "-o", "cosine_warm.png")
    assert result.exit_code == 0
    assert result.stderr == "wrote cosine_warm.png\n"
    assert Path("cosine_warm.png").stat().st_size > 10_000
