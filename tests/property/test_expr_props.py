"""Property tests for lrviz.expr: any text is compiled or refused cleanly, and compiled
expressions compute exactly what plain Python computes for the same text."""

from __future__ import annotations

import ast
import contextlib
import math
from collections.abc import Callable
from typing import Any

from hypothesis import assume, event, given
from hypothesis import strategies as st

from lrviz.errors import ExprError, ExprEvalError
from lrviz.expr import ALLOWED_FUNCTIONS, compile_expr, to_python_source

MATH: dict[str, Any] = {n: getattr(math, n) for n in ALLOWED_FUNCTIONS if hasattr(math, n)}
MATH.update(abs=abs, min=min, max=max, pow=pow, pi=math.pi, e=math.e)


class Refused(Exception):
    """The power guard lrviz documents would refuse this power."""


def guarded_pow(base: Any, exp: Any) -> Any:
    """`base ** exp` as the spec defines it: over 10,000 certain bits or complex is refused."""
    if (
        isinstance(base, int)
        and isinstance(exp, int)
        and (abs(base).bit_length() - 1) * exp > 10_000
    ):
        raise Refused  # before computing: the real power could take hours
    result = base**exp
    if isinstance(result, complex):
        raise Refused
    return result


class GuardPowers(ast.NodeTransformer):
    """Turns `a ** b` and `pow(a, b)` into `guarded_pow(a, b)`, leaving the rest as parsed."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Pow):
            return ast.Call(ast.Name("guarded_pow", ast.Load()), [node.left, node.right], [])
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "pow":
            node.func = ast.Name("guarded_pow", ast.Load())
        return node


def plain_eval(text: str, namespace: dict[str, Any], guard: bool) -> Any:
    """Python's own eval of `text` (trusted test input), with powers guarded if asked."""
    if not guard:
        return eval(text, dict(namespace))
    tree = ast.fix_missing_locations(GuardPowers().visit(ast.parse(text, mode="eval")))
    return eval(compile(tree, "<oracle>", "eval"), {**namespace, "guarded_pow": guarded_pow})


def outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    """("ok", value) or ("error", exception type) for the arithmetic failures a spec can hit."""
    try:
        return "ok", fn()
    except (ArithmeticError, ValueError, Refused) as exc:
        return "error", type(exc)


def same(a: Any, b: Any) -> bool:
    """Bit-for-bit equal results: same type, same value, same zero sign; NaN equals NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return bool(a == b)


def check_same_outcome(got: tuple[str, Any], text: str, namespace: dict[str, Any]) -> None:
    """`got` equals plain Python's outcome for `text`, guarded and (if no power was refused) not."""
    expected = outcome(lambda: plain_eval(text, namespace, guard=True))
    kind = expected[1].__name__ if expected[0] == "error" else type(expected[1]).__name__
    event(f"plain Python: {expected[0]} {kind}")
    if expected[0] == "error":
        assert got == ("error", ExprEvalError), (text, got, expected)
        return
    assert got[0] == "ok" and same(got[1], expected[1]), (text, got, expected)
    assert same(plain_eval(text, namespace, guard=False), expected[1])  # no guard needed here


ATOMS = st.one_of(
    st.just("epoch"),
    st.sampled_from(["pi", "e"]),
    st.integers(0, 100).map(str),
    st.integers(0, 2**80).map(str),
    st.floats(min_value=0, allow_infinity=False).map(repr),
)
COMPARE = ["<", "<=", ">", ">=", "==", "!="]


def _paren_if(text: str) -> str:
    """`text` in parentheses if it is a conditional, which Python's grammar needs as a test."""
    return f"({text})" if " if " in text else text


def _calls(sub: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Calls to each allowed function with an allowed number of `sub` arguments."""
    low_high = {"log": (1, 2), "pow": (2, 2), "min": (2, 4), "max": (2, 4)}
    return st.one_of(
        st.lists(sub, min_size=low, max_size=high).map(
            lambda args, n=name: f"{n}({', '.join(args)})"
        )
        for name in ALLOWED_FUNCTIONS
        for low, high in [low_high.get(name, (1, 1))]
    )


def _grammar(sub: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """One level of the grammar over `sub`, parenthesized only sometimes."""
    return st.one_of(
        st.tuples(st.sampled_from(["-", "+"]), sub).map("".join),
        st.tuples(sub, st.sampled_from(["+", "-", "*", "/", "//", "%", "**"]), sub).map(" ".join),
        st.tuples(
            sub, st.lists(st.tuples(st.sampled_from(COMPARE), sub), min_size=1, max_size=2)
        ).map(lambda t: t[0] + "".join(f" {op} {right}" for op, right in t[1])),
        st.tuples(sub, sub.map(_paren_if), sub).map(lambda t: f"{t[0]} if {t[1]} else {t[2]}"),
        _calls(sub),
        sub.map(lambda text: f"({text})"),
    )


EXPRESSIONS = st.recursive(ATOMS, _grammar, max_leaves=25)
VALUES = st.one_of(st.integers(-(10**6), 10**6), st.integers(), st.floats())
TOKENS = st.sampled_from(
    ["epoch", "x", "pi", "e", "sqrt", "min", "pow", "1", "2.5", "0", "1e309", "10", "(", ")",
     ",", "+", "-", "*", "/", "//", "%", "**", "<", "==", "if", "else", "and", "not", ".",
     "__class__", "[", "]", "'a'", ":=", "lambda", ":", "for", "in", "*", "\n", "\x00", "é"]
)  # fmt: skip
TEXTS = st.one_of(
    st.text(max_size=80),
    st.text(alphabet="epochsqrtminax()+-*/%<=>!.,0123456789[]'_: \t\n", max_size=80),
    st.lists(TOKENS, max_size=30).map(" ".join),
    st.lists(TOKENS, max_size=30).map("".join),
)


@given(text=TEXTS, value=VALUES)
def test_any_text_compiles_or_raises_expr_error(text: str, value: Any) -> None:
    try:
        fn = compile_expr(text, "epoch")
    except ExprError as err:
        assert err.message and 0 <= err.start < err.end
        assert str(err).splitlines()[-1].strip().startswith("^")
        return
    with contextlib.suppress(ExprEvalError):  # the only exception a compiled function may raise
        fn(value)


@given(text=EXPRESSIONS, value=VALUES)
def test_compiled_expressions_equal_plain_python(text: str, value: Any) -> None:
    assume(len(text) <= 1000)
    fn = compile_expr(text, "epoch")
    got = outcome(lambda: fn(value))
    check_same_outcome(got, text, {"__builtins__": {}, **MATH, "epoch": value})


@given(text=EXPRESSIONS, value=VALUES)
def test_python_source_equals_compiled(text: str, value: Any) -> None:
    assume(len(text) <= 1000)
    source = to_python_source(text, "epoch")
    assert source.startswith("lambda epoch: ")
    got = outcome(lambda: compile_expr(text, "epoch")(value))
    check_same_outcome(got, f"({source})(epoch)", {"math": math, "epoch": value})
