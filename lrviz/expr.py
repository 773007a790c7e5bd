"""Safe arithmetic expressions for lr_lambda and scale_fn: parse, whitelist, compile."""

from __future__ import annotations

import ast
import difflib
import keyword
import math
import re
import types
import warnings
from collections.abc import Callable
from typing import Any, NoReturn, cast

from lrviz.errors import ExprError, ExprEvalError

_MAX_LENGTH = 1000
_MAX_DEPTH = 100
_MAX_POW_BITS = 10_000

# name -> (fewest, most) positional arguments; None means no upper bound.
_ARITY: dict[str, tuple[int, int | None]] = {
    "sqrt": (1, 1), "exp": (1, 1), "log": (1, 2), "log2": (1, 1), "log10": (1, 1),
    "sin": (1, 1), "cos": (1, 1), "tan": (1, 1), "floor": (1, 1), "ceil": (1, 1),
    "abs": (1, 1), "min": (2, None), "max": (2, None), "pow": (2, 2),
}  # fmt: skip
ALLOWED_FUNCTIONS: tuple[str, ...] = tuple(_ARITY)
_BUILTINS = {"abs": abs, "min": min, "max": max}
_FUNCTIONS = {n: _BUILTINS.get(n) or getattr(math, n) for n in ALLOWED_FUNCTIONS if n != "pow"}
_CONSTANTS = {"pi": math.pi, "e": math.e}

_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
_CMPOPS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)
_SYMBOLS = {
    ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>",
    ast.MatMult: "@", ast.Invert: "~", ast.Not: "not", ast.And: "and", ast.Or: "or",
    ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
}  # fmt: skip
_OPS_HINT = "allowed operators: + - * / // % **"
_CMP_HINT = "allowed comparisons: < <= > >= == !="
_CONSTANT_KINDS = {
    str: "strings are not allowed", bytes: "bytes are not allowed",
    bool: "booleans are not allowed; use 1 or 0", complex: "complex numbers are not allowed",
    type(None): "'None' is not allowed", type(...): "'...' is not allowed",
}  # fmt: skip
_FORBIDDEN = {
    ast.Lambda: "lambda is not allowed", ast.NamedExpr: "':=' is not allowed",
    **dict.fromkeys((ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp),
                    "comprehensions are not allowed"),
    ast.JoinedStr: "f-strings are not allowed", ast.Starred: "'*' unpacking is not allowed",
    ast.List: "lists are not allowed", ast.Tuple: "tuples are not allowed",
    ast.Set: "sets are not allowed", ast.Dict: "dicts are not allowed",
    ast.Await: "'await' is not allowed", ast.Yield: "'yield' is not allowed",
    ast.YieldFrom: "'yield' is not allowed",
}  # fmt: skip
# What the compiled function turns into ExprEvalError; RecursionError/MemoryError included so
# callers only ever see one exception type.
_ERRORS = (ArithmeticError, ValueError, TypeError, RecursionError, MemoryError)
# The try/except lives inside the generated function so a call costs one Python frame.
_TEMPLATE = """
def _expr(_x, /):
    try:
        return _x
    except _ERRORS as exc:
        raise _fail(exc, _x) from exc
"""


def _pow(base: Any, exp: Any) -> Any:
    """`base ** exp`, refusing integer results beyond _MAX_POW_BITS and complex results."""
    # The result has at least (bit_length - 1) * exp bits; this is <= 0 for 0, 1, -1 and exp < 0,
    # which Python computes quickly however large exp is.
    ints = isinstance(base, int) and isinstance(exp, int)
    if ints and (abs(base).bit_length() - 1) * exp > _MAX_POW_BITS:
        raise ExprEvalError(f"integer power too large (result over {_MAX_POW_BITS} bits)")
    result = base**exp
    if isinstance(result, complex):
        raise ExprEvalError("negative number raised to a fractional power")
    return result


def _shown(text: str) -> str:
    """The text with each unprintable character replaced by one printable one, for carets."""
    return "".join(c if c.isprintable() else " " if c.isspace() else "?" for c in text)


