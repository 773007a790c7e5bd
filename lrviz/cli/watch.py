"""`lrviz watch`: redraw a schedule on every save, with torch loaded once.

The spec files and every file they name (a metrics CSV, base configs) are watched through
their folders with watchfiles, so an editor that saves by renaming a temporary file over the
original is seen like one that writes in place. Each save re-simulates and redraws: the
terminal plot with the run header and a short table, and the -o file (written atomically).
A save that does not load shows its errors under the last good picture, which stays.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UsageError
from . import diagnostics
from .app import app, boundary, write_atomic, write_stdout
from .diagnostics import ExitStatus
from .look import look_options
from .options import spec_options
from .outputs import output_file
from .plot import IMAGE_FORMATS, _image, _sources

TABLE_ROWS = 8  # rows of the short table under the plot: first, last, landmarks
PLOT_HEIGHT = 15
STEP_MS = 15  # a save's events are grouped until this long a pause (an editor writes twice)
DEBOUNCE_MS = 400  # longest wait while events keep coming
CHECK_MS = 250  # with no events, the files' stamps are compared this often
CLEAR = "\x1b[H\x1b[2J"  # cursor home, clear screen: each picture replaces the last


@dataclass
class Watcher:
    """What `lrviz watch` draws, and the last picture that loaded."""

    specs: list[str]
    opts: Any
    look: dict[str, Any]
    output: Path | None
    guard: list[Path]
    tty: bool = False
    color: bool = False
    files: set[Path] = field(default_factory=set)  # what the last load read (the watch set)
    good: str = ""  # the last good picture, without its status line
    good_count: int = 0  # the redraw that made it
    count: int = 0
    stamps: dict[Path, tuple[int, ...] | None] = field(default_factory=dict)  # at the last load

    def redraw(self, emit: Callable[[str], None]) -> None:
        """Load, run and draw every spec, handing each part of the screen to `emit` when ready.

        The terminal picture goes first; the -o file (slower) is written after it, then the
        status line. A save that does not load shows its errors under the last good picture.
        """
        from ..load import load_plan
        from ..paths import recording_reads
        from ..simulation import run

        self.count += 1
        # Stamped before reading: a save during the draw shows as a change afterwards.
        stamps = _stamps(self.files | self._spec_files())
        body = tail = ""
        problems: list[str] = []
        with recording_reads() as reads:
            try:
                plans = [load_plan(s, self.opts) for s in self.specs]  # every spec error first
                traces = [run(p) for p in plans]
                body = self._picture(traces)
                emit(self._top() + body)
                if self.output is not None:
                    fmt = self.output.suffix.lower()[1:]
                    image = _image(traces, fmt, self.look)
                    write_atomic(self.output, [image], guard=self.guard)
                    tail = f"wrote {self.output}\n"
            except Exception as exc:  # Ctrl-C is not caught: it ends the command
                problems, _ = diagnostics.failure_lines(exc)
        now = {p.resolve() for p in reads} | self._spec_files()
        # A save that does not load may read less (a YAML error stops before the metrics
        # CSV): keep watching what the last good load read as well.
        self.files = now if not problems else now | self.files
        self.stamps = _stamps(self.files - stamps.keys()) | stamps
        watching = f"watching {', '.join(sorted(_shown(p) for p in self.files))} · Ctrl-C stops"
        if body:  # drawn (the -o file may have failed: its error is under the picture)
            self.good, self.good_count = body + tail, self.count
            errors = "".join(f"{line}\n" for line in problems)
            emit(f"{tail}{errors}lrviz watch #{self.count} · {watching}\n")
            return
        before = f"the picture is from #{self.good_count}" if self.good else "nothing drawn yet"
        emit(
            self._top()
            + self.good
            + "".join(f"{line}\n" for line in problems)
            + f"lrviz watch #{self.count}: {before} · {watching}\n"
        )

    def _top(self) -> str:
        """What starts a screen: a cleared terminal, or a blank line between pictures."""
        return CLEAR if self.tty else "\n"

    def _picture(self, traces: list[Any]) -> str:
        from rich.console import Console

        from ..render.table import header_lines, render_table
        from ..render.terminal import render

        columns = shutil.get_terminal_size((100, 24)).columns
        several = len(traces) > 1
        out = []
        for t in traces:
            out += [f"{t.name}: {line}" if several else line for line in header_lines(t)]
        out.append(
            render(
                traces,
                x=self.look["x"],
                log=self.look["log"],
                momentum=self.look["momentum"],
                width=max(20, min(columns - 14, 160)),
                height=PLOT_HEIGHT,
                color=self.color,
                title=self.look["title"],
            ).rstrip("\n")
        )
        buf = io.StringIO()
        console = Console(
            file=buf,
            width=columns,
            color_system="standard" if self.color else None,
            force_terminal=self.color,
            highlight=False,
        )
        for t in traces:
            console.print(render_table(t, max_rows=TABLE_ROWS))
        out.append(buf.getvalue().rstrip("\n"))
        for t in traces:
            out += diagnostics.run_lines(t, label=t.name if several else "")
        return "\n".join(out) + "\n"

    def _spec_files(self) -> set[Path]:
        """The SPEC arguments that are files (a bundled preset or a class name is not watched)."""
        from ..presets import resolve

        found = set()
        for spec in self.specs:
            try:
                source = resolve(spec)
            except Exception:  # a file that is gone for now: watched by the path as typed
                found.add(Path(spec).resolve())
                continue
            if source.kind == "file" and source.path is not None:
                found.add(source.path.resolve())
        return found

    def changes(self) -> Iterator[set[Path]]:
        """The watched files that changed, one set per save, until Ctrl-C."""
        import watchfiles

        while True:
            files = set(self.files)
            folders = sorted({p.parent for p in files if p.parent.is_dir()})
            if not folders:
                raise UsageError("nothing to watch: the folders of the spec files are gone")

            def wanted(change: Any, path: str, files: set[Path] = files) -> bool:
                return Path(path).resolve() in files

            for batch in watchfiles.watch(
                *folders,
                watch_filter=wanted,
                step=STEP_MS,
                debounce=DEBOUNCE_MS,
                recursive=False,
                rust_timeout=CHECK_MS,
                yield_on_timeout=True,
            ):
                # A quiet spell: compare the files with their stamps, which catches a save
                # made before the watcher started (and file systems that send no events).
                changed = {Path(p).resolve() for _, p in batch} or {
                    p for p, stamp in _stamps(files).items() if stamp != self.stamps.get(p)
                }
                if changed:
                    yield changed
                if self.files != files:
                    break  # the spec now names other files: watch those instead


def _stamps(files: set[Path]) -> dict[Path, tuple[int, ...] | None]:
    """Each file's modification time, size and inode (None: missing)."""
    out: dict[Path, tuple[int, ...] | None] = {}
    for path in files:
        try:
            st = path.stat()
        except OSError:
            out[path] = None
        else:
            out[path] = (st.st_mtime_ns, st.st_size, st.st_ino)
    return out


