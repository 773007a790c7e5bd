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


# The SPEC argument; the options every SPEC-taking command shares are in cli/options.py.
SpecArg = Annotated[
    str,
    typer.Argument(
        metavar="SPEC", help="A YAML file, a bundled preset name, or a scheduler class name."
    ),
]


def debugging() -> bool:
    """Whether --debug (or LRVIZ_DEBUG) asked for tracebacks."""
    return _state["debug"]


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