def _unknown(kind: str, name: str, choices: tuple[str, ...]) -> str:
    """An 'unknown name' message with a suggestion, or the allowed names if none is close."""
    # Case slips and swapped letters (EPOCH, epcoh), then prefixes (cosine, sqr), then difflib.
    close = [c for c in choices if sorted(c) == sorted(name.lower())]
    close += [c for c in choices if min(len(c), len(name)) > 1 and c[: len(name)] == name[: len(c)]]
    close += difflib.get_close_matches(name, choices, n=1, cutoff=0.8)
    if close:
        return f"unknown {kind} '{name}'; did you mean '{close[0]}'?"
    return f"unknown {kind} '{name}' (allowed: {', '.join(choices)})"


class _Checker:
    """Walks a parsed expression and raises ExprError at the first node outside the grammar."""

    def __init__(self, text: str, body: str, lead: int, variable: str) -> None:
        self.shown, self.body, self.lead, self.variable = _shown(text), body, lead, variable
        self.values = (variable, *_CONSTANTS)

    def fail(self, message: str, start: int, end: int) -> NoReturn:
        raise ExprError(message, self.shown, self.lead + start, self.lead + end)

    def col(self, offset: int | None) -> int:
        # ast columns count UTF-8 bytes; carets need characters.
        if offset is None or self.body.isascii():
            return offset or 0
        return len(self.body.encode()[:offset].decode(errors="ignore"))

    def reject(self, message: str, node: ast.AST) -> NoReturn:
        start, end = getattr(node, "col_offset", 0), getattr(node, "end_col_offset", 0)
        self.fail(message, self.col(start), self.col(end))

    def reject_op(self, message: str, symbol: str, left: ast.expr, right: ast.expr) -> NoReturn:
        # Operators carry no position, so find the symbol between its two operands.
        lo, hi = self.col(left.end_col_offset), self.col(right.col_offset)
        found = re.compile(r"\s+".join(map(re.escape, symbol.split()))).search(self.body, lo, hi)
        self.fail(message, *(found.span() if found else (lo, hi)))

    def check(self, node: ast.AST, depth: int) -> None:
        if depth > _MAX_DEPTH:
            self.reject(f"expression is nested too deeply (more than {_MAX_DEPTH} levels)", node)
        method = getattr(self, f"check_{type(node).__name__}", None)
        if method is None:
            self.reject(_FORBIDDEN.get(type(node), f"{type(node).__name__} is not allowed"), node)
        method(node, depth + 1)

    def check_Constant(self, node: ast.Constant, depth: int) -> None:
        if type(node.value) not in (int, float):
            self.reject(_CONSTANT_KINDS.get(type(node.value), "this constant is not allowed"), node)

    def check_Name(self, node: ast.Name, depth: int) -> None:
        if node.id in self.values:
            return
        if node.id in _ARITY:
            self.reject(f"'{node.id}' is a function; call it like {node.id}(...)", node)
        self.reject(_unknown("name", node.id, self.values + ALLOWED_FUNCTIONS), node)

    def check_UnaryOp(self, node: ast.UnaryOp, depth: int) -> None:
        if not isinstance(node.op, (ast.UAdd, ast.USub)):
            symbol, start = _SYMBOLS[type(node.op)], self.col(node.col_offset)
            hint = "; use 'a if cond else b'" if symbol == "not" else f" ({_OPS_HINT})"
            self.fail(f"'{symbol}' is not allowed{hint}", start, start + len(symbol))
        self.check(node.operand, depth)

    def check_BinOp(self, node: ast.BinOp, depth: int) -> None:
        self.check(node.left, depth)
        if not isinstance(node.op, _BINOPS):
            symbol = _SYMBOLS[type(node.op)]
            hint = "use '**' for powers" if symbol == "^" else _OPS_HINT
            self.reject_op(f"'{symbol}' is not allowed ({hint})", symbol, node.left, node.right)
        self.check(node.right, depth)

    def check_BoolOp(self, node: ast.BoolOp, depth: int) -> None:
        self.check(node.values[0], depth)
        symbol = _SYMBOLS[type(node.op)]
        message = f"'{symbol}' is not allowed; use 'a if cond else b'"
        self.reject_op(message, symbol, node.values[0], node.values[1])

    def check_Compare(self, node: ast.Compare, depth: int) -> None:
        self.check(node.left, depth)
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            if not isinstance(op, _CMPOPS):
                symbol = _SYMBOLS[type(op)]
                self.reject_op(f"'{symbol}' is not allowed ({_CMP_HINT})", symbol, left, right)
            self.check(right, depth)
            left = right

    def check_IfExp(self, node: ast.IfExp, depth: int) -> None:
        for part in (node.body, node.test, node.orelse):
            self.check(part, depth)

    def check_Call(self, node: ast.Call, depth: int) -> None:
        if isinstance(node.func, ast.Attribute):
            self.check_Attribute(node.func, depth)
        if not isinstance(node.func, ast.Name):
            allowed = ", ".join(ALLOWED_FUNCTIONS)
            self.reject(f"only named functions can be called (allowed: {allowed})", node.func)
        name = node.func.id
        if name in self.values:
            self.reject(f"'{name}' is not a function", node.func)
        if name not in _ARITY:
            self.reject(_unknown("function", name, ALLOWED_FUNCTIONS), node.func)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                self.reject("'*' unpacking is not allowed", arg)
        for kw in node.keywords:
            what = "keyword arguments are" if kw.arg else "'**' unpacking is"
            self.reject(f"{what} not allowed", kw)
        low, high = _ARITY[name]
        got = len(node.args)
        if got < low or (high is not None and got > high):
            takes = f"at least {low}" if high is None else f"{low} or {high}" if low < high else low
            plural = "" if takes == 1 else "s"
            self.reject(f"{name}() takes {takes} argument{plural}, got {got}", node)
        for arg in node.args:
            self.check(arg, depth)

    def check_Attribute(self, node: ast.Attribute, depth: int) -> NoReturn:
        while isinstance(node.value, ast.Attribute):  # point at the first '.' of a chain
            node = node.value
        if isinstance(node.value, ast.Name) and node.value.id == "math":
            hint = f"write '{node.attr}' instead of 'math.{node.attr}'"
            self.reject(f"attribute access is not allowed; {hint}", node)
        self.reject_after("attribute access is not allowed", ".", node)

    def check_Subscript(self, node: ast.Subscript, depth: int) -> NoReturn:
        self.reject_after("subscripts are not allowed", "[", node)

    def reject_after(
        self, message: str, mark: str, node: ast.Attribute | ast.Subscript
    ) -> NoReturn:
        lo, hi = self.col(node.value.end_col_offset), self.col(node.end_col_offset)
        start = self.body.find(mark, lo, hi)
        self.fail(message, lo if start < 0 else start, hi)


