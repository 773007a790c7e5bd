"""What the installed torch offers: scheduler and optimizer classes, their parameters and docs."""

from __future__ import annotations

import ast
import inspect
import re
import sys
from dataclasses import dataclass
from functools import cache
from typing import Any

from . import accepts
from .errors import did_you_mean

# Arguments lrviz supplies itself; a spec never writes them.
SUPPLIED = ("self", "optimizer", "params", "schedulers")
# Schedulers documented to be stepped once per batch (SPEC: default step mode "batch").
PER_BATCH = ("CyclicLR", "OneCycleLR")
# The variable each expression-valued parameter is written in.
EXPR_VARIABLE = {"scale_fn": "x"}
DEFAULT_EXPR_VARIABLE = "epoch"


@dataclass(frozen=True)
class Param:
    """One constructor parameter: name, annotation text, default, doc line.

    `annotation` is torch's as written; `accepts` is what lrviz checks a value against: the
    same, unless torch's code takes more or less than it says (lrviz/accepts.py).
    """

    name: str
    annotation: str
    required: bool
    default: Any
    doc: str
    accepts: str = ""

    def __post_init__(self) -> None:
        if not self.accepts:
            object.__setattr__(self, "accepts", self.annotation)


@dataclass(frozen=True)
class ClassInfo:
    """A torch scheduler or optimizer class as lrviz sees it."""

    name: str
    cls: type
    params: tuple[Param, ...]
    summary: str
    composite: bool  # takes inline child schedulers
    metric_driven: bool  # step() wants a metric (ReduceLROnPlateau)
    takes_epoch: bool  # step() accepts the deprecated epoch argument

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


@cache
def schedulers() -> dict[str, ClassInfo]:
    """Every public scheduler class in the installed torch.optim.lr_scheduler, by name."""
    import torch.optim.lr_scheduler as lr_scheduler

    base = lr_scheduler.LRScheduler
    found = {}
    for name, obj in vars(lr_scheduler).items():
        if (
            inspect.isclass(obj)
            and not name.startswith("_")
            and obj.__module__ == lr_scheduler.__name__
            and name != "LRScheduler"
            and (issubclass(obj, base) or hasattr(obj, "step"))
        ):
            found[name] = _info(name, obj, accepts.SCHEDULERS)
    return dict(sorted(found.items()))


@cache
def optimizers() -> dict[str, ClassInfo]:
    """Every optimizer class in the installed torch.optim, by name."""
    import torch.optim

    found = {}
    for name, obj in vars(torch.optim).items():
        if (
            inspect.isclass(obj)
            and issubclass(obj, torch.optim.Optimizer)
            and obj is not torch.optim.Optimizer
        ):
            found[name] = _info(name, obj, accepts.OPTIMIZERS)
    return dict(sorted(found.items()))


def find(kind: str, name: str, table: dict[str, ClassInfo]) -> ClassInfo:
    """A class by exact or case-insensitive name; KeyError carries a did-you-mean message."""
    if name in table:
        return table[name]
    for key, info in table.items():
        if key.lower() == name.lower():
            return info
    raise KeyError(f"unknown {kind} {name!r}{did_you_mean(name, list(table))}")


def _info(name: str, cls: type, widened: dict[str, str]) -> ClassInfo:
    sig = inspect.signature(cls.__init__)  # type: ignore[misc]  # a class, not an instance
    docs = _arg_docs(cls.__doc__ or "")
    params = tuple(
        Param(
            p.name,
            _annotation_text(p.annotation),
            p.default is inspect.Parameter.empty,
            None if p.default is inspect.Parameter.empty else p.default,
            docs.get(p.name, ""),
            widened.get(f"{name}.{p.name}", ""),
        )
        for p in sig.parameters.values()
        if p.name not in SUPPLIED and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    )
    step_params = inspect.signature(cls.step).parameters if hasattr(cls, "step") else {}
    return ClassInfo(
        name=name,
        cls=cls,
        params=params,
        summary=_summary(cls.__doc__ or ""),
        composite="schedulers" in sig.parameters,
        metric_driven="metrics" in step_params,
        takes_epoch="epoch" in step_params,
    )


def _annotation_text(annotation: Any) -> str:
    if annotation is inspect.Parameter.empty:
        return ""
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


def _summary(doc: str) -> str:
    first = inspect.cleandoc(doc).split("\n\n", 1)[0]
    return " ".join(first.split())


_ARG_LINE = re.compile(r"^\s{4,}(\w+)\s*\(([^)]*)\):\s*(.*)$")


def _arg_docs(doc: str) -> dict[str, str]:
    """Parameter descriptions from a Google-style 'Args:' section."""
    out: dict[str, str] = {}
    in_args, current = False, None
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped in ("Args:", "Arguments:"):
            in_args = True
            continue
        if not in_args:
            continue
        if stripped and not line.startswith(" " * 8) and stripped.endswith(":"):
            break  # next section (Example:, .. note::)
        match = _ARG_LINE.match(line)
        if match and len(line) - len(line.lstrip()) <= 8:
            current = match.group(1)
            out[current] = match.group(3).strip()
        elif current and stripped:
            out[current] = f"{out[current]} {stripped}".strip()
        elif not stripped and out:
            current = None
    return out


# --- annotation checking -------------------------------------------------------------------
# torch writes its annotations as strings ("int | None", "Literal['min', 'max']") whose names
# are not importable at run time, so lrviz reads them with ast instead of typing.get_type_hints.
# lrviz/accepts.py adds three names of its own: PerGroup[T], Whole and Float.


