"""The options every SPEC-taking command shares, declared once (sqlite-utils' output_options)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from ..errors import UsageError

DEFAULT_MAX_ROWS = 20_000_000  # build.DEFAULT_MAX_ROWS; not imported, so --help stays light
STEP_MODES = ("epoch", "batch", "fractional")
# formats.FORMATS (checked in a test)
FORMATS = (
    "native",
    "lightning",
    "hydra",
    "hf",
    "mmengine",
    "torchtune",
    "yolo",
)


def _option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


SHARED = (
    _option(
        "epochs",
        Annotated[
            int | None, typer.Option("--epochs", min=1, metavar="N", help="Override run.epochs.")
        ],
        None,
    ),
    _option(
        "iters",
        Annotated[
            int | None,
            typer.Option(
                "--iters",
                min=1,
                metavar="N",
                help="Override run.iters_per_epoch (batches per epoch).",
            ),
        ],
        None,
    ),
    _option(
        "step",
        Annotated[
            str | None,
            typer.Option(
                "--step", metavar="MODE", help="Override run.step: epoch, batch or fractional."
            ),
        ],
        None,
    ),
    _option(
        "sets",
        Annotated[
            list[str] | None,
            typer.Option(
                "--set",
                metavar="KEY=VALUE",
                help="Override any key, value parsed as YAML (repeatable).",
            ),
        ],
        None,
    ),
    _option(
        "max_rows",
        Annotated[
            int,
            typer.Option(
                "--max-rows", min=1, metavar="N", help="Refuse runs with more rows than this."
            ),
        ],
        DEFAULT_MAX_ROWS,
    ),
    _option(
        "source_format",
        Annotated[
            str | None,
            typer.Option(
                "--from",
                metavar="FORMAT",
                help="Read SPEC as native, lightning (LightningCLI), hydra, hf (transformers "
                "TrainingArguments), torchtune or yolo (a YOLOv5 hyp file); default: recognised "
                "from the file's own markers.",
            ),
        ],
        None,
    ),
    _option(
        "root",
        Annotated[
            Path | None,
            typer.Option(
                "--root",
                metavar="DIR",
                help="The tree that paths inside a spec (metrics CSV) must stay in; default: "
                "the spec's nearest folder holding .git, else its own folder.",
            ),
        ],
        None,
    ),
)
NAMES = tuple(p.name for p in SHARED)

F = TypeVar("F", bound=Callable[..., Any])


def make_options(
    epochs: int | None = None,
    iters: int | None = None,
    step: str | None = None,
    sets: list[str] | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    source_format: str | None = None,
    root: Path | None = None,
) -> Any:
    """The shared options as a checked load.Options."""
    from ..load import Options

    if step is not None and step not in STEP_MODES:
        raise UsageError(f"--step must be epoch, batch or fractional, not {step!r}")
    if source_format is not None and source_format not in FORMATS:
        raise UsageError(f"--from must be one of {', '.join(FORMATS)}, not {source_format!r}")
    if root is not None and not root.is_dir():
        raise UsageError(f"--root {root}: no such folder")
    return Options(tuple(sets or ()), epochs, iters, step, max_rows, source_format, root)


def spec_options(fn: F) -> F:
    """Give a command the shared options; it receives them as one `opts` (a load.Options)."""
    own = inspect.signature(fn, eval_str=True)
    params = [p for p in own.parameters.values() if p.name != "opts"]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        shared = {name: kwargs.pop(name) for name in NAMES if name in kwargs}
        return fn(*args, opts=make_options(**shared), **kwargs)

    wrapper.__signature__ = own.replace(parameters=[*params, *SHARED])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in (*params, *SHARED)}
    return wrapper  # type: ignore[return-value]
