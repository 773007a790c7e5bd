"""The lrviz command line: the only code that prints, writes files and exits."""

from __future__ import annotations

from . import check, core, inspect_cmds, plot, train  # noqa: F401  (each module registers its commands)
from .app import app


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
