"""`table`, `list` and `show`: the schedule as rows, and what the installed torch offers."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import diagnostics
from .app import AllRowsOpt, RowsOpt, SpecArg, app, boundary, console, write_stdout
from .diagnostics import ExitStatus
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
    rows: RowsOpt = 40,
    all_rows: AllRowsOpt = False,
    opts: Any = None,
) -> ExitStatus:
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
    return diagnostics.report_run(trace, warnings=fmt is not TableFormat.json)


def _print_table(trace: Trace, budget: int) -> None:
    from ..render.table import header_lines, render_table, sparklines

    out = console()
    for line in header_lines(trace):
        out.print(line, markup=False)
    for line in sparklines(trace):
        out.print(line, markup=False)
    out.print(render_table(trace, max_rows=budget))


@app.command("list")
@boundary
def list_types() -> None:
    """List the scheduler types of the installed torch and the bundled presets."""
    from rich.table import Table

    from .. import catalog, presets
    from ..document import load_yaml

    out = console()
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
    out.print(types)
    out.print(_recipe_table())
    shelf = Table(title="Bundled presets (lrviz table NAME)", title_justify="left")
    shelf.add_column("preset", style="bold")
    shelf.add_column("description")
    for name in presets.preset_names():
        data = load_yaml(presets.preset_path(name).read_text(encoding="utf-8")) or {}
        shelf.add_row(name, str(data.get("description", "")) if isinstance(data, dict) else "")
    out.print(shelf)


@app.command()
@boundary
def show(
    type_name: Annotated[str, typer.Argument(metavar="TYPE", help="A scheduler class name.")],
) -> None:
    """Show one scheduler type: what it does, its parameters, types and defaults."""
    from rich.table import Table

    from .. import catalog, recipes
    from ..errors import UsageError

    recipe = recipes.find(type_name)
    if recipe is not None:
        _show_recipe(recipe)
        return
    try:
        info = catalog.find("scheduler", type_name, catalog.schedulers())
    except KeyError:
        raise UsageError(_unknown_type(type_name)) from None
    out = console()
    out.print(f"{info.name}: {info.summary}", markup=False)
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
    out.print(params)
    differs = [f"{p.name} ({p.annotation})" for p in info.params if p.accepts != p.annotation]
    if differs:
        out.print(
            "Types follow what torch's code accepts where it differs from the annotation "
            f"(annotated): {', '.join(differs)}.",
            markup=False,
        )
    if info.composite:
        out.print("Children go inline: schedulers: [{type: LinearLR, ...}, ...]", markup=False)
    if info.metric_driven:
        out.print("Needs run.metrics: one value per scheduler step.", markup=False)


def _unknown_type(name: str) -> str:
    """Why `show NAME` found nothing: a preset is a file, not a type; else the closest type."""
    from .. import catalog, presets, recipes
    from ..document import load_yaml
    from ..errors import did_you_mean

    if name in presets.preset_names():
        data = load_yaml(presets.preset_path(name).read_text(encoding="utf-8"))
        scheduler = data.get("scheduler") if isinstance(data, dict) else None
        kind = scheduler.get("type") if isinstance(scheduler, dict) else None
        uses = f"; its scheduler is {kind} (lrviz show {kind})" if isinstance(kind, str) else ""
        return (
            f"{name!r} is a bundled preset, a schedule file rather than a scheduler type: "
            f"lrviz table {name} shows its rows{uses}"
        )
    # torch's classes first: "cosine" means CosineAnnealingLR before any recipe
    hint = did_you_mean(name, list(catalog.schedulers())) or did_you_mean(
        name, list(recipes.RECIPES)
    )
    return f"unknown scheduler {name!r}{hint}"


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
    from rich.table import Table

    out = console()
    out.print(f"{recipe.name} (recipe): {recipe.summary}", markup=False)
    params = Table(title_justify="left")
    params.add_column("parameter", style="bold")
    params.add_column("default")
    params.add_column("description")
    for p in recipe.params:
        default = "required" if p.required else "the run" if p.default is None else repr(p.default)
        params.add_row(p.name, default, p.doc)
    if recipe.params:
        out.print(params)
    out.print(f"Expands to: {recipe.expands_to}", markup=False)
    out.print(
        "Lengths count scheduler steps: epochs with step: epoch, batches with step: batch.",
        markup=False,
    )
