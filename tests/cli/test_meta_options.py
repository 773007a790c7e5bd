"""Meta-tests: every SPEC-taking command shares the same options; help shows no Python types."""

from __future__ import annotations

import re

import pytest
import typer.main
from typer.testing import CliRunner

from lrviz.cli import app
from lrviz.cli.options import NAMES, SHARED

GROUP = typer.main.get_command(app)
COMMANDS = sorted(GROUP.commands)  # type: ignore[attr-defined]


def _takes_spec(command) -> bool:
    return any(
        p.param_type_name == "argument" and str(p.metavar or p.name).upper().startswith("SPEC")
        for p in command.params
    )


SPEC_COMMANDS = [n for n in COMMANDS if _takes_spec(GROUP.commands[n])]  # type: ignore[attr-defined]


def test_the_spec_taking_commands_are_found():
    assert {
        "table",
        "plot",
        "export",
        "diff",
        "state",
        "resume",
        "code",
        "check",
        "snapshot",
    } <= set(SPEC_COMMANDS)
    assert not {"list", "show", "rules"} & set(SPEC_COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_a_command_has_the_shared_options_exactly_when_it_takes_a_spec(name: str):
    command = GROUP.commands[name]  # type: ignore[attr-defined]
    options = {p.name: p for p in command.params if p.param_type_name == "option"}
    if name not in SPEC_COMMANDS:
        assert not set(NAMES) & set(options)
        return
    assert set(NAMES) <= set(options)
    # Declared once: the same flags, metavar, default and help everywhere.
    for declared in SHARED:
        info = declared.annotation.__metadata__[0]
        option = options[declared.name]
        assert option.opts == [info.default, *info.param_decls]  # Annotated: the flag comes first
        assert option.metavar == info.metavar
        assert option.default == declared.default
        assert option.help == info.help


@pytest.mark.parametrize("name", COMMANDS)
def test_help_shows_placeholders_not_python_types(name: str):
    result = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    usage = result.stdout.splitlines()[0]
    assert re.fullmatch(r"Usage: lrviz \S+ \[OPTIONS\]( \[?[A-Z_]+(\.\.\.)?\]?)*", usage), usage
    python_type = r"<(?:int|float|str|bool|path|list\[.*?\]|\w+ range|\w+(?:\|\w+)+)>"
    for line in result.stdout.splitlines():
        assert not re.search(python_type + r"|\{[A-Z]+\}", line), line  # <int range>, {SPEC}
    metavars = {
        m.group(1)
        for m in re.finditer(r"^\s+(?:-\w, )?--[\w-]+ ([A-Za-z_=]+)\b", result.stdout, re.M)
    }
    assert all(m.isupper() or m in ("WxH", "KEY=VALUE") for m in metavars), metavars
