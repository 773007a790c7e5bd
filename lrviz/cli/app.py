"""The Typer app, its help and usage-error style, and the boundary that turns errors into exits."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

from .. import atomic
from . import diagnostics
from .diagnostics import ExitStatus, err

__all__ = ["ExitStatus", "app", "boundary", "console", "debugging", "err", "write_atomic"]

WIDE = 4096  # piped output is for files and tools: no wrapping at 80 columns


def _metavar(param: Any) -> str:
    """A value's placeholder in capitals (SPEC, N, PATH), never a Python type."""
    if param.metavar:
        return str(param.metavar)
    longest = max(getattr(param, "opts", []) or [param.name or "value"], key=len)
    return longest.lstrip("-").upper().replace("-", "_")


def _usage_error(exc: Any) -> str:
    """Click's usage error in lrviz's one-line form: what is wrong, then where help is."""
    message = diagnostics.one_line(exc.format_message()).rstrip(".")
    message = message[:1].lower() + message[1:]
    ctx = getattr(exc, "ctx", None)
    where = f"; see '{ctx.command_path} --help'" if ctx is not None else ""
    return f"error: {message}{where}"


class Command(TyperCommand):
    """An lrviz command: capitalised metavars in help and usage, no Python types."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if param.param_type_name == "option" and not getattr(param, "is_flag", False):
                param.metavar = _metavar(param)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name != "argument":
                continue
            name = _metavar(param).strip("[]").removesuffix("...")
            name += "..." if param.nargs != 1 else ""
            pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        args, opts = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                name = _metavar(param).strip("[]").removesuffix("...")
                args.append((name + ("..." if param.nargs != 1 else ""), record[1]))
            else:
                opts.append(record)
        for title, rows in (("Arguments", args), ("Options", opts)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


class Group(TyperGroup):
    """The lrviz command group: usage errors as one `error:` line and exit status 2."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        from typer._click.exceptions import ClickException, NoArgsIsHelpError

        def run() -> Any:
            return super(Group, self).main(
                args, prog_name, complete_var, False, windows_expand_args, **extra
            )

        if not standalone_mode:
            return run()
        try:
            status = run()
        except NoArgsIsHelpError as exc:  # plain `lrviz` or `lrviz table`: the help, as click does
            exc.show()
            sys.exit(ExitStatus.USAGE)
        except ClickException as exc:
            err(_usage_error(exc))
            sys.exit(ExitStatus.USAGE if exc.exit_code == 2 else exc.exit_code)
        except typer.Abort:
            err("aborted")
            sys.exit(ExitStatus.ERROR)
        sys.exit(status if isinstance(status, int) else ExitStatus.OK)


class Typer(typer.Typer):
    """typer.Typer whose commands are lrviz Commands unless they ask for another class."""

    def command(self, *args: Any, cls: Any = None, **kwargs: Any) -> Any:
        return super().command(*args, cls=cls or Command, **kwargs)


app = Typer(
    name="lrviz",
    help="See exactly what a PyTorch learning-rate schedule will do, before a GPU-hour is spent.",
    cls=Group,
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
# How many rows a table shows (table and diff sample long runs the same way).
RowsOpt = Annotated[
    int, typer.Option("--rows", min=3, metavar="N", help="Rows to show in table format.")
]
AllRowsOpt = Annotated[bool, typer.Option("--all", help="Show every row in table format.")]


def debugging() -> bool:
    """Whether --debug (or LRVIZ_DEBUG) asked for tracebacks."""
    return _state["debug"]


F = TypeVar("F", bound=Callable[..., Any])


def boundary(fn: F) -> F:
    """Run a command: its returned ExitStatus, or an exception as one message, becomes the exit.

    Library warnings and log records are reported one line each; with --debug the traceback
    is printed as well, and the exit status stays the same.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = _state["debug"]
        try:
            with diagnostics.library_output(debug=debug):
                try:
                    status = fn(*args, **kwargs)
                except (typer.Exit, typer.Abort, SystemExit):
                    raise
                except BrokenPipeError:
                    status = _closed_stdout()
                except (Exception, KeyboardInterrupt) as exc:
                    status = diagnostics.report_failure(exc, debug=debug)
        except BrokenPipeError:  # the reader went away while warnings were being printed
            status = _closed_stdout()
        if status:
            raise typer.Exit(int(status))

    return wrapper  # type: ignore[return-value]


def _closed_stdout() -> ExitStatus:
    # `lrviz table x | head`: the reader has what it wanted; stop quietly, as CSV/JSON do.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # a stdout without a descriptor (tests)
        pass
    return ExitStatus.OK


def console() -> Any:
    """A rich Console for stdout: a closed pipe ends quietly, piped output does not wrap at 80."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # rich would exit 1 here; the boundary stops quietly with 0, as for CSV and JSON.
            raise BrokenPipeError

    wide = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return _Console(highlight=False, width=WIDE if wide else None)


def write_atomic(path: Path, chunks: Iterable[str | bytes], *, guard: Iterable[Path] = ()) -> None:
    """Write a file via a temporary file in the same folder + rename: never half-written."""
    from .outputs import check_output

    check_output(path, guard=list(guard))
    atomic.write_atomic(path.resolve(), chunks)


def write_stdout(chunks: Iterable[str]) -> None:
    """Stream text to stdout (through click, so test runners capture it)."""
    for chunk in chunks:
        typer.echo(chunk, nl=False)
    sys.stdout.flush()
