"""`check`, `rules` and `snapshot`: lrviz as a CI gate for schedule configs."""

from __future__ import annotations

import textwrap
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UsageError
from . import diagnostics
from .app import app, boundary, debugging, write_atomic, write_stdout
from .diagnostics import ExitStatus
from .options import spec_options

SpecsArg = Annotated[
    list[str],
    typer.Argument(
        metavar="SPEC...",
        help="YAML files, folders (searched for *.yaml/*.yml), globs, or bundled preset names.",
    ),
]


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"


@app.command()
@boundary
@spec_options
def check(
    specs: SpecsArg,
    fmt: Annotated[
        CheckFormat,
        typer.Option(
            "--format",
            "-f",
            help="text (path:line: ID severity: message), json, or github (PR annotations).",
        ),
    ] = CheckFormat.text,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail the check too.")] = False,
    ignore: Annotated[
        list[str] | None,
        typer.Option("--ignore", metavar="RULE", help="Silence a rule, e.g. LRV004 (repeatable)."),
    ] = None,
    golden: Annotated[
        Path | None,
        typer.Option(
            "--golden",
            metavar="PATH",
            help="Compare the rows with a CSV from `lrviz snapshot` (a folder: <stem>.csv each).",
        ),
    ] = None,
    rtol: Annotated[
        float, typer.Option("--rtol", min=0.0, help="Relative tolerance for --golden.")
    ] = 1e-12,
    opts: Any = None,
) -> ExitStatus:
    """Validate, run and lint specs for CI: exit 0 clean, 1 on any error, 2 on a usage error."""
    from ..checks import report as rendering
    from ..checks.discover import discover, stem
    from ..checks.model import Report
    from ..checks.runner import check_spec

    silenced = _ignore_ids(ignore or [])
    files = discover(specs)
    goldens: dict[str, Path] = {}
    if golden is not None:
        if golden.is_dir():
            goldens = {f: golden / f"{stem(f)}.csv" for f in files}
        elif len(files) != 1:
            raise UsageError(
                f"--golden {golden}: a single CSV needs a single SPEC ({len(files)} given); "
                f"give a folder of <stem>.csv files to check several"
            )
        elif not golden.is_file():
            raise UsageError(f"--golden {golden}: no such file (write it with lrviz snapshot)")
        else:
            goldens = {files[0]: golden}
    results = [
        check_spec(f, opts, ignore=silenced, golden=goldens.get(f), rtol=rtol, debug=debugging())
        for f in files
    ]
    report = Report(results, strict)
    if fmt is CheckFormat.json:
        write_stdout([rendering.json_text(report), "\n"])
    else:
        lines = (
            rendering.github_lines(report)
            if fmt is CheckFormat.github
            else rendering.text_lines(report)
        )
        write_stdout(line + "\n" for line in lines)
    return ExitStatus.OK if report.ok else ExitStatus.ERROR


def _ignore_ids(values: list[str]) -> frozenset[str]:
    """Rule ids from --ignore (repeatable, comma-separated allowed); UsageError on unknown ids."""
    from ..checks import registry

    ids = set()
    for value in values:
        for part in filter(None, (p.strip() for p in value.split(","))):
            rule = registry.get(part)
            if not rule.silenceable:
                raise UsageError(f"--ignore {rule.id}: {rule.id} ({rule.name}) cannot be silenced")
            ids.add(rule.id)
    return frozenset(ids)


@app.command()
@boundary
def rules(
    rule_id: Annotated[
        str | None, typer.Argument(metavar="[RULE]", help="A rule id such as LRV003.")
    ] = None,
) -> None:
    """List the rules `lrviz check` applies, or explain one."""
    from ..checks import registry

    if rule_id is None:
        lines = [
            f"{r.id}  {r.severity:<7}  {r.name:<30} {r.title}" for r in registry.RULES.values()
        ]
        lines.append(
            "Explain one with: lrviz rules LRV003; silence one with check: {ignore: [...]}"
        )
    else:
        r = registry.get(rule_id)
        lines = [
            f"{r.id} {r.name} ({r.severity}{'' if r.silenceable else ', cannot be silenced'})",
            r.title,
            "",
            *textwrap.wrap(r.explanation, width=88),
        ]
    write_stdout(line + "\n" for line in lines)


@app.command()
@boundary
@spec_options
def snapshot(
    specs: SpecsArg,
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="The CSV to write, or a folder for one <stem>.csv per SPEC: an existing one, "
            "or a name ending with '/' (created).",
        ),
    ],
    opts: Any = None,
) -> ExitStatus:
    """Write the rows of SPEC as a golden CSV for `lrviz check --golden`."""
    from ..catalog import schedulers
    from ..checks.discover import discover, stem
    from ..load import load_plan
    from ..presets import resolve
    from ..render.text import iter_csv
    from ..simulation import run
    from .outputs import snapshot_targets

    files = discover(specs)
    names = list(schedulers())
    guards = {f: [s.path] if (s := resolve(f, names)).path else [] for f in files}
    targets, create = snapshot_targets(
        output, files, stem, [p for paths in guards.values() for p in paths]
    )
    plans = {f: load_plan(f, opts) for f in files}  # every spec error before any file is written
    if create is not None:
        create.mkdir()
    statuses = []
    for f in files:
        trace = run(plans[f])
        write_atomic(targets[f], iter_csv(trace), guard=guards[f])
        write_stdout([f"wrote {targets[f]} ({diagnostics.plural(trace.rows, 'row')})\n"])
        statuses.append(diagnostics.report_run(trace, label=f))
    return diagnostics.worst(statuses)
