"""`plot` and `export`: the schedule as a figure, in a window, a file or the terminal."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterable, Iterator, Mapping
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UsageError, did_you_mean
from .app import (
    SpecArg,
    app,
    boundary,
    err,
    write_atomic,
    write_stdout,
)
from .options import spec_options

IMAGE_FORMATS = ("png", "svg", "pdf", "html")  # html: one interactive page (render/html.py)
EXPORT_FORMATS = ("csv", "json", *IMAGE_FORMATS)


class XAxis(str, Enum):
    epoch = "epoch"
    step = "step"


XOpt = Annotated[
    XAxis, typer.Option("--x", help="x axis: epoch (fractional) or step (optimizer steps).")
]
LogOpt = Annotated[bool, typer.Option("--log", help="Log scale for the lr axis.")]
MomentumOpt = Annotated[
    bool, typer.Option("--momentum", help="Add a panel with momentum (or Adam's beta1).")
]
TitleOpt = Annotated[str | None, typer.Option("--title", help="Title above the plot.")]
SizeOpt = Annotated[
    str | None,
    typer.Option("--size", metavar="WxH", help="Figure size in inches, e.g. 6x3.6 (the default)."),
]
DpiOpt = Annotated[
    int, typer.Option("--dpi", min=20, max=2400, help="Pixels per inch of PNG output.")
]
StyleOpt = Annotated[
    str | None,
    typer.Option("--style", help="A matplotlib style name or .mplstyle file, e.g. ggplot."),
]
MAX_PIXELS = 2**15  # per side; matplotlib refuses 2**16


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


def parse_size(text: str | None, dpi: int) -> tuple[float, float] | None:
    """--size WxH (inches) -> (w, h); None keeps the default."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*[x×X]\s*(\d+(?:\.\d*)?|\.\d+)\s*", text)
    w, h = (float(m.group(1)), float(m.group(2))) if m else (0.0, 0.0)
    if not m or w <= 0 or h <= 0:
        raise UsageError(f"--size must be WIDTHxHEIGHT in inches, e.g. 6x3.6, not {text!r}")
    if max(w, h) * dpi > MAX_PIXELS:
        raise UsageError(
            f"--size {text} at --dpi {dpi} is {w * dpi:,.0f}×{h * dpi:,.0f} pixels; "
            f"each side may be at most {MAX_PIXELS:,}"
        )
    return (w, h)


def check_style(style: str | None) -> None:
    """Refuse an unknown --style before any run starts."""
    if style is None:
        return
    import matplotlib.style

    if style in matplotlib.style.available or style == "default" or Path(style).is_file():
        return
    raise UsageError(
        f"--style {style!r} is not a matplotlib style or a file"
        f"{did_you_mean(style, matplotlib.style.available)} "
        f"(styles: {', '.join(sorted(matplotlib.style.available))})"
    )


def check_outputs(paths: Iterable[Path], allowed: tuple[str, ...], guard: list[Path]) -> None:
    """Refuse bad outputs before simulating: unknown extension, missing folder, the spec itself."""
    names = ", ".join(f".{e}" for e in allowed)
    for path in paths:
        ext = path.suffix.lower().lstrip(".")
        if ext not in allowed:
            what = f"unknown extension {path.suffix!r}" if ext else "no extension"
            raise UsageError(f"{path}: {what}; the formats are {names}")
        if any(p.resolve() == path.resolve() for p in guard):
            raise UsageError(f"{path}: refusing to overwrite the spec being read")
        if not path.resolve().parent.is_dir():
            raise UsageError(f"{path}: folder {path.resolve().parent} does not exist")


def _sources(specs: list[str]) -> list[Any]:
    from ..presets import resolve

    return [resolve(s) for s in specs]  # torch is imported only for a class name


def _simulate(specs: list[str], opts: Any) -> list[Any]:
    from ..load import load_plan
    from ..simulation import run

    return [run(load_plan(s, opts)) for s in specs]