def conforms(value: Any, annotation: str) -> bool:
    """Whether a spec value fits an annotation; unknown annotations accept anything."""
    tree = _parse(annotation)
    return tree is None or _fits(value, tree)


def expected(annotation: str) -> str:
    """An annotation in words, for messages ("an integer or nothing")."""
    tree = _parse(annotation)
    return annotation if tree is None else _words(tree)


def is_expression_param(annotation: str) -> bool:
    """Whether a parameter takes a function, which a spec writes as an expression string."""
    return "Callable" in annotation


def per_group(annotation: str) -> bool:
    """Whether a list for this annotation holds one value per param group (PerGroup[T])."""
    return "PerGroup[" in annotation


def _parse(annotation: str) -> ast.expr | None:
    if not annotation:
        return None
    try:
        return ast.parse(annotation, mode="eval").body
    except SyntaxError:
        return None


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _tensor(v: Any) -> bool:
    # A Python API caller may pass a tensor (torch takes one for lr); YAML never makes one.
    # torch is imported by then if a tensor exists at all, so this never imports it.
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(v, torch.Tensor)


_ATOMS = {
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "Whole": (
        lambda v: (
            (isinstance(v, int) and not isinstance(v, bool))
            or (isinstance(v, float) and v.is_integer())
        ),
        "an integer",
    ),
    "float": (_number, "a number"),
    "SupportsFloat": (_number, "a number"),
    "Float": (lambda v: isinstance(v, float), "a float (written with a decimal point)"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "str": (lambda v: isinstance(v, str), "text"),
    "None": (lambda v: v is None, "nothing (null)"),
    "Tensor": (_tensor, "a tensor"),
}
_SEQUENCES = ("list", "List", "Sequence", "Iterable", "tuple", "PerGroup")


def _atom(node: ast.expr) -> str | None:
    """The atom a name stands for: `torch.Tensor` and `Tensor` are both "Tensor"."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _fits(value: Any, node: ast.expr) -> bool:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _fits(value, node.left) or _fits(value, node.right)
    if isinstance(node, ast.Constant):
        return value is None if node.value is None else value == node.value
    name = _atom(node)
    if name is not None:
        atom = _ATOMS.get(name)
        return atom[0](value) if atom else True
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        head, arg = node.value.id, node.slice
        if head == "Literal":
            options = arg.elts if isinstance(arg, ast.Tuple) else [arg]
            return any(isinstance(o, ast.Constant) and value == o.value for o in options)
        if head in ("Optional",):
            return value is None or _fits(value, arg)
        if head in _SEQUENCES:
            if not isinstance(value, (list, tuple)):
                return False
            items = _fixed_items(head, arg)
            if items is not None:  # tuple[a, b]: exactly these, in order
                return len(value) == len(items) and all(map(_fits, value, items))
            item = arg.elts[0] if isinstance(arg, ast.Tuple) and arg.elts else arg
            return all(_fits(v, item) for v in value)
        if head == "Callable":
            return isinstance(value, str)
    return True


def _fixed_items(head: str, arg: ast.expr) -> list[ast.expr] | None:
    """The item annotations of a fixed-length tuple[a, b]; None for any other sequence."""
    if head != "tuple" or not isinstance(arg, ast.Tuple):
        return None
    if any(isinstance(e, ast.Constant) and e.value is Ellipsis for e in arg.elts):
        return None  # tuple[int, ...]
    return list(arg.elts)


def _words(node: ast.expr) -> str:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        options = _options(node)
        shown = [o for o in options if _atom(o) != "Tensor"] or options  # YAML writes no tensor
        return " or ".join(_words(o) for o in shown)
    if isinstance(node, ast.Constant):
        return "nothing (null)" if node.value is None else repr(node.value)
    name = _atom(node)
    if name is not None:
        return _ATOMS[name][1] if name in _ATOMS else ast.unparse(node)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        head, arg = node.value.id, node.slice
        if head == "Literal":
            options = arg.elts if isinstance(arg, ast.Tuple) else [arg]
            return "one of " + ", ".join(
                repr(o.value) for o in options if isinstance(o, ast.Constant)
            )
        if head in _SEQUENCES:
            items = _fixed_items(head, arg)
            if items is not None:
                each = [_words(i) for i in items]
                if len(set(each)) == 1:
                    return f"a list of {len(each)} {_plural(each[0])}"
                return f"a list of {len(each)} values ({'; '.join(each)})"
            item = arg.elts[0] if isinstance(arg, ast.Tuple) and arg.elts else arg
            one_each = " (one per param group)" if head == "PerGroup" else ""
            return f"a list of {_plural(_words(item))}{one_each}"
        if head == "Callable":
            return "an expression"
        if head == "Optional":
            return f"{_words(arg)} or nothing (null)"
    return ast.unparse(node)


def _options(node: ast.expr) -> list[ast.expr]:
    """The alternatives of an `a | b | c` annotation, flattened."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _options(node.left) + _options(node.right)
    return [node]


def _plural(words: str) -> str:
    for single, many in (
        ("an integer", "integers"),
        ("a number", "numbers"),
        ("a float", "floats"),
        ("an expression", "expressions"),
        ("a tensor", "tensors"),
        ("text", "texts"),
    ):
        words = words.replace(single, many)
    return words
