"""A YAML document with the line of every key path, and the `--set` edits on it; no torch.

The first stages of loading a spec: read YAML the YAML 1.2 way (`1e-6` is a float) with each
key path's line taken from the composed node tree, apply `dotted.key=value` overrides, and
locate a key path (or its nearest located ancestor) in the file or on the command line.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

from .errors import Problem

MAX_SPEC_BYTES = 5_000_000  # a schedule file is a few hundred bytes; refuse pathological input
MAX_NODES = 200_000  # bounds alias expansion ("billion laughs") and giant documents


class _Loader(yaml.SafeLoader):
    """SafeLoader whose floats follow YAML 1.2, so `1e-6` is 0.000001, not a string."""


# YAML 1.1 insists on a dot in a float ("1.0e-6"); YAML 1.2's core schema does not.
_FLOAT_12 = re.compile(
    r"""^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9_]*|0o[0-7]+|0x[0-9a-fA-F]+)$")
_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:float"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789."))


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float | int:
    text = str(loader.construct_scalar(node)).replace("_", "")
    if _INT.match(text):  # an explicit !!float tag on "10" still gives a float
        return float(int(text, 0))
    lowered = text.lower()
    if lowered.endswith(".nan"):
        return math.nan
    if lowered.endswith(".inf"):
        return -math.inf if lowered.startswith("-") else math.inf
    return float(text)


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def load_yaml(text: str) -> Any:
    """Plain data from YAML text with the 1.2 float rules (used for --set values too)."""
    return yaml.load(text, Loader=_Loader)


def locate(
    source: str, lines: dict[str, int], overridden: dict[str, str], key: str | None
) -> tuple[str, int | None]:
    """The source label and line of a key path, or of its nearest located ancestor."""
    probe = key
    while probe:
        if probe in overridden:
            return f"--set {overridden[probe]}", None
        if probe in lines:
            return source, lines[probe]
        probe = parent_key(probe)
    return source, None


def alias_key(aliases: dict[str, str], key: str | None) -> str | None:
    """The user's key path for a generated one: its nearest aliased ancestor plus the rest."""
    probe, rest = key, ""
    while probe and aliases:
        if probe in aliases:
            return aliases[probe] + rest
        parent = parent_key(probe)
        rest = probe[len(parent) :] + rest
        probe = parent
    return key


def parent_key(key: str) -> str:
    """The key path one level up: "a.b[3]" -> "a.b", "a.b" -> "a"."""
    if key.endswith("]"):
        head, sep, index = key[:-1].rpartition("[")
        if sep and index.isdigit():  # "a.b[3]" -> "a.b"; a key named "]" is just a name
            return head
    return key.rpartition(".")[0]


def child_key(key: str, part: str | int) -> str:
    """The key path one level down: ("a", 3) -> "a[3]", ("a", "b") -> "a.b"."""
    if isinstance(part, int):
        return f"{key}[{part}]"
    return f"{key}.{part}" if key else str(part)


def _walk_lines(
    node: yaml.Node, key: str, lines: dict[str, int], dups: list[tuple[str, int]]
) -> None:
    """Record the 1-based line of every key path; note each duplicate key at its own line.

    PyYAML keeps a duplicated key's last value, so the key's line (and its children's) is
    that of its last occurrence: a problem with the value points where the value is.
    """
    seen_ids: set[int] = set()
    stack: list[tuple[yaml.Node, str]] = [(node, key)]
    while stack:
        cur, path = stack.pop()
        if id(cur) in seen_ids:  # an alias: its lines are the anchor's, and re-walking explodes
            continue
        seen_ids.add(id(cur))
        if len(seen_ids) > MAX_NODES:
            raise _TooBig()
        if isinstance(cur, yaml.MappingNode):
            scalar = [
                (i, k, v) for i, (k, v) in enumerate(cur.value) if isinstance(k, yaml.ScalarNode)
            ]
            last = {k.value: i for i, k, _ in scalar}
            names: set[str] = set()
            for i, k_node, v_node in scalar:
                sub = child_key(path, k_node.value)
                line = k_node.start_mark.line + 1
                if k_node.value in names and k_node.value != "<<":
                    dups.append((sub, line))
                names.add(k_node.value)
                if k_node.value == "<<" or last[k_node.value] == i:  # the value PyYAML keeps
                    lines.setdefault(sub, line)
                    stack.append((v_node, sub))
        elif isinstance(cur, yaml.SequenceNode):
            for i, item in enumerate(cur.value):
                sub = child_key(path, i)
                lines.setdefault(sub, item.start_mark.line + 1)
                stack.append((item, sub))


class _TooBig(Exception):
    pass


def read_document(text: str, source: str) -> tuple[Any, dict[str, int], list[Problem]]:
    """Parse YAML text into data and a key-path -> line map; problems instead of exceptions."""
    if len(text) > MAX_SPEC_BYTES:
        msg = f"file is {len(text):,} bytes; a schedule file may be at most {MAX_SPEC_BYTES:,}"
        return None, {}, [Problem(source, None, None, msg)]
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            lines: dict[str, int] = {}
            dups: list[tuple[str, int]] = []
            if node is not None:
                _walk_lines(node, "", lines, dups)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or exc.context or "invalid YAML"
        col = f" (column {mark.column + 1})" if mark else ""
        return None, {}, [Problem(source, None, line, f"YAML syntax error: {what}{col}")]
    except yaml.YAMLError as exc:
        return None, {}, [Problem(source, None, None, f"YAML error: {exc}")]
    except (_TooBig, RecursionError):
        msg = f"document too large or too deeply nested (more than {MAX_NODES:,} nodes)"
        return None, {}, [Problem(source, None, None, msg)]
    problems = [Problem(source, key, line, "duplicate key") for key, line in dups]
    return data, lines, problems


def apply_override(data: dict[str, Any], assignment: str) -> str:
    """Apply one `--set dotted.key=value` to raw data; return the key path it set."""
    from .errors import UsageError

    dotted, sep, raw = assignment.partition("=")
    dotted = dotted.strip()
    if not sep or not dotted:
        raise UsageError(f"--set {assignment!r}: expected dotted.key=value, e.g. scheduler.T_0=10")
    try:
        value = load_yaml(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise UsageError(f"--set {assignment!r}: value is not valid YAML ({exc})") from None
    parts = dotted.split(".")
    node: Any = data
    path = ""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise UsageError(f"--set {assignment!r}: {path} has no item {part}")
            idx = int(part)
            path = child_key(path, idx)
            if last:
                node[idx] = value
            else:
                node = node[idx]
            continue
        if not isinstance(node, dict):
            raise UsageError(f"--set {assignment!r}: {path} is not a mapping")
        path = child_key(path, part)
        if last:
            node[part] = value
        else:
            node = node.setdefault(part, {})
    return path
