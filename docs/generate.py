"""Regenerate the generated parts of docs/ (`make docs`): the rule table of docs/check.md.

The table is written from lrviz/checks/registry.py, between the BEGIN and END comments;
tests/docs/test_docs.py fails when the committed page differs from what this writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lrviz.checks.registry import RULES, Rule

PAGE = Path(__file__).parent / "check.md"
BEGIN = "<!-- rules: generated from lrviz/checks/registry.py by `make docs`; do not edit -->"
END = "<!-- rules: end -->"


def rules_table() -> str:
    """The table of every rule (id, severity, name, title), then each rule's explanation."""
    rows = [
        "| id | severity | what it catches |",
        "| --- | --- | --- |",
    ]
    for rule in RULES.values():
        title = rule.title.replace("|", "\\|")
        rows.append(f"| [{rule.id}](#{anchor(rule)}) | {rule.severity} | {title} |")
    for rule in RULES.values():
        silence = "can be silenced" if rule.silenceable else "cannot be silenced"
        rows += ["", f"#### {rule.id} {rule.name}", "", f"*{rule.severity}, {silence}.*"]
        rows += ["", rule.explanation]
    return "\n".join(rows) + "\n"


def anchor(rule: Rule) -> str:
    """GitHub's anchor of the rule's heading, `#### LRV003 cosine-horizon-short`."""
    return f"{rule.id.lower()}-{rule.name}"


def with_rules(page: str) -> str:
    """The page's text with the part between BEGIN and END replaced by the current table."""
    head, sep, rest = page.partition(BEGIN + "\n")
    _, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise SystemExit(f"{PAGE}: the {BEGIN!r} ... {END!r} markers are missing")
    return f"{head}{BEGIN}\n{rules_table()}{END}{tail}"


def main() -> int:
    old = PAGE.read_text(encoding="utf-8")
    new = with_rules(old)
    if new != old:
        PAGE.write_text(new, encoding="utf-8")
    print(f"{'wrote' if new != old else 'unchanged'} {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
