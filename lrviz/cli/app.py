"""The Typer app, the options commands share, and the one boundary that turns errors into exits."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from .. import atomic
from ..errors import LrvizError, SpecError, UsageError

app = typer.Typer(
    name="lrviz",
    help="See exactly what a PyTorch learning-rate schedule will do, before a GPU-hour is spent.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_state = {"debug": bool(os.environ.get("LRVIZ_DEBUG"))}


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show Python tracebacks.")] = False,
) -> None:
    # Set on every invocation, so one `--debug` run does not leak into the next (tests).
    _state["debug"] = debug or bool(os.environ.get("LRVIZ_DEBUG"))


# Options shared by every command that takes a SPEC.
SpecArg = Annotated[
    str,
    typer.Argument(
        metavar="SPEC", help="A YAML file, a bundled preset name, or a scheduler class name."
    ),
]
EpochsOpt = Annotated[int | None, typer.Option("--epochs", min=1, help="Override run.epochs.")]
ItersOpt = Annotated[
    int | None, typer.Option("--iters", min=1, help="Override run.iters_per_epoch.")
]
StepOpt = Annotated[
    str | None, typer.Option("--step", help="Override run.step: epoch, batch or fractional.")
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set", metavar="KEY=VALUE", help="Override any key, value parsed as YAML (repeatable)."
    ),
]
MaxRowsOpt = Annotated[
    int, typer.Option("--max-rows", min=1, help="Refuse runs with more rows than this.")
]
FromOpt = Annotated[
    str | None,
    typer.Option(
        "--from",
        metavar="FORMAT",
        help="Read SPEC as native, lightning (LightningCLI), hydra or hf (transformers "
        "TrainingArguments); default: detected from the file.",
    ),
]


def options(
    epochs: int | None,
    iters: int | None,
    step: str | None,
    sets: list[str] | None,
    max_rows: int,
    source_format: str | None = None,
) -> Any:
    """The shared options as a load.Options."""
    from ..formats import FORMATS
    from ..load import Options

    if step is not None and step not in ("epoch", "batch", "fractional"):
        raise UsageError(f"--step must be epoch, batch or fractional, not {step!r}")
    if source_format is not None and source_format not in FORMATS:
        raise UsageError(f"--from must be one of {', '.join(FORMATS)}, not {source_format!r}")
    return Options(tuple(sets or ()), epochs, iters, step, max_rows, source_format)


def err(message: str) -> None:
    """A diagnostic line on stderr (plain text: messages may contain [brackets])."""
    typer.echo(message, err=True)


F = TypeVar("F", bound=Callable[..., Any])


def boundary(fn: F) -> F:
    """Turn lrviz errors into one clean message and an exit code; tracebacks only with --debug."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except LrvizError as exc:
            if _state["debug"]:
                raise
            lines = [str(p) for p in exc.problems] if isinstance(exc, SpecError) else [str(exc)]
            for line in lines:
                err(f"error: {line}")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err("interrupted")
            raise typer.Exit(130) from None
        except BrokenPipeError:
            # `lrviz table x -f csv | head`: the reader has what it wanted; stop quietly.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(0) from None
        except Exception as exc:
            if _state["debug"]:
                raise
            text = " ".join(str(exc).split())[:300]
            err(
                f"internal error: {type(exc).__name__}: {text}; "
                "re-run with --debug for the traceback"
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def write_atomic(path: Path, chunks: Iterable[str | bytes], *, guard: Iterable[Path] = ()) -> None:
    """Write a file via a temporary file in the same folder + rename: never half-written."""
    target = path.resolve()
    for protected in guard:
        if protected.resolve() == target:
            raise UsageError(f"{path}: refusing to overwrite the spec being read")
    if not target.parent.is_dir():
        raise UsageError(f"{path}: folder {target.parent} does not exist")
    atomic.write_atomic(target, chunks)


def write_stdout(chunks: Iterable[str]) -> None:
    """Stream text to stdout (through click, so test runners capture it)."""
    for chunk in chunks:
        typer.echo(chunk, nl=False)
    sys.stdout.flush()
