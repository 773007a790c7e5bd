"""A StateReport -> a rich Tree of the state_dict() (children nested), or JSON text."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from rich.tree import Tree

from ..reports import FUNCTION_KEYS, StateNode, StateReport
from .json import document, plain

LIST_PREVIEW = 8  # list items shown in the tree before eliding


def title(report: StateReport) -> str:
    """What the tree shows: whose state_dict(), after how many steps, and which torch."""
    trace, at = report.trace, report.at
    where = (
        "the end of the run"
        if report.end_of_run
        else f"what a checkpoint saved just before row {at} holds"
    )
    return (
        f"{trace.name}: {trace.scheduler}.state_dict() after {at:,} scheduler.step() "
        f"calls ({where}; torch {trace.torch_version})"
    )


def render_state(report: StateReport) -> Tree:
    """The report's state as a tree under its title."""
    assert report.node is not None, "no state: the run failed before reaching it"
    return render_tree(report.node, title(report))


def render_tree(node: StateNode, heading: str) -> Tree:
    """The state as a rich Tree: one branch per key, children of composites nested."""
    tree = Tree(Text(heading, style="bold"))
    _fill(tree, node)
    return tree


def _fill(tree: Tree, node: StateNode, index: str = "") -> None:
    branch = tree.add(Text.assemble(index, (node.cls, "bold cyan"), f"  {node.key}"))
    for key, value in node.state.items():
        line = Text.assemble((f"{key}: ", "bold"), _short(value))
        if key in node.expressions:
            line.append(
                f"  ← functions are not saved; this spec's {FUNCTION_KEYS[key]}: "
                f"{_expression_text(node.expressions[key])}",
                style="yellow",
            )
        branch.add(line)
    if node.children:
        nested = branch.add(Text.assemble(("_schedulers", "bold"), ": the children's state dicts"))
        for i, child in enumerate(node.children):
            _fill(nested, child, f"[{i}] ")


def _expression_text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(f'"{v}"' for v in value) + "]"
    return f'"{value}"'


def _short(value: Any) -> str:
    """A value for reading: floats at full precision, long lists elided."""
    if isinstance(value, (list, tuple)):
        items = [_short(v) for v in value[:LIST_PREVIEW]]
        more = f", … ({len(value):,} items)" if len(value) > LIST_PREVIEW else ""
        open_, close = ("[", "]") if isinstance(value, list) else ("(", ")")
        return open_ + ", ".join(items) + more + close
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    if callable(value):
        return "<function>"
    if hasattr(value, "tolist"):  # a tensor lr
        return f"tensor({_short(value.tolist())})"
    return repr(value)


def to_json(node: StateNode) -> dict[str, Any]:
    """The tree as JSON-safe data: non-finite floats as strings, functions as their text."""
    state = {}
    for key, value in node.state.items():
        expression = node.expressions.get(key)
        # a callable that did get saved is shown as the spec's expression for it
        named = callable(value) and isinstance(expression, str)
        state[key] = expression if named else plain(value)
    out: dict[str, Any] = {"class": node.cls, "key": node.key, "state": state}
    if node.expressions:
        out["functions_not_saved"] = dict(node.expressions)
    if node.children:
        state["_schedulers"] = [to_json(c) for c in node.children]
    return out


def json_text(report: StateReport) -> str:
    """The JSON document of `lrviz state -f json`: the run header, K, the state, the tail."""
    assert report.node is not None, "no state: the run failed before reaching it"
    body = {"rows": report.trace.rows, "at": report.at, "state": to_json(report.node)}
    return document(report.trace, body)
