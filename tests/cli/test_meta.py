"""Meta-tests: every command has help text, a section in docs/ and a row in the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from lrviz.cli import app
from tests.docs.markdown import FENCE, anchors

COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
REPO = Path(__file__).parents[2]
README = (REPO / "README.md").read_text()


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


def command_table() -> dict[str, str]:
    """The README's command table: command name -> the docs link of its row."""
    section = README.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `lrviz (\w+)[^`]*` \|.*\]\(([^)]+)\) \|$", section, re.M)
    return dict(rows)


def docs_sections() -> dict[str, list[tuple[str, str]]]:
    """Command name -> the (page, heading) pairs of docs/ whose heading starts `lrviz NAME`."""
    found: dict[str, list[tuple[str, str]]] = {}
    for page in sorted((REPO / "docs").glob("*.md")):
        in_code = False
        for line in page.read_text().splitlines():
            if FENCE.match(line) or line.strip() == "```":
                in_code = not in_code
            elif not in_code and re.match(r"^#{2,4} ", line):
                for name in re.findall(r"`lrviz (\w+)", line):
                    found.setdefault(name, []).append((page.name, line))
    return found


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_a_docs_section_and_a_readme_row(name: str):
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0
    assert len(result.stdout.split("\n\n")[1].strip()) > 20  # a real one-line description
    assert name in docs_sections(), f"no heading in docs/*.md names `lrviz {name}`"
    link = command_table().get(name)
    assert link is not None, f"the README's command table has no row for lrviz {name}"
    page, _, anchor = link.partition("#")
    assert page.startswith("docs/") and anchor, link
    assert anchor in anchors(REPO / page), f"{link}: no such heading"
    headings = [h for p, h in docs_sections()[name] if p == page.removeprefix("docs/")]
    assert headings, f"{link}: the page has no heading naming `lrviz {name}`"


def test_the_command_table_lists_only_commands():
    assert sorted(command_table()) == COMMANDS


def test_readme_opens_with_the_two_commands():
    head = README.split("\n## ", 1)[0]
    assert "make demo" in head and "make test" in head
