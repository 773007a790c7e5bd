"""`table`, `list` and `show`: the schedule as rows, and what the installed torch offers."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .app import (
    SpecArg,
    app,
    boundary,
    err,
    write_stdout,
)
from .options import spec_options

if TYPE_CHECKING:
    from ..trace import Trace


class TableFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    markdown = "markdown"


def simulate_spec(spec: str, opts: Any) -> Trace:
    """Load, check and run one SPEC argument -> Trace."""
    from ..load import load_plan
    from ..simulation import run

    return run(load_plan(spec, opts))


class BadRows:
    """Rows whose lr is NaN, infinite or negative, counted over one trace or a stream of chunks."""

    def __init__(self) -> None:
        self.count = 0
        self.first: tuple[int, list[float]] | None = None  # (row, lr of every group)

    def add(self, trace: Trace) -> None:
        rows = trace.bad_lr_rows()
        if len(rows) and self.first is None:
            k = int(rows[0])
            self.first = (trace.offset + k, [float(v) for v in trace.lr[k]])
        self.count += len(rows)


def report_run(
    trace: Trace, *, warnings_to_stderr: bool = True, label: str = "", bad: BadRows | None = None
) -> None:
    """Warnings (once each, with counts) and the failure, on stderr; exit 1 on failure.

    `label` names the run in every line when a command reports several ("error: short: ...");
    `bad` carries the NaN/negative rows of a streamed run (default: this trace's).
    """
    tag = f"{label}: " if label else ""
    if bad is None:
        bad = BadRows()
        bad.add(trace)
    if bad.first is not None:
        first, lrs = bad.first
        values = ", ".join(repr(v) for v in lrs)
        rows = f"{bad.count:,} row{'' if bad.count == 1 else 's'}"
        err(
            f"warning: {tag}lr is NaN, infinite or negative in {rows}; first at row {first}: "
            f"[{values}]"
        )
    if warnings_to_stderr:
        for w in trace.warnings:
            times = f" (×{w.count:,})" if w.count > 1 else ""
            err(f"warning: {tag}row {w.step}{times}: {w.category}: {w.message}")
    if trace.error is not None:
        step, message = trace.error.step, trace.error.message
        produced = f" (rows 0..{step - 1} were produced)" if step else ""
        err(f"error: {tag}run failed at row {step}: {message}{produced}")
        raise typer.Exit(1)


@app.command()
@boundary
@spec_options
def table(
    spec: SpecArg,
    fmt: Annotated[
        TableFormat,
        typer.Option(
            "--format", "-f", help="table (sampled, for reading) or csv/json/markdown (every row)."
        ),
    ] = TableFormat.table,
    rows: Annotated[int, typer.Option("--rows", min=3, help="Rows to show in table format.")] = 40,
    all_rows: Annotated[
        bool, typer.Option("--all", help="Show every row in table format.")
    ] = False,
    opts: Any = None,
) -> None:
    """Print the schedule: one row per optimizer step, every param group's lr and momentum."""
    from ..render import text

    trace = simulate_spec(spec, opts)
    if fmt is TableFormat.csv:
        write_stdout(text.iter_csv(trace))
    elif fmt is TableFormat.json:
        write_stdout(text.iter_json(trace))
    elif fmt is TableFormat.markdown:
        write_stdout([text.markdown(trace)])
    else:
        _print_table(trace, trace.rows if all_rows else rows)
    report_run(trace, warnings_to_stderr=fmt is not TableFormat.json)


def _print_table(trace: Trace, budget: int) -> None:
    from rich.console import Console

    from ..render.table import header_lines, render_table, sparkline

    console = Console(highlight=False)
    for line in header_lines(trace):
        console.print(line, markup=False)
    if trace.rows > 1:
        console.print(f"lr {trace.groups[0]}: {sparkline(trace.lr[:, 0].tolist())}", markup=False)
    console.print(render_table(trace, max_rows=budget))


@app.command("list")
@boundary
def list_types() -> None:
    """List the scheduler types of the installed torch and the bundled presets."""
    from rich.console import Console
    from rich.table import Table

    from .. import catalog, presets
    from ..spec import load_yaml

    console = Console(highlight=False)
    types = Table(title="Scheduler types (torch.optim.lr_scheduler)", title_justify="left")
    types.add_column("type", style="bold")
    types.add_column("parameters (default)")
    for name, info in catalog.schedulers().items():
        params = ", ".join(
            p.name if p.required else f"{p.name}={p.default!r}"
            for p in info.params
            if p.name != "last_epoch"
        )
        types.add_row(name, params)
    console.print(types)
    console.print(_recipe_table())
    shelf = Table(title="Bundled presets (lrviz table NAME)", title_justify="left")
    shelf.add_column("preset", style="bold")
    shelf.add_column("description")
    for name in presets.preset_names():
        data = load_yaml(presets.preset_path(name).read_text(encoding="utf-8")) or {}
        shelf.add_row(name, str(data.get("description", "")) if isinstance(data, dict) else "")
    console.print(shelf)


@app.command()
@boundary
def show(
    type_name: Annotated[str, typer.Argument(metavar="TYPE", help="A scheduler class name.")],
) -> None:
    """Show one scheduler type: what it does, its parameters, types and defaults."""
    from rich.console import Console
    from rich.table import Table

    from .. import catalog, recipes
    from ..errors import UsageError, did_you_mean

    recipe = recipes.find(type_name)
    if recipe is not None:
        _show_recipe(recipe)
        return
    try:
        info = catalog.find("scheduler", type_name, catalog.schedulers())
    except KeyError as exc:
        hint = did_you_mean(type_name, list(recipes.RECIPES))
        if "did you mean" in str(exc.args[0]) or not hint:
            raise UsageError(str(exc.args[0])) from None
        raise UsageError(f"unknown scheduler {type_name!r}{hint}") from None
    console = Console(highlight=False)
    console.print(f"{info.name}: {info.summary}", markup=False)
    params = Table(title_justify="left")
    params.add_column("parameter", style="bold")
    params.add_column("type")
    params.add_column("default")
    params.add_column("description")
    for p in info.params:
        default = "required" if p.required else repr(p.default)
        if info.name == "OneCycleLR" and p.name == "total_steps":
            default += " (lrviz fills in the run's steps)"
        params.add_row(p.name, catalog.expected(p.accepts) if p.accepts else "", default, p.doc)
    console.print(params)
    differs = [f"{p.name} ({p.annotation})" for p in info.params if p.accepts != p.annotation]
    if differs:
        console.print(
            "Types follow what torch's code accepts where it differs from the annotation "
            f"(annotated): {', '.join(differs)}.",
            markup=False,
        )
    if info.composite:
        console.print("Children go inline: schedulers: [{type: LinearLR, ...}, ...]", markup=False)
    if info.metric_driven:
        console.print("Needs run.metrics: one value per scheduler step.", markup=False)


def _recipe_table() -> Any:
    """The bundled recipes as a rich Table."""
    from rich.table import Table

    from .. import recipes

    table = Table(
        title="Recipes (type: NAME; built from torch schedulers, lrviz show NAME)",
        title_justify="left",
    )
    table.add_column("type", style="bold")
    table.add_column("parameters (default)")
    table.add_column("what it is")
    for recipe in recipes.RECIPES.values():
        params = ", ".join(
            p.name if p.required or p.default is None else f"{p.name}={p.default!r}"
            for p in recipe.params
        )
        table.add_row(recipe.name, params, recipe.summary)
    return table


def _show_recipe(recipe: Any) -> None:
    """`lrviz show` for a recipe: what it is, its parameters, what it expands into."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    console.print(f"{recipe.name} (recipe): {recipe.summary}", markup=False)
    params = Table(title_justify="left")
    params.add_column("parameter", style="bold")
    params.add_column("default")
    params.add_column("description")
    for p in recipe.params:
        default = "required" if p.required else "the run" if p.default is None else repr(p.default)
        params.add_row(p.name, default, p.doc)
    if recipe.params:
        console.print(params)
    console.print(f"Expands to: {recipe.expands_to}", markup=False)
    console.print(
        "Lengths count scheduler steps: epochs with step: epoch, batches with step: batch.",
        markup=False,
    )
