"""The lrviz command line: the only code that prints, writes files and exits."""

from __future__ import annotations

import atexit
import os
import sys

from . import check, core, inspect_cmds, plot, train, watch  # noqa: F401  (each registers commands)
from .app import app

BROKEN_OUTPUT = 120  # what Python exits with when it cannot flush stdout at shutdown


def main() -> None:
    """Console-script entry point: run the command, then leave without interpreter teardown."""
    try:
        app()
    except SystemExit as exc:
        leave(exc.code)


def leave(code: object) -> None:
    """Exit as SystemExit(code) would, minus the teardown (about a second once torch is in).

    Every file a command writes is closed (and renamed into place) before its command
    returns; exit handlers still run and stdout and stderr are flushed here, so only the
    freeing of every object is skipped. Ctrl-C never comes here: it keeps Python's own path.
    """
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # SystemExit("message"): Python prints it and exits 1
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            status = BROKEN_OUTPUT
    os._exit(status & 0xFF)


__all__ = ["app", "main"]
