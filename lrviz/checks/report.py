"""A check Report -> text, JSON (docs/cli.md) or GitHub workflow-command lines."""

from __future__ import annotations

import json

from .model import FileResult, Finding, Report


def one_line(message: str) -> str:
    """A message on one line: caret-only lines dropped, the rest joined with '; '."""
    parts = [p.strip() for p in message.splitlines()]
    return "; ".join(p for p in parts if p and set(p) != {"^"})


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def summary_line(report: Report) -> str:
    """'3 files checked: 1 error, 2 warnings, 0 silenced' (+ what --strict did)."""
    s = report.summary()
    line = (
        f"{_plural(s['files'], 'file')} checked: {_plural(s['errors'], 'error')}, "
        f"{_plural(s['warnings'], 'warning')}, {s['silenced']:,} silenced"
    )
    if report.strict and s["warnings"]:
        line += " (--strict: warnings count as errors)"
    return line


def _where(result: FileResult, finding: Finding) -> str:
    return f"{result.path}:{finding.line}" if finding.line else result.path


def _text(finding: Finding) -> str:
    """The message with its key path first, as `table` shows a spec error."""
    message = one_line(finding.message)
    return f"{finding.key}: {message}" if finding.key else message


def text_lines(report: Report) -> list[str]:
    """One grep-able line per finding, `path:line: LRV003 warning: message`, then the summary."""
    lines = [
        f"{_where(r, f)}: {f.rule} {f.severity}: {_text(f)}"
        for r in report.files
        for f in r.findings
    ]
    return [*lines, summary_line(report)]


def json_text(report: Report) -> str:
    """The JSON document of docs/cli.md."""
    doc = {
        "files": [
            {
                "path": r.path,
                "ok": r.ok(report.strict),
                "findings": [f.as_dict() for f in r.findings],
            }
            for r in report.files
        ],
        "summary": report.summary(),
    }
    return json.dumps(doc, indent=2)


def _data(text: str) -> str:
    # GitHub workflow commands: %, CR and LF are escaped in the message ...
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    # ... and also ':' and ',' in property values such as file=.
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def github_lines(report: Report) -> list[str]:
    """`::warning file=...,line=...,title=LRV003::message` per finding, then the summary."""
    lines = []
    for r in report.files:
        for f in r.findings:
            props = [f"file={_prop(r.path)}"]
            if f.line:
                props.append(f"line={f.line}")
            props.append(f"title={f.rule}")
            message = f"{f.key}: {f.message}" if f.key else f.message
            lines.append(f"::{f.severity} {','.join(props)}::{_data(message)}")
    return [*lines, summary_line(report)]
