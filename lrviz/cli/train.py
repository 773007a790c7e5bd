"""`train`: what each schedule does to a real (small) training run on the digits data."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UsageError
from . import diagnostics
from .app import app, boundary, err, write_atomic, write_stdout
from .diagnostics import ExitStatus
from .options import spec_options

FILE_FORMATS = ("csv", "json", "png", "svg", "pdf")
MODELS = ("lenet", "mlp")  # training.MODELS, not imported: --help stays light


class TrainFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


@app.command("train")
@boundary
@spec_options
def train_command(
    specs: Annotated[
        list[str],
        typer.Argument(
            metavar="SPEC",
            help="YAML files, bundled preset names or scheduler class names; each trains a "
            "fresh model.",
        ),
    ],
    output: Annotated[
        list[Path] | None,
        typer.Option(
            "--output",
            "-o",
            help="Write .csv/.json (every epoch) or .png/.svg/.pdf (the figure); repeatable.",
        ),
    ] = None,
    fmt: Annotated[
        TrainFormat,
        typer.Option("--format", "-f", help="stdout: table (for reading), csv or json."),
    ] = TrainFormat.table,
    model: Annotated[
        str, typer.Option("--model", help="The built-in model: lenet (a small CNN) or mlp.")
    ] = "lenet",
    seed: Annotated[
        int,
        typer.Option("--seed", metavar="N", help="Seeds the initialisation and the batch order."),
    ] = 0,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, metavar="N", help="Training images per batch.")
    ] = 32,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", min=1, metavar="N", help="Train on the first N training images only."
        ),
    ] = None,
    rows: Annotated[
        int,
        typer.Option("--rows", min=3, metavar="N", help="Epochs to show per spec in table format."),
    ] = 40,
    log: Annotated[bool, typer.Option("--log", help="Log scale for the lr panel.")] = False,
    title: Annotated[str | None, typer.Option("--title", help="Title above the figure.")] = None,
    opts: Any = None,
) -> ExitStatus:
    """Train a small model on scikit-learn's digits under each SPEC: lr, loss, accuracy by epoch."""
    if opts.iters is not None:
        raise UsageError(
            "--iters: lrviz train takes the batches per epoch from the data; "
            "use --batch-size (or --limit)"
        )
    if model not in MODELS:
        raise UsageError(f"--model must be one of {', '.join(MODELS)}, not {model!r}")
    outputs = list(output or [])
    _check_outputs(specs, outputs, opts)
    from .. import training

    train_loader, test_loader = training.digits(batch_size, limit=limit)
    iters = len(train_loader)
    plans = [training.training_plan(s, opts, iters) for s in specs]  # every spec checked first
    make = training.make_model(model)
    runs = []
    for plan in plans:
        run = training.run_plan(plan, make, train_loader, test_loader, seed=seed)
        runs.append(run)
        last = f", test accuracy {100 * run.test_acc[-1]:.1f}%" if run.epochs else ""
        epochs = f"{run.epochs} epoch{'' if run.epochs == 1 else 's'}"
        err(f"trained {run.name}: {epochs} × {iters} batches{last}")
    setup = _setup(model, seed, batch_size, len(train_loader.y), len(test_loader.y), runs)
    _write(runs, setup, outputs, specs, opts, log, title)
    _print(runs, fmt, rows, setup)
    return _report(runs)


def _setup(
    model: str, seed: int, batch_size: int, n_train: int, n_test: int, runs: list[Any]
) -> dict[str, Any]:
    """What every run shares, for the JSON document and the table's header."""
    from ..training import DEFAULT_THREADS

    torch_version = runs[0].trace.torch_version if runs else ""
    return {
        "data": "scikit-learn digits (8×8)",
        "train_images": n_train,
        "test_images": n_test,
        "model": model,
        "batch_size": batch_size,
        "seed": seed,
        "threads": DEFAULT_THREADS,
        "torch_version": torch_version,
    }


def _check_outputs(specs: list[str], outputs: list[Path], opts: Any) -> None:
    """Refuse bad outputs before training: unknown extension, missing folder, a spec itself."""
    from .. import catalog
    from ..presets import resolve
    from .plot import check_outputs

    if not outputs:
        return
    names = list(catalog.schedulers())
    guard = [s.path for s in (resolve(a, names, root=opts.root) for a in specs) if s.path]
    check_outputs(outputs, FILE_FORMATS, guard)


def _write(
    runs: list[Any],
    setup: dict[str, Any],
    outputs: list[Path],
    specs: list[str],
    opts: Any,
    log: bool,
    title: str | None,
) -> None:
    from ..render import training as render

    for path in outputs:
        kind = path.suffix.lower()[1:]
        if kind == "csv":
            write_atomic(path, render.iter_csv(runs))
        elif kind == "json":
            write_atomic(path, render.iter_json(runs, setup))
        else:
            from ..render.plot import to_bytes

            write_atomic(path, [to_bytes(render.figure(runs, log=log, title=title), kind)])
        err(f"wrote {path}")


def _print(runs: list[Any], fmt: TrainFormat, rows: int, setup: dict[str, Any]) -> None:
    from ..render import training as render

    if fmt is TrainFormat.csv:
        write_stdout(render.iter_csv(runs))
        return
    if fmt is TrainFormat.json:
        write_stdout(render.iter_json(runs, setup))
        return
    from rich.console import Console

    from ..render.table import header_lines

    console = Console(highlight=False)
    console.print(
        f"{setup['model']} on {setup['data']}: {setup['train_images']:,} training images in "
        f"batches of {setup['batch_size']}, {setup['test_images']:,} held out · seed "
        f"{setup['seed']}",
        markup=False,
        soft_wrap=True,
    )
    for run in runs:
        console.print()
        for line in header_lines(run.trace):
            console.print(line, markup=False, soft_wrap=True)
        groups = ", ".join(f"{g}: {p}" for g, p in zip(run.groups, run.parts, strict=True))
        console.print(f"param groups: {groups}", markup=False, soft_wrap=True)
        console.print(render.render_table(run, max_rows=rows))
    if len(runs) > 1:
        console.print()
        console.print(render.summary_table(runs))


def _report(runs: list[Any]) -> ExitStatus:
    """Each run's warnings and failure on stderr, as `table` reports them; ERROR if any failed."""
    several = len(runs) > 1
    return diagnostics.worst(
        diagnostics.report_run(run.trace, label=run.name if several else "") for run in runs
    )