def _shown(path: Path) -> str:
    """A watched file as the user would type it: relative to here when it is below here."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@app.command()
@boundary
@spec_options
@look_options
def watch(
    specs: Annotated[
        list[str],
        typer.Argument(
            metavar="SPEC",
            help="YAML files (or other configs lrviz reads); several overlay.",
        ),
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="Also write .png, .svg, .pdf or .html on every save (atomically).",
        ),
    ] = None,
    look: Any = None,
    opts: Any = None,
) -> ExitStatus:
    """Redraw on every save of SPEC and the files it names, until Ctrl-C: plot, table, -o FILE."""
    sources = _sources(specs)
    if not any(s.kind == "file" for s in sources):
        names = ", ".join(repr(s) for s in specs)
        raise UsageError(
            f"lrviz watch redraws when a spec file is saved, and {names} names no file "
            f"(a bundled preset or a scheduler class); write the schedule to a YAML file"
        )
    guard = [s.path for s in sources if s.path is not None]
    path = output_file(output, IMAGE_FORMATS, guard) if output is not None else None
    tty = sys.stdout.isatty()
    watcher = Watcher(
        specs, opts, look, path, guard, tty=tty, color=tty and not os.environ.get("NO_COLOR")
    )

    def emit(text: str) -> None:
        write_stdout([text])

    watcher.redraw(emit)
    for _ in watcher.changes():
        watcher.redraw(emit)
    return ExitStatus.OK
