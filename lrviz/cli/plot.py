"""`plot` and `export`: the schedule as a figure, in a window, a file or the terminal."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UsageError
from . import diagnostics
from .app import SpecArg, app, boundary, err, write_atomic, write_stdout
from .diagnostics import BadRows, ExitStatus
from .look import look_options
from .options import spec_options
from .outputs import check_outputs, output_file

__all__ = ["check_outputs", "export", "plot"]  # check_outputs: cli/train.py imports it from here

IMAGE_FORMATS = ("png", "svg", "pdf", "html")  # html: one interactive page (render/html.py)
EXPORT_FORMATS = ("csv", "json", *IMAGE_FORMATS)


MAX_NAME = 60  # characters of a default file name made from several spec names


def headless(env: Mapping[str, str] = os.environ, platform: str = sys.platform) -> bool:
    """No window can open: under CI, or on X11/Wayland systems without a display."""
    if env.get("CI"):
        return True
    if platform in ("darwin", "win32"):
        return False  # their window systems need no environment variable
    return not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def use_headless_backend_if_needed() -> bool:
    """Pick Agg before pyplot is imported when no display exists; True if headless."""
    if not headless():
        return False
    import matplotlib

    matplotlib.use("Agg")
    return True


def _sources(specs: list[str]) -> list[Any]:
    from ..presets import resolve

    return [resolve(s) for s in specs]  # torch is imported only for a class name


def _simulate(specs: list[str], opts: Any) -> list[Any]:
    from ..load import load_plan
    from ..simulation import run

    plans = [load_plan(s, opts) for s in specs]  # every spec error before the first run
    return [run(p) for p in plans]


def default_output(stems: list[str]) -> Path:
    """SPEC.png, a_vs_b.png for an overlay, first_and_N_more.png when the names grow long."""
    stems = list(dict.fromkeys(stems))
    name = "_vs_".join(stems)
    if len(name) > MAX_NAME:
        name = f"{stems[0][:MAX_NAME]}_and_{len(stems) - 1}_more"
    return Path(f"{name}.png")


def _suggest_log(traces: list[Any], log: bool) -> None:
    """Overlaid curves of very different sizes flatten the small ones: say --log shows them."""
    from ..render.plot import scale_ratio

    ratio = scale_ratio(traces)
    if not log and ratio >= 100:
        err(f"note: the curves' peaks differ {ratio:,.0f}-fold; --log shows the small ones")


def _export_csv_streaming(
    spec: str, opts: Any, outputs: list[Path], guard: list[Path]
) -> ExitStatus:
    """CSV-only export: simulate in chunks and write each as it is produced (flat memory)."""
    from ..load import load_plan
    from ..simulation import run_chunks
    from . import csvwriter

    plan = load_plan(spec, opts, streaming=True)
    first, *more = outputs
    size = csvwriter.chunk_rows(plan.rows)
    chunks = run_chunks(plan) if size is None else run_chunks(plan, size)
    last: list[Any] = []  # the final chunk: it carries the run's warnings and failure
    bad = BadRows()

    def parts() -> Iterator[Any]:
        for part in chunks:
            bad.add(part)
            last[:] = [part]
            yield part

    # Big runs are formatted in a second process while the next rows are simulated.
    write_atomic(first, csvwriter.csv_chunks(parts(), plan.rows), guard=guard)
    err(f"wrote {first}")
    for path in more:  # the same rows again: copy the file rather than re-simulate
        write_atomic(path, [first.read_bytes()], guard=guard)
        err(f"wrote {path}")
    return diagnostics.report_run(last[0], bad=bad)


def _image(traces: list[Any], fmt: str, look: dict[str, Any]) -> bytes:
    if fmt == "html":
        from ..render import html

        keys = ("x", "log", "momentum", "title")
        return html.render(traces, **{k: look[k] for k in keys}).encode("utf-8")
    from ..render.plot import figure, to_bytes

    # A fresh figure per file: each file's bytes depend on nothing drawn before.
    return to_bytes(figure(traces, **look), fmt, look.get("style"))


@app.command()
@boundary
@spec_options
@look_options
def plot(
    specs: Annotated[
        list[str],
        typer.Argument(
            metavar="SPEC",
            help="YAML files, bundled preset names or scheduler class names; several overlay.",
        ),
    ],
    outputs: Annotated[
        list[str] | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="Write .png, .svg, .pdf or .html (interactive; repeatable; default: a window, "
            "else SPEC.png).",
        ),
    ] = None,
    look: Any = None,
    terminal: Annotated[
        bool, typer.Option("--terminal", help="Draw in the terminal (unicode) instead.")
    ] = False,
    opts: Any = None,
) -> ExitStatus:
    """Plot lr (and momentum) against epoch or step; several SPECs overlay on shared axes."""
    if terminal and outputs:
        raise UsageError("--terminal draws in the terminal; drop -o, or drop --terminal")
    sources = _sources(specs)
    guard = [s.path for s in sources if s.path is not None]
    paths = [output_file(o, IMAGE_FORMATS, guard) for o in outputs or []]
    default = default_output([s.stem for s in sources])
    if not paths and not terminal:
        check_outputs([default], IMAGE_FORMATS, guard)  # the fallback, should no window open
    traces = _simulate(specs, opts)
    if look["momentum"] and not any(t.has_momentum for t in traces):
        err("note: --momentum: the optimizer has neither momentum nor betas; nothing to show")
    if len(traces) > 1:
        _suggest_log(traces, look["log"])
    if terminal:
        _terminal(traces, look["x"], look["log"], look["momentum"], look["title"])
        return diagnostics.report_runs(traces)
    if not paths and not use_headless_backend_if_needed() and _show_window(traces, look):
        return diagnostics.report_runs(traces)
    where = "" if paths else " (no display; -o chooses the file)"
    for path in paths or [default]:
        write_atomic(path, [_image(traces, path.suffix.lower()[1:], look)], guard=guard)
        err(f"wrote {path}{where}")
    return diagnostics.report_runs(traces)


def _terminal(traces: list[Any], x: str, log: bool, momentum: bool, title: str | None) -> None:
    from ..render.terminal import render

    columns = shutil.get_terminal_size((100, 24)).columns
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    width = max(20, min(columns - 14, 160))  # room for the y labels on the right
    write_stdout(
        [render(traces, x=x, log=log, momentum=momentum, width=width, color=color, title=title)]
    )


def _show_window(traces: list[Any], look: dict[str, Any]) -> bool:
    """Show the plot in a window; False when matplotlib has no interactive backend here."""
    import matplotlib.pyplot as plt
    from matplotlib.backends import BackendFilter, backend_registry

    interactive = backend_registry.list_builtin(BackendFilter.INTERACTIVE)
    if plt.get_backend().lower() not in interactive:
        return False
    from ..render.plot import figure, paper_style

    with paper_style(look.get("style")):
        fig = plt.figure()
        figure(traces, fig=fig, **look)
        err("showing the plot in a window (-o FILE writes a file instead)")
        plt.show()
    return True


@app.command()
@boundary
@spec_options
@look_options
def export(
    spec: SpecArg,
    outputs: Annotated[
        list[str],
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="A .csv, .json, .png, .svg, .pdf or .html (interactive) file (repeatable: one "
            "run, many files).",
        ),
    ],
    look: Any = None,
    opts: Any = None,
) -> ExitStatus:
    """Write the schedule to files by extension: rows to CSV/JSON, the plot to PNG/SVG/PDF/HTML."""
    from ..render import text

    sources = _sources([spec])
    guard = [s.path for s in sources if s.path is not None]
    paths = [output_file(o, EXPORT_FORMATS, guard) for o in outputs]
    if all(path.suffix.lower() == ".csv" for path in paths):
        return _export_csv_streaming(spec, opts, paths, guard)
    (trace,) = _simulate([spec], opts)
    for path in paths:
        fmt = path.suffix.lower()[1:]
        chunks: Iterable[str | bytes]
        if fmt == "csv":
            chunks = text.iter_csv(trace)
        elif fmt == "json":
            chunks = text.iter_json(trace)
        else:
            chunks = [_image([trace], fmt, look)]
        write_atomic(path, chunks, guard=guard)
        err(f"wrote {path}")
    return diagnostics.report_run(trace)
