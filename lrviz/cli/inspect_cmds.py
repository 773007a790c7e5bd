"""`diff`, `state`, `resume` and `code`: inspecting what torch's scheduler objects really do."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from . import diagnostics
from .app import AllRowsOpt, RowsOpt, SpecArg, app, boundary, err, write_atomic, write_stdout
from .diagnostics import ExitStatus
from .options import spec_options


class DiffFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class ReportFormat(str, Enum):
    table = "table"
    json = "json"


def _plan(spec: str, opts: Any) -> Any:
    from ..load import load_plan

    return load_plan(spec, opts)


def _spec_files(spec: str) -> list[Path]:
    """The file a SPEC argument reads, which -o must never overwrite."""
    from .. import catalog
    from ..errors import UsageError
    from ..presets import resolve

    try:
        source = resolve(spec, list(catalog.schedulers()))
    except UsageError:  # a recipe or class name: no file behind it
        return []
    return [source.path] if source.path else []


def _console() -> Any:
    from .app import console

    return console()


@app.command()
@boundary
@spec_options
def diff(
    spec: SpecArg,
    fmt: Annotated[
        DiffFormat,
        typer.Option(
            "--format", "-f", help="table (sampled, for reading) or csv/json (every row)."
        ),
    ] = DiffFormat.table,
    rows: RowsOpt = 40,
    all_rows: AllRowsOpt = False,
    opts: Any = None,
) -> ExitStatus:
    """Compare get_last_lr(), get_lr() and the closed form with the optimizer's lr, row by row."""
    from ..inspect.diff import inspect_plan
    from ..render import diff as render

    report = inspect_plan(_plan(spec, opts))
    trace = report.trace
    if fmt is DiffFormat.csv:
        write_stdout(render.iter_csv(report))
    elif fmt is DiffFormat.json:
        write_stdout(render.iter_json(report))
    else:
        _console().print(render.render_diff(report, max_rows=trace.rows if all_rows else rows))
    return diagnostics.report_run(trace, warnings=fmt is not DiffFormat.json)


@app.command()
@boundary
@spec_options
def state(
    spec: SpecArg,
    at: Annotated[
        int,
        typer.Option(
            "--at",
            metavar="K",
            help="After K scheduler.step() calls: the state a checkpoint saved just before "
            "row K holds (0 = freshly built).",
        ),
    ],
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="table (a tree) or json.")
    ] = ReportFormat.table,
    opts: Any = None,
) -> ExitStatus:
    """Show the scheduler's state_dict() after K steps, children of composites included."""
    from ..inspect.state import state_at
    from ..render import state as render

    report = state_at(_plan(spec, opts), at)
    if report.node is None:  # the run failed before reaching K steps
        return diagnostics.report_run(report.trace)
    if fmt is ReportFormat.json:
        write_stdout([render.json_text(report)])
    else:
        _console().print(render.render_state(report))
    return diagnostics.report_later_failure(report.trace, warnings=fmt is not ReportFormat.json)


@app.command()
@boundary
@spec_options
def resume(
    spec: SpecArg,
    at: Annotated[
        str,
        typer.Option(
            "--at",
            metavar="K|all",
            help="Checkpoint after K scheduler steps (just before row K); 'all' tries every "
            "row of a short run.",
        ),
    ],
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="table or json.")
    ] = ReportFormat.table,
    opts: Any = None,
) -> ExitStatus:
    """Save state_dict()s after K steps, reload into fresh objects, compare every later row."""
    from ..inspect.resume import parse_at
    from ..inspect.resume import resume as resume_plan
    from ..render import resume as render

    point = parse_at(at)
    report = resume_plan(_plan(spec, opts), point)
    if fmt is ReportFormat.json:
        write_stdout([render.json_text(report)])
    else:
        _console().print(render.render_resume(report))
    status = diagnostics.report_run(report.trace, warnings=fmt is not ReportFormat.json)
    if not report.ok:
        err(f"error: {render.verdict(report)}")
        status = diagnostics.worst([status, ExitStatus.ERROR])
    return status


@app.command()
@boundary
@spec_options
def code(
    spec: SpecArg,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="Write the snippet to this file (e.g. schedule.py).",
        ),
    ] = None,
    opts: Any = None,
) -> None:
    """Print the equivalent PyTorch snippet: optimizer, scheduler and the training loop."""
    import sys
    import warnings

    from ..build import build
    from ..errors import ExprEvalError, RunError
    from ..inspect.code import generate
    from .outputs import output_file

    target = None if output is None else output_file(output, guard=_spec_files(spec))
    plan = _plan(spec, opts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # building only to learn each group's momentum key
        try:
            built = build(plan)
        except ExprEvalError as exc:  # the schedule cannot produce its first row
            raise RunError(0, f"{type(exc).__name__}: {exc}") from None
    text = generate(plan, built.momentum_keys)
    if target is not None:
        write_atomic(target, [text], guard=_spec_files(spec))
        err(f"wrote {target}")
    elif sys.stdout.isatty():
        from rich.syntax import Syntax

        # soft_wrap: the terminal wraps long lines itself, so copied code stays intact
        _console().print(Syntax(text, "python", theme="ansi_dark"), soft_wrap=True)
    else:
        write_stdout([text])
