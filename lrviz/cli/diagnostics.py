"""Warnings, bad rows and failures as one line each on stderr, and the exit status they make.

Reporters print and return an ExitStatus; only the command boundary (app.boundary) exits.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
import warnings
from collections.abc import Iterable, Iterator
from enum import IntEnum
from typing import TYPE_CHECKING

import typer

from ..errors import LrvizError, SpecError

if TYPE_CHECKING:
    from ..trace import Trace


class ExitStatus(IntEnum):
    """What the process tells its caller (httpie's ExitStatus)."""

    OK = 0
    ERROR = 1  # a run failed, a check found an error, an internal error
    USAGE = 2  # a command line or spec that cannot be acted on
    INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it


def worst(statuses: Iterable[ExitStatus]) -> ExitStatus:
    """The status of several reports: usage beats error beats OK."""
    return max(statuses, default=ExitStatus.OK)


def err(message: str) -> None:
    """A diagnostic line on stderr (plain text: messages may contain [brackets])."""
    typer.echo(message, err=True)


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 row', '2 rows', '1,000 rows'."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def one_line(text: str) -> str:
    """A message on one line: caret-only lines dropped, the rest joined with '; '."""
    parts = [p.strip() for p in str(text).splitlines()]
    return "; ".join(p for p in parts if p and set(p) != {"^"})


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


def run_lines(
    trace: Trace, *, label: str = "", bad: BadRows | None = None, warnings: bool = True
) -> list[str]:
    """A run's bad rows, torch warnings (once each, with counts) and failure, as stderr lines.

    `label` names the run in every line when a command reports several ("error: short: ...");
    `bad` carries the NaN/negative rows of a streamed run (default: this trace's).
    """
    tag = f"{label}: " if label else ""
    if bad is None:
        bad = BadRows()
        bad.add(trace)
    lines = []
    if bad.first is not None:
        first, lrs = bad.first
        values = ", ".join(repr(v) for v in lrs)
        lines.append(
            f"warning: {tag}lr is NaN, infinite or negative in {plural(bad.count, 'row')}; "
            f"first at row {first}: [{values}]"
        )
    if warnings:
        for w in trace.warnings:
            times = f" (×{w.count:,})" if w.count > 1 else ""
            lines.append(f"warning: {tag}row {w.step}{times}: {w.category}: {one_line(w.message)}")
    if trace.error is not None:
        step, message = trace.error.step, one_line(trace.error.message)
        produced = f" (rows 0..{step - 1} were produced)" if step else ""
        lines.append(f"error: {tag}run failed at row {step}: {message}{produced}")
    return lines


def report_run(
    trace: Trace, *, label: str = "", bad: BadRows | None = None, warnings: bool = True
) -> ExitStatus:
    """Print a run's diagnostics; ERROR if it failed, else OK."""
    for line in run_lines(trace, label=label, bad=bad, warnings=warnings):
        err(line)
    return ExitStatus.ERROR if trace.error is not None else ExitStatus.OK


def report_runs(traces: list[Trace], *, warnings: bool = True) -> ExitStatus:
    """Each run's diagnostics, every line naming its run when there are several."""
    several = len(traces) > 1
    return worst(report_run(t, label=t.name if several else "", warnings=warnings) for t in traces)


def report_later_failure(trace: Trace, *, warnings: bool = True) -> ExitStatus:
    """A run whose failure comes after the rows shown: its warnings, the failure as a note (OK)."""
    if warnings:
        for w in trace.warnings:
            times = f" (×{w.count:,})" if w.count > 1 else ""
            err(f"warning: row {w.step}{times}: {w.category}: {one_line(w.message)}")
    if trace.error is not None:
        err(
            f"note: the run fails later, at row {trace.error.step}: {one_line(trace.error.message)}"
        )
    return ExitStatus.OK


def failure_lines(exc: BaseException, *, debug: bool = False) -> tuple[list[str], ExitStatus]:
    """An exception that ends a command -> its stderr lines and exit status."""
    if isinstance(exc, SpecError):
        return [f"error: {p}" for p in exc.problems], ExitStatus(exc.exit_code)
    if isinstance(exc, LrvizError):
        return [f"error: {exc}"], ExitStatus(exc.exit_code)
    if isinstance(exc, KeyboardInterrupt):
        return ["interrupted"], ExitStatus.INTERRUPTED
    text = " ".join(str(exc).split())[:300]
    hint = "" if debug else "; re-run with --debug for the traceback"
    return [f"internal error: {type(exc).__name__}: {text}{hint}"], ExitStatus.ERROR


def report_failure(exc: BaseException, *, debug: bool = False) -> ExitStatus:
    """Print why a command stopped (the traceback too with --debug); the same status either way."""
    lines, status = failure_lines(exc, debug=debug)
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    for line in lines:
        err(line)
    return status


class _OneLineLog(logging.Handler):
    """Library log records (matplotlib's are several lines with a URL) as one line each."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        first = record.getMessage().strip().splitlines()[:1] or [""]
        line = f"warning: {record.name.split('.')[0]}: {first[0]}"
        if line not in self.seen:
            self.seen.add(line)
            err(line)


@contextlib.contextmanager
def library_output(*, debug: bool = False) -> Iterator[None]:
    """Python warnings and log records that escape lrviz's own capture, one line each, no paths.

    torch's warnings during a run are already rows of the Trace; what reaches here is a
    library speaking for itself (numpy, matplotlib). With --debug they pass through untouched.
    """
    if debug:
        yield
        return
    handler = _OneLineLog()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield
            finally:
                seen = set()
                for w in caught:
                    line = f"warning: {w.category.__name__}: {one_line(str(w.message))}"
                    if line not in seen:
                        seen.add(line)
                        err(line)
    finally:
        root.removeHandler(handler)