def _report(traces: list[Any]) -> None:
    """Each run's warnings and failure on stderr, as `table` reports them; exit 1 if any failed.

    With several SPECs every line names its spec ("error: short: run failed at row 11: ...").
    """
    from .core import report_run

    failed = False
    for t in traces:
        try:
            report_run(t, label=t.name if len(traces) > 1 else "")
        except typer.Exit:
            failed = True
    if failed:
        raise typer.Exit(1)


def _export_csv_streaming(spec: str, opts: Any, outputs: list[Path], guard: list[Path]) -> None:
    """CSV-only export: simulate in chunks and write each as it is produced (flat memory)."""
    from ..load import load_plan
    from ..simulation import run_chunks
    from . import csvwriter
    from .core import BadRows, report_run

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
    report_run(last[0], bad=bad)


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
def plot(
    specs: Annotated[
        list[str],
        typer.Argument(
            metavar="SPEC",
            help="YAML files, bundled preset names or scheduler class names; several overlay.",
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write .png, .svg, .pdf or .html (interactive; default: a window, else SPEC.png).",
        ),
    ] = None,
    x: XOpt = XAxis.epoch,
    log: LogOpt = False,
    momentum: MomentumOpt = False,
    title: TitleOpt = None,
    size: SizeOpt = None,
    dpi: DpiOpt = 150,
    style: StyleOpt = None,
    terminal: Annotated[
        bool, typer.Option("--terminal", help="Draw in the terminal (unicode) instead.")
    ] = False,
    opts: Any = None,
) -> None:
    """Plot lr (and momentum) against epoch or step; several SPECs overlay on shared axes."""
    if terminal and output is not None:
        raise UsageError("--terminal draws in the terminal; drop -o, or drop --terminal")
    fig_size = parse_size(size, dpi)
    check_style(style)
    sources = _sources(specs)
    guard = [s.path for s in sources if s.path is not None]
    if output is not None:
        check_outputs([output], IMAGE_FORMATS, guard)
    traces = _simulate(specs, opts)
    if momentum and not any(t.has_momentum for t in traces):
        err("note: --momentum: the optimizer has neither momentum nor betas; nothing to show")
    if terminal:
        _terminal(traces, x.value, log, momentum, title)
        _report(traces)
        return
    look = {
        "x": x.value,
        "log": log,
        "momentum": momentum,
        "title": title,
        "size": fig_size,
        "dpi": dpi,
        "style": style,
    }
    if output is None and not use_headless_backend_if_needed() and _show_window(traces, look):
        _report(traces)
        return
    if output is None:
        output = Path("_vs_".join(dict.fromkeys(s.stem for s in sources)) + ".png")
        check_outputs([output], IMAGE_FORMATS, guard)
        where = " (no display; -o chooses the file)"
    else:
        where = ""
    write_atomic(output, [_image(traces, output.suffix.lower()[1:], look)], guard=guard)
    err(f"wrote {output}{where}")
    _report(traces)


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
def export(
    spec: SpecArg,
    outputs: Annotated[
        list[Path],
        typer.Option(
            "--output",
            "-o",
            help="A .csv, .json, .png, .svg, .pdf or .html (interactive) file (repeatable: one "
            "run, many files).",
        ),
    ],
    x: XOpt = XAxis.epoch,
    log: LogOpt = False,
    momentum: MomentumOpt = False,
    title: TitleOpt = None,
    size: SizeOpt = None,
    dpi: DpiOpt = 150,
    style: StyleOpt = None,
    opts: Any = None,
) -> None:
    """Write the schedule to files by extension: rows to CSV/JSON, the plot to PNG/SVG/PDF/HTML."""
    from ..render import text

    fig_size = parse_size(size, dpi)
    check_style(style)
    sources = _sources([spec])
    guard = [s.path for s in sources if s.path is not None]
    check_outputs(outputs, EXPORT_FORMATS, guard)
    if all(path.suffix.lower() == ".csv" for path in outputs):
        _export_csv_streaming(spec, opts, outputs, guard)
        return
    (trace,) = _simulate([spec], opts)
    look = {
        "x": x.value,
        "log": log,
        "momentum": momentum,
        "title": title,
        "size": fig_size,
        "dpi": dpi,
        "style": style,
    }
    for path in outputs:
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
    _report([trace])