def _validate(text: str, variable: str) -> ast.expr:
    """The parsed expression tree of `text`, or ExprError if it leaves the grammar."""
    if not (variable.isascii() and variable.isidentifier()) or keyword.iskeyword(variable):
        raise ValueError(f"invalid variable name {variable!r}")
    if variable in (*_CONSTANTS, *_ARITY, "math") or variable.startswith("_"):
        raise ValueError(f"variable name {variable!r} is reserved")
    if not isinstance(text, str):
        got = type(text).__name__
        raise ExprError(f"expected an expression string, got {got}", _shown(str(text)))
    if len(text) > _MAX_LENGTH:
        raise ExprError(f"expression is too long ({len(text)} characters; at most {_MAX_LENGTH})",
                        _shown(text[:57]) + "...", 57, 60)  # fmt: skip
    body = text.strip(" \t\f\r\n")
    lead = len(text) - len(text.lstrip(" \t\f\r\n"))
    if not body:
        raise ExprError("expression is empty", _shown(text), 0, len(text))
    newline = re.search(r"[\r\n]", body)
    if newline:
        raise ExprError("expression must be on one line", _shown(text), lead + newline.start())
    if "\0" in body:  # Python 3.10 raises ValueError for these, 3.11 a SyntaxError without position
        raise ExprError("null characters are not allowed", _shown(text), lead + body.index("\0"))
    try:
        with warnings.catch_warnings():  # e.g. SyntaxWarning for '0x1for'; we report our own errors
            warnings.simplefilter("ignore")
            tree = ast.parse(body, mode="eval")
    except SyntaxError as exc:
        start = exc.offset - 1 if exc.offset else len(body)  # no offset: the text ended too soon
        end = max(start + 1, (exc.end_offset or 0) - 1)
        shown = _shown(text)
        raise ExprError(f"syntax error: {exc.msg}", shown, lead + start, lead + end) from None
    except UnicodeError as exc:  # lone surrogates cannot be encoded for the parser
        start = getattr(exc, "start", 0)
        raise ExprError("invalid character in expression", _shown(text), lead + start) from None
    except (RecursionError, MemoryError, ValueError):
        message, shown = "expression is too complex to parse", _shown(text)
        raise ExprError(message, shown, lead, lead + len(body)) from None
    _Checker(text, body, lead, variable).check(tree.body, 1)
    return tree.body


