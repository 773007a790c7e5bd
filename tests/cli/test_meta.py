"""Meta-tests: every command has help text and is documented in the README."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from lrviz.cli import app

COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
README = (Path(__file__).parents[2] / "README.md").read_text()


def test_the_command_set():
    assert COMMANDS == [
        "check",
        "code",
        "diff",
        "export",
        "list",
        "plot",
        "resume",
        "rules",
        "show",
        "snapshot",
        "state",
        "table",
        "train",
        "watch",
    ]


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_and_is_in_the_readme(name: str):
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0
    assert len(result.stdout.split("\n\n")[1].strip()) > 20  # a real one-line description
    assert f"lrviz {name}" in README


def test_readme_opens_with_the_two_commands():
    head = README.split("\n## ", 1)[0]
    assert "make demo" in head and "make test" in head
