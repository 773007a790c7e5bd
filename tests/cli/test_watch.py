"""`lrviz watch`: real saves in a temporary folder redraw; a broken save keeps the picture."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lrviz.cli import app

TIMEOUT = 90  # seconds; generous, for a loaded machine: the waits poll and end early


class Session:
    """`lrviz watch ARGS` in a subprocess; its stdout is read line by line in a thread."""

    def __init__(self, folder: Path, *args: str) -> None:
        self.folder = folder
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lrviz", "watch", *args],
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "COLUMNS": "100"},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def screen(self, n: int) -> list[str]:
        """The lines of picture #n, up to and with its status line (waits for it)."""
        deadline = time.monotonic() + TIMEOUT
        lines: list[str] = []
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                pytest.fail(f"no picture #{n} within {TIMEOUT} s; got {''.join(lines)!r}")
            lines.append(line.rstrip("\n"))
            if line.startswith("lrviz watch #"):
                assert line.startswith(f"lrviz watch #{n}"), lines
                return lines[1:] if lines[0] == "" else lines  # a blank line before each

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err


def save(path: Path, text: str) -> None:
    """Save as editors do: write a temporary file beside it, then rename it over the old one."""
    tmp = path.with_name(f".{path.name}.swp")
    tmp.write_text(text)
    os.replace(tmp, path)


STEP = "scheduler: {{type: StepLR, step_size: {size}, gamma: 0.5}}\nrun: {{epochs: 12}}\n"


@pytest.fixture
def session(tmp_path):
    sessions: list[Session] = []

    def start(*args: str) -> Session:
        sessions.append(Session(tmp_path, *args))
        return sessions[-1]

    yield start
    for s in sessions:
        s.stop()


def test_saves_redraw_a_broken_save_keeps_the_picture_and_ctrl_c_exits_130(tmp_path, session):
    spec = tmp_path / "s.yaml"
    spec.write_text(STEP.format(size=3))
    watch = session("s.yaml", "-o", "s.png")
    first = watch.screen(1)
    assert first[0].startswith(
        "StepLR · step: epoch · order: optimizer_first · 12 rows (12 epochs) · torch "
    )
    assert first[-2:] == ["wrote s.png", "lrviz watch #1 · watching s.yaml · Ctrl-C stops"]
    assert "│    3 │     3 │      0.05 │" in first  # step_size 3: the first halving at row 3
    png1 = (tmp_path / "s.png").read_bytes()
    assert png1.startswith(b"\x89PNG")

    spec.write_text(STEP.format(size=2))  # written in place
    second = watch.screen(2)
    assert "│    2 │     2 │      0.05 │" in second
    assert second[-1] == "lrviz watch #2 · watching s.yaml · Ctrl-C stops"
    png2 = (tmp_path / "s.png").read_bytes()
    assert png2 != png1

    save(spec, "scheduler: {type: StepLR, step_size: [\n")  # saved by rename, and broken
    third = watch.screen(3)
    assert third[:-2] == second[:-1]  # the last good picture stays
    assert third[-2:] == [
        "error: s.yaml:2: YAML syntax error: expected the node content, but found "
        "'<stream end>' (column 1)",
        "lrviz watch #3: the picture is from #2 · watching s.yaml · Ctrl-C stops",
    ]
    assert (tmp_path / "s.png").read_bytes() == png2  # the image file is left as it was

    save(spec, STEP.format(size=4))
    fourth = watch.screen(4)
    assert "│    4 │     4 │      0.05 │" in fourth
    assert fourth[-1] == "lrviz watch #4 · watching s.yaml · Ctrl-C stops"

    status, err = watch.stop()
    assert (status, err) == (130, "interrupted\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.png", "s.yaml"]


def test_the_metrics_csv_a_spec_names_is_watched_too(tmp_path, session):
    (tmp_path / "log.csv").write_text("val_loss\n1\n1\n1\n1\n1\n1\n")
    (tmp_path / "p.yaml").write_text(
        "scheduler: {type: ReduceLROnPlateau, factor: 0.5, patience: 1}\n"
        "run: {epochs: 6, metrics: {csv: log.csv, column: val_loss}}\n"
    )
    watch = session("p.yaml")
    first = watch.screen(1)
    assert first[-1] == "lrviz watch #1 · watching log.csv, p.yaml · Ctrl-C stops"
    assert "│    3 │     3 │      0.05 │" in first  # no improvement: halved after patience 1
    save(tmp_path / "log.csv", "val_loss\n1\n0.9\n0.8\n0.7\n0.6\n0.5\n")
    second = watch.screen(2)
    assert not any("0.05" in line for line in second)  # improving every epoch: no halving
    assert watch.stop() == (130, "interrupted\n")


def test_an_error_from_the_start_is_shown_and_the_next_save_draws(tmp_path, session):
    spec = tmp_path / "s.yaml"
    spec.write_text("scheduler: {type: StepLR}\nrun: {epochs: 4}\n")
    watch = session("s.yaml")
    assert watch.screen(1) == [
        "error: s.yaml:1: scheduler: StepLR needs 'step_size' (an integer): Period of learning "
        "rate decay.",
        "lrviz watch #1: nothing drawn yet · watching s.yaml · Ctrl-C stops",
    ]
    save(spec, "scheduler: {type: StepLR, step_size: 1}\nrun: {epochs: 4}\n")
    assert watch.screen(2)[-1] == "lrviz watch #2 · watching s.yaml · Ctrl-C stops"
    assert watch.stop() == (130, "interrupted\n")


def test_watch_needs_a_file():
    result = CliRunner().invoke(app, ["watch", "steplr"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "error: lrviz watch redraws when a spec file is saved, and 'steplr' names no file "
        "(a bundled preset or a scheduler class); write the schedule to a YAML file\n"
    )


def test_watch_refuses_a_bad_output_before_drawing(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(STEP.format(size=2))
    result = CliRunner().invoke(app, ["watch", str(spec), "-o", str(tmp_path / "s.csv")])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {tmp_path / 's.csv'}: unknown extension '.csv'; "
        "the formats are .png, .svg, .pdf, .html\n"
    )