class _ToRuntime(ast.NodeTransformer):
    """Rewrites a validated tree for compile_expr: guarded powers, inlined constants, `_x`."""

    def __init__(self, variable: str) -> None:
        self.variable = variable

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in _CONSTANTS:  # LOAD_CONST beats a global lookup, and the value is identical
            return ast.copy_location(ast.Constant(_CONSTANTS[node.id]), node)
        name = "_x" if node.id == self.variable else node.id
        return ast.copy_location(ast.Name(name, ast.Load()), node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        # A float literal base (pi and e are literals by now) is >= 0: its powers are never huge
        # ints nor complex, so the common '0.95 ** epoch' keeps the fast native operator.
        left = node.left
        if isinstance(node.op, ast.Pow) and not (
            isinstance(left, ast.Constant) and isinstance(left.value, float)
        ):
            call = ast.Call(ast.Name("_pow", ast.Load()), [node.left, node.right], [])
            return ast.copy_location(call, node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "pow":
            node.func = ast.copy_location(ast.Name("_pow", ast.Load()), node.func)
        return node


class _ToSource(ast.NodeTransformer):
    """Rewrites a validated tree into plain Python that needs only `import math`."""

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in _CONSTANTS or (node.id in _FUNCTIONS and node.id not in _BUILTINS):
            return ast.Attribute(ast.Name("math", ast.Load()), node.id, ast.Load())
        return node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "pow":  # same semantics as '**'
            return ast.BinOp(node.args[0], ast.Pow(), node.args[1])
        return node


def compile_expr(
    text: str, variable: str, *, label: str = "expression"
) -> Callable[[float], float]:
    """Compile a whitelisted arithmetic expression in one variable into a fast callable."""
    body = _ToRuntime(variable).visit(_validate(text, variable))
    shown = text.strip(" \t\f\r\n")

    def fail(exc: BaseException, value: object) -> ExprEvalError:
        if isinstance(exc, OverflowError) and exc.args and isinstance(exc.args[0], int):
            detail = "numerical result out of range"  # float ** says "(34, 'Numerical ...')"
        else:
            detail = str(exc) or type(exc).__name__
        try:
            shown_value = repr(value)
        except ValueError:  # ints beyond sys.get_int_max_str_digits()
            shown_value = f"<{type(value).__name__} too large to show>"
        return ExprEvalError(f'{label} "{shown}" failed at {variable}={shown_value}: {detail}')

    module = ast.parse(_TEMPLATE)
    function = cast(ast.FunctionDef, module.body[0])
    cast(ast.Return, cast(ast.Try, function.body[0]).body[0]).value = body
    ast.increment_lineno(body, 3)  # keep line numbers monotonic inside the template
    code = compile(ast.fix_missing_locations(module), f"<{label}>", "exec")
    namespace: dict[str, Any] = dict(
        _FUNCTIONS, __builtins__={}, _pow=_pow, _fail=fail, _ERRORS=_ERRORS
    )
    function_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    return cast(Callable[[float], float], types.FunctionType(function_code, namespace, label))


def to_python_source(text: str, variable: str) -> str:
    """The validated expression as Python lambda source, e.g. 'lambda epoch: 0.95 ** epoch'."""
    return f"lambda {variable}: {ast.unparse(_ToSource().visit(_validate(text, variable)))}"
