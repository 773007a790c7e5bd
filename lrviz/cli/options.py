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


def keyword_option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    """A keyword-only command parameter (an option) for an option group."""
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


SHARED = (
    keyword_option(
        "epochs",
        Annotated[
            int | None, typer.Option("--epochs", min=1, metavar="N", help="Override run.epochs.")
        ],
        None,
    ),
    keyword_option(
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
    keyword_option(
        "step",
        Annotated[
            str | None,
            typer.Option(
                "--step", metavar="MODE", help="Override run.step: epoch, batch or fractional."
            ),
        ],
        None,
    ),
    keyword_option(
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
    keyword_option(
        "max_rows",
        Annotated[
            int,
            typer.Option(
                "--max-rows", min=1, metavar="N", help="Refuse runs with more rows than this."
            ),
        ],
        DEFAULT_MAX_ROWS,
    ),
    keyword_option(
        "source_format",
        Annotated[
            str | None,
            typer.Option(
                "--from",
                metavar="FORMAT",
                help="Read SPEC as native, lightning (LightningCLI), hydra, hf (transformers "
                "TrainingArguments), torchtune, mmengine (a .py config) or yolo (a YOLOv5 hyp "
                "file); default: recognised "
                "from the file's own markers.",
            ),
        ],
        None,
    ),
    keyword_option(
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


def option_group(
    shared: tuple[inspect.Parameter, ...], name: str, make: Callable[..., Any]
) -> Callable[[F], F]:
    """A decorator giving a command the `shared` options, packed by `make` into one `name`."""
    names = tuple(p.name for p in shared)

    def decorate(fn: F) -> F:
        own = inspect.signature(fn, eval_str=True)
        params = [p for p in own.parameters.values() if p.name != name]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = {n: kwargs.pop(n) for n in names if n in kwargs}
            return fn(*args, **{name: make(**values)}, **kwargs)

        wrapper.__signature__ = own.replace(parameters=[*params, *shared])  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in (*params, *shared)}
        return wrapper  # type: ignore[return-value]

    return decorate


# Gives a command the shared options as one `opts` (a load.Options).
spec_options = option_group(SHARED, "opts", make_options)
