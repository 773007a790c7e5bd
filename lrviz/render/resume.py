"""A ResumeReport -> the headline, a rich Table (one line per load order), verdicts, JSON."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..reports import VARIANTS, Difference, Outcome, ResumeReport
from .json import document


def render_resume(report: ResumeReport) -> Group:
    """All of `lrviz resume`'s table output: headline, table, verdict, load order, notes."""
    return Group(
        *(Text(line) for line in headline(report)),
        render_resume_table(report),
        Text(verdict(report), style="bold"),
        Text(order_matters(report)),
        *(Text(f"note: {note}") for note in report.notes),
    )


def _outcome_text(outcome: Outcome) -> Text:
    if outcome.identical:
        return Text(f"identical ({outcome.rows:,} rows)", style="green")
    if outcome.differing is None:
        return Text("differs", style="bold red")
    assert outcome.last_differing is not None
    tail = (
        "never recovers"
        if outcome.last_differing >= outcome.at + outcome.rows - 1
        else f"identical from row {outcome.last_differing + 1}"
    )
    return Text(f"{outcome.differing:,} of {outcome.rows:,} rows differ ({tail})", style="red")


def render_resume_table(report: ResumeReport) -> Table:
    """One line per variant: identical, or where the resumed run first departs."""
    from rich import box

    single = len(report.at) == 1
    table = Table(title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    table.add_column("resumed by (in order)", ratio=3, min_width=25)  # a step per line
    table.add_column("result", ratio=3)
    table.add_column("first difference", ratio=4)
    for variant in VARIANTS:
        results = report.outcomes[variant.id]
        # one step per line, so the order of builds and loads reads top to bottom
        steps = variant.label.replace(" → ", "\n→ ")
        label = Text(steps, style="bold" if variant.documented else "")
        if single and results:
            o = results[0]
            shown = o.first.describe(short=True) if o.first else ""
            table.add_row(label, _outcome_text(o), shown)
            continue
        bad = [o for o in results if not o.identical]
        if not bad:
            table.add_row(
                label, Text(f"identical at all {len(results):,} checkpoints", style="green"), ""
            )
            continue
        first = bad[0]
        assert first.first is not None
        table.add_row(
            label,
            Text(f"differs at {len(bad):,} of {len(results):,} checkpoints", style="red"),
            f"K={first.at}, {first.first.describe(short=True)}",
        )
    return table


def headline(report: ResumeReport) -> list[str]:
    """What was checkpointed and how, before the table."""
    trace = report.trace
    load = "weights_only=True" if report.weights_only else "weights_only=False"
    if len(report.at) == 1:
        k = report.at[0]
        what = (
            f"checkpoint after K={k} scheduler steps (saved just before row {k}; "
            f"rows {k}..{k + report.outcomes['documented'][0].rows - 1} compared)"
        )
    else:
        what = f"a checkpoint after every K in 0..{report.at[-1] if report.at else 0}"
    return [
        f"resume {trace.name} ({trace.scheduler}, {trace.rows:,} rows, order: {trace.order}): "
        f"{what}; both state dicts through torch.save → torch.load({load}) into a freshly "
        f"built optimizer and scheduler, compared with the uninterrupted run (lr and "
        f"momentum, every group)"
    ]


def verdict(report: ResumeReport) -> str:
    """One line: does the documented order resume exactly?"""
    if report.ok:
        return "ok: the documented order (optimizer state, then scheduler state) resumes exactly"
    bad = [o for o in report.outcomes["documented"] if not o.identical]
    assert bad[0].first is not None
    return (
        f"DIFFERS: the documented order does not resume exactly at {len(bad):,} of "
        f"{len(report.at):,} checkpoints; first at K={bad[0].at}, {bad[0].first.describe()}"
    )


def order_matters(report: ResumeReport) -> str:
    """Whether loading the scheduler before the optimizer changes anything."""
    doc, other = report.outcomes["documented"], report.outcomes["scheduler_then_optimizer"]
    same = all(a.first == b.first for a, b in zip(doc, other, strict=True))
    if same:
        return (
            "load order: scheduler.load before optimizer.load gives the same rows (both only "
            "restore saved state); what matters is that both are loaded, and that the scheduler "
            "is built before optimizer.load (see the other variants)"
        )
    return "load order matters here: scheduler.load before optimizer.load gives different rows"


def json_text(report: ResumeReport) -> str:
    """The JSON document of `lrviz resume -f json`: the run header, every variant, the tail."""
    trace = report.trace
    variants = []
    for variant in VARIANTS:
        results = report.outcomes[variant.id]
        bad = [o for o in results if not o.identical]
        entry: dict[str, Any] = {
            "id": variant.id,
            "label": variant.label,
            "documented": variant.documented,
            "checkpoints": len(results),
            "identical": len(results) - len(bad),
            "first_difference": {"at": bad[0].at, **_difference(bad[0].first)} if bad else None,
        }
        if len(results) == 1:
            entry["rows_compared"] = results[0].rows
            entry["rows_differing"] = results[0].differing
        variants.append(entry)
    body = {
        "rows": trace.rows,
        "at": report.at[0] if len(report.at) == 1 else "all",
        "weights_only": report.weights_only,
        "ok": report.ok,
        "variants": variants,
    }
    return document(trace, body, trace.notes + report.notes)


def _difference(d: Difference | None) -> dict[str, Any]:
    if d is None:
        return {}
    return {
        "row": d.row,
        "column": d.column,
        "group": d.group,
        "uninterrupted": d.uninterrupted,
        "resumed": d.resumed,
    }
