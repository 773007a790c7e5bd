"""mmengine Python configs -> native data, read without running them; mmengine's own schedulers.

Three parts:

- `read_config`: an mmengine `.py` config (and its `_base_` files) read by walking its syntax
  tree, never by running it: module-level assignments of literals, arithmetic, `dict()`, lists,
  tuples, names bound earlier in the same file, `_base_.x` and `{{_base_.x}}`. `_base_` files
  are merged as mmengine's `Config._file2dict` merges them (`_delete_=True` included). A
  statement that could change a value behind lrviz's back (an import, an `if`, `x.update()`,
  `x['k'] = v`) refuses the file; an expression lrviz does not evaluate (a call to `len()`, an
  f-string, a comprehension) becomes an `Unsupported` value that is refused only where the
  schedule needs it, so a dataset pipeline lrviz never reads cannot stop a file from being read.
- `convert`: a read config -> native data, following mmengine's `Runner`: the optimizer from
  `optim_wrapper.optimizer` (param groups from `paramwise_cfg`), the run from `train_cfg`, and
  one `mmengine.<Name>` scheduler per `param_scheduler` entry, stepped as `ParamSchedulerHook`
  steps it: after every iteration unless it is `by_epoch` (then after every epoch), with the
  Runner's default `end` and `convert_to_iter_based`'s epoch length (`--iters`).
- the provider (`PREFIX`, `check_node`, `build_node`): mmengine's own scheduler classes, built
  on lrviz's dummy optimizer through mmengine's own `PARAM_SCHEDULERS.build` (which calls
  `build_iter_from_epoch` for `convert_to_iter_based`). mmengine's schedulers are not torch's
  (its LinearLR reaches the full lr one step earlier), so the numbers are mmengine's.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..document import parent_key
from ..errors import Problem, SpecError, did_you_mean

if TYPE_CHECKING:
    from ..catalog import ClassInfo
    from ..presets import Source
    from ..spec import SchedulerSpec, Spec
    from . import Ctx

PREFIX = "mmengine."
INSTALL = "pip install 'lrviz[mmengine]'"
BASE_KEY = "_base_"
DELETE_KEY = "_delete_"
DEPRECATION_KEY = "_deprecation_"
# Keys that say "this is an mmengine config" (any one is enough).
MARKERS = ("param_scheduler", "optim_wrapper", "train_cfg")

# Bounds: a config is a few kilobytes; refuse what only an attack needs.
MAX_FILES = 64  # config files read for one spec, bases included
MAX_BASE_DEPTH = 16  # _base_ chains
MAX_AST_NODES = 200_000  # per file
MAX_NODES = 200_000  # values in the merged config (shared values counted once per use)
MAX_ITEMS = 1_000_000  # elements of a string, list or tuple an expression builds
MAX_BUILT = 10_000_000  # elements all expressions of one read build together
MAX_INT_BITS = 4096  # integers an expression builds
MAX_EXPR_DEPTH = 100  # nesting of one expression

# mmengine.optim.scheduler's classes (0.3 .. 0.10 agree on these names).
_LR = (
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineRestartLR",
    "ExponentialLR",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "PolyLR",
    "StepLR",
)
_MOMENTUM = tuple(n[:-2] + "Momentum" for n in _LR if n != "OneCycleLR")
_PARAM = tuple(n[:-2] + "ParamScheduler" for n in _LR)
METRIC_DRIVEN = ("ReduceOnPlateauLR", "ReduceOnPlateauMomentum", "ReduceOnPlateauParamScheduler")
SCHEDULERS = (*_LR, *_MOMENTUM, *_PARAM)
EPOCH_LOOP, ITER_LOOP = "EpochBasedTrainLoop", "IterBasedTrainLoop"
_LOOP_KEYS = {
    EPOCH_LOOP: ("max_epochs", "val_begin", "val_interval", "dynamic_intervals"),
    ITER_LOOP: ("max_iters", "val_begin", "val_interval", "dynamic_intervals"),
}
_WRAPPERS = ("OptimWrapper", "AmpOptimWrapper", "ApexOptimWrapper")
# paramwise_cfg keys that change only weight decay (or nothing about the lr).
_DECAY_ONLY = (
    "bias_decay_mult",
    "norm_decay_mult",
    "dwconv_decay_mult",
    "flat_decay_mult",
    "bypass_duplicate",
)
# mmengine substitutes these inside the file's text before running it.
_PREDEFINED = re.compile(
    r"\{\{\s*(?:fileDirname|fileBasename|fileBasenameNoExtension|fileExtname)\s*\}\}"
)
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,63}$")


# --- reading a config without running it ---------------------------------------------------


@dataclass(frozen=True)
class Unsupported:
    """A value lrviz did not evaluate; refused only where the schedule needs it."""

    label: str  # the file
    line: int
    what: str  # the construct, e.g. "a call to len()"

    def __repr__(self) -> str:
        return f"<{self.what} at {self.label}:{self.line}, not read>"


@dataclass(frozen=True)
class _Placeholder:
    """`{{_base_.a.b}}`: replaced by the base's value, as mmengine does, once the file is read."""

    path: str
    label: str
    line: int


class _D(dict[Any, Any]):
    """A mapping the config built, with the file and line of each key."""

    __slots__ = ("config", "lines")

    def __init__(self, *args: Any, config: bool = False) -> None:
        super().__init__(*args)
        self.lines: dict[Any, tuple[str, int]] = {}
        self.config = config  # an mmengine ConfigDict: attribute access reads keys


class _L(list[Any]):
    """A list the config built, with the file and line of each item."""

    __slots__ = ("lines",)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lines: dict[int, tuple[str, int]] = {}


class ConfigLines(dict[str, int]):
    """Key path -> line in the file the user named; `origin` gives every key's own file:line.

    A key that comes from a `_base_` file is located at the user's `_base_` line.
    """

    def __init__(self) -> None:
        super().__init__()
        self.origin: dict[str, tuple[str, int]] = {}


class _Refusal(Exception):
    def __init__(self, label: str, line: int | None, message: str) -> None:
        super().__init__(message)
        self.problem = Problem(label, None, line, message)


def _refuse(label: str, line: int | None, message: str) -> _Refusal:
    return _Refusal(label, line, message)


NOT_RUN = "lrviz reads mmengine configs without running them"


def read_source(source: Source, source_format: str | None = None) -> tuple[Any, dict[str, int]]:
    """A `.py` SPEC's data and lines; SpecError when it cannot be read or is no mmengine config.

    `source_format`: --from; without it, a file with none of mmengine's markers is refused
    rather than guessed at.
    """
    path = source.path
    assert path is not None
    data, lines = read_config(path, source.tree(), text=source.text, label=source.label)
    if source_format is None and isinstance(data, dict) and "lr_config" in data:
        raise SpecError(
            [
                Problem(
                    source.label,
                    "lr_config",
                    lines.get("lr_config"),
                    "this is an mmcv 1.x config (lr_config), which lrviz cannot read; mmengine "
                    "configs set param_scheduler",
                )
            ]
        )
    if source_format is None and not is_config(data):
        raise SpecError(
            [
                Problem(
                    source.label,
                    None,
                    None,
                    "a .py SPEC is read as an mmengine config, and this file sets none of "
                    f"{', '.join(MARKERS)}; pass --from FORMAT if it is another format",
                )
            ]
        )
    return data, lines


def is_config(data: Any) -> bool:
    """Whether read data carries mmengine's markers (param_scheduler, optim_wrapper, train_cfg)."""
    if not isinstance(data, dict):
        return False
    if "param_scheduler" in data or "optim_wrapper" in data:
        return True
    train = data.get("train_cfg")
    return isinstance(train, dict) and (
        str(train.get("type", "")).endswith("TrainLoop")
        or any(k in train for k in ("max_epochs", "max_iters", "by_epoch"))
    )


def read_config(
    path: Path, root: Path, *, text: str | None = None, label: str | None = None
) -> tuple[dict[str, Any], ConfigLines]:
    """Read an mmengine config without running it: (data, key path -> line).

    Every `_base_` file must resolve inside `root` (lrviz.paths.confine). Raises SpecError
    naming the file, the line and the construct for anything lrviz will not read.
    """
    from ..paths import MAX_SPEC_FILE_BYTES, Refused, read_text

    label = label or str(path)
    try:
        if text is None:
            try:
                text = read_text(path, label, MAX_SPEC_FILE_BYTES)
            except Refused as exc:
                raise _refuse(label, None, str(exc)) from None
        reader = _Reader(root, path.resolve().parent)
        merged, base_line = reader.file(path.resolve(), label, text, ())
        lines = ConfigLines()
        budget = [MAX_NODES]
        data = _plain(merged, "", lines, label, base_line, budget)
    except _Refusal as exc:
        raise SpecError([exc.problem]) from None
    except RecursionError:
        raise SpecError(
            [Problem(label, None, None, "the config is nested too deeply to read")]
        ) from None
    return data, lines


class _Reader:
    """Reads one config file and its bases (mmengine's Config._file2dict, without running)."""

    def __init__(self, root: Path, top: Path) -> None:
        self.root = root
        self.top = top  # the folder of the file the user named
        self.files = 0
        self.built = [MAX_BUILT]  # elements expressions may still build

    def file(
        self, path: Path, label: str, text: str, chain: tuple[Path, ...]
    ) -> tuple[_D, int | None]:
        """The merged config of one file, and the line of its `_base_` assignment."""
        self.files += 1
        if self.files > MAX_FILES:
            raise _refuse(label, None, f"more than {MAX_FILES} config files through _base_")
        tree = _parse(text, label)
        base_stmt = next(
            (
                s
                for s in tree.body
                if isinstance(s, ast.Assign)
                and isinstance(s.targets[0], ast.Name)
                and s.targets[0].id == BASE_KEY
            ),
            None,
        )
        base = _D(config=True)
        if base_stmt is not None:
            base = self._bases(path, label, base_stmt, chain)
        env: dict[str, Any] = {}
        where: dict[str, int] = {}
        ev = _Eval(label, env, base, self.built)
        for stmt in tree.body:
            ev.statement(stmt, where)
        cfg = _D()
        for name, value in env.items():
            if not name.startswith("__"):
                cfg[name] = value
                cfg.lines[name] = (label, where[name])
        cfg.pop(DEPRECATION_KEY, None)
        try:
            cfg = _substitute(cfg, base, [MAX_NODES])
        except _Refusal as exc:
            if exc.problem.source:
                raise
            raise _refuse(label, None, _TOO_BIG) from None
        merged = _merge(cfg, base, label)
        for key in [k for k in merged if isinstance(k, str) and k.startswith("__")]:
            del merged[key]
        return merged, base_stmt.lineno if base_stmt is not None else None

    def _bases(self, path: Path, label: str, stmt: ast.Assign, chain: tuple[Path, ...]) -> _D:
        from ..paths import MAX_SPEC_FILE_BYTES, Refused, confine, read_text

        line = stmt.lineno
        value = _Eval(label, {}, _D(config=True), self.built).expr(stmt.value, 0)
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise _refuse(
                label, line, "_base_ must be a file name or a list of file names (plain text)"
            )
        if len(chain) >= MAX_BASE_DEPTH:
            raise _refuse(label, line, f"_base_ files nested more than {MAX_BASE_DEPTH} deep")
        base = _D(config=True)
        for name in names:
            if "::" in name:
                raise _refuse(
                    label,
                    line,
                    "a _base_ from an installed package (package::path) is not read; lrviz "
                    "reads only config files inside the project tree",
                )
            try:
                target = confine(name, path.parent, self.root)
            except Refused as exc:
                raise _refuse(label, line, f"_base_: {exc}") from None
            shown = _shown(target, self.top)
            if target.suffix != ".py":
                raise _refuse(label, line, f"_base_ {shown}: lrviz reads .py base configs only")
            if target == path or target in chain:
                raise _refuse(label, line, f"_base_ {shown} inherits from itself")
            try:
                text = read_text(target, shown, MAX_SPEC_FILE_BYTES)
            except Refused as exc:
                raise _refuse(label, line, f"_base_: {exc}") from None
            try:
                sub, _ = self.file(target, shown, text, (*chain, path))
            except _Refusal as exc:
                # Located at this file's _base_ line, naming the base file's own line: every
                # problem sits in the file the user named (lrviz check reports it there).
                inner = exc.problem
                if inner.source == shown:
                    where = f"{shown}:{inner.line}" if inner.line else shown
                    raise _refuse(label, line, f"in {where}: {inner.message}") from None
                raise _refuse(label, line, inner.message) from None
            twice = sorted(str(k) for k in base.keys() & sub.keys())
            if twice:
                raise _refuse(
                    label,
                    line,
                    f"_base_ files define {', '.join(twice[:5])} twice; mmengine refuses a "
                    f"duplicate key among bases",
                )
            copied = _config_copy(sub)
            base.update(copied)
            base.lines.update(copied.lines)
        return base


def _shown(path: Path, top: Path) -> str:
    """A base file as messages name it: relative to the folder of the file the user named."""
    return os.path.relpath(path, top)


def _parse(text: str, label: str) -> ast.Module:
    try:
        tree = ast.parse(text, filename=label)
    except SyntaxError as exc:
        # The parser's own text quotes the file: name the line only.
        raise _refuse(label, exc.lineno, "not valid Python (a syntax error)") from None
    except (ValueError, RecursionError, MemoryError, OverflowError):
        raise _refuse(label, None, "not a Python file lrviz can read") from None
    for count, _ in enumerate(ast.walk(tree), start=1):
        if count > MAX_AST_NODES:
            raise _refuse(label, None, f"more than {MAX_AST_NODES:,} syntax nodes in one file")
    return tree


# Statements that refuse the file: each could change a value lrviz has read, or run code.
_STATEMENTS = {
    ast.Import: "an import",
    ast.ImportFrom: "an import",
    ast.With: "a with block (a lazy-import config with read_base())",
    ast.If: "an if statement",
    ast.For: "a for loop",
    ast.While: "a while loop",
    ast.Try: "a try block",
    ast.FunctionDef: "a function definition",
    ast.AsyncFunctionDef: "a function definition",
    ast.ClassDef: "a class definition",
    ast.Delete: "a del statement",
    ast.Expr: "an expression statement (a call such as x.update() changes values)",
    ast.Assert: "an assert statement",
    ast.Raise: "a raise statement",
    ast.Global: "a global statement",
}


class _Eval:
    """Evaluates the config subset in one file; names bound earlier live in `env`."""

    def __init__(self, label: str, env: dict[str, Any], base: _D, built: list[int]) -> None:
        self.label = label
        self.env = env
        self.base = base
        self.built = built

    def unsupported(self, node: ast.AST, what: str) -> Unsupported:
        return Unsupported(self.label, getattr(node, "lineno", 0), what)

    # statements

    def statement(self, stmt: ast.stmt, where: dict[str, int]) -> None:
        if isinstance(stmt, ast.Assign):
            first = stmt.targets[0]
            if isinstance(first, ast.Name) and first.id == BASE_KEY:
                return  # mmengine removes `_base_ = ...`; file() read it
            value = self.expr(stmt.value, 0)
            for target in stmt.targets:
                self.bind(target, value, stmt, where)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is None:
                return
            self.bind(stmt.target, self.expr(stmt.value, 0), stmt, where)
        elif isinstance(stmt, ast.AugAssign):
            target = stmt.target
            if not isinstance(target, ast.Name) or target.id == BASE_KEY:
                raise _refuse(self.label, stmt.lineno, f"{_target_kind(target)} is not read")
            current = self.env.get(target.id)
            if target.id not in self.env:
                current = self.unsupported(stmt, f"name {target.id!r} is not bound before this")
            right = self.expr(stmt.value, 0)
            self.env[target.id] = self.binop(stmt, stmt.op, current, right, inplace=True)
            where[target.id] = stmt.lineno
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            return  # a docstring or a bare literal
        elif isinstance(stmt, ast.Pass):
            return
        else:
            what = next(
                (text for kind, text in _STATEMENTS.items() if isinstance(stmt, kind)),
                f"a {type(stmt).__name__} statement",
            )
            raise _refuse(
                self.label,
                getattr(stmt, "lineno", None),
                f"{what} is not read: {NOT_RUN} (module-level assignments only)",
            )

    def bind(self, target: ast.expr, value: Any, stmt: ast.stmt, where: dict[str, int]) -> None:
        if isinstance(target, ast.Name):
            if target.id == BASE_KEY:
                raise _refuse(self.label, stmt.lineno, "_base_ assigned in an unpacking")
            self.env[target.id] = value
            where[target.id] = stmt.lineno
            return
        if isinstance(target, (ast.Tuple, ast.List)) and all(
            isinstance(t, (ast.Name, ast.Tuple, ast.List)) for t in target.elts
        ):
            if isinstance(value, (Unsupported, _Placeholder)):
                parts: list[Any] = [value] * len(target.elts)
            elif isinstance(value, (list, tuple)) and len(value) == len(target.elts):
                parts = list(value)
            else:
                raise _refuse(
                    self.label,
                    stmt.lineno,
                    f"cannot unpack this value into {len(target.elts)} names",
                )
            for t, v in zip(target.elts, parts, strict=True):
                self.bind(t, v, stmt, where)
            return
        raise _refuse(
            self.label,
            stmt.lineno,
            f"{_target_kind(target)} is not read: it changes a value in place ({NOT_RUN})",
        )

    # expressions

    def expr(self, node: ast.expr, depth: int) -> Any:
        if depth > MAX_EXPR_DEPTH:
            return self.unsupported(node, "an expression nested too deeply")
        depth += 1
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, depth)
        if isinstance(node, ast.Subscript):
            return self.subscript(node, depth)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, depth)
        if isinstance(node, ast.BinOp):
            left = self.expr(node.left, depth)
            right = self.expr(node.right, depth)
            return self.binop(node, node.op, left, right)
        if isinstance(node, ast.BoolOp):
            return self.boolop(node, depth)
        if isinstance(node, ast.Compare):
            return self.compare(node, depth)
        if isinstance(node, ast.IfExp):
            test = self.expr(node.test, depth)
            if isinstance(test, (Unsupported, _Placeholder)):
                return _poison(self, node, test)
            return self.expr(node.body if test else node.orelse, depth)
        if isinstance(node, ast.Dict):
            return self.dict_display(node, depth)
        if isinstance(node, (ast.List, ast.Tuple)):
            return self.sequence(node, depth)
        if isinstance(node, ast.Set):
            return self.set_display(node)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, ast.JoinedStr):
            return self.unsupported(node, "an f-string")
        if isinstance(node, ast.Lambda):
            return self.unsupported(node, "a lambda")
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return self.unsupported(node, "a comprehension")
        if isinstance(node, ast.NamedExpr):
            return self.unsupported(node, "an assignment expression (:=)")
        return self.unsupported(node, f"a {type(node).__name__} expression")

    def constant(self, node: ast.Constant) -> Any:
        value = node.value
        if isinstance(value, bool) or value is None or isinstance(value, float):
            return value
        if isinstance(value, int):
            if value.bit_length() > MAX_INT_BITS:
                return self.unsupported(node, "a number too large")
            return value
        if isinstance(value, str):
            if _PREDEFINED.search(value):
                return self.unsupported(node, "a {{ fileDirname }}-style substitution")
            return value
        kind = {bytes: "a bytes literal", complex: "a complex number"}.get(type(value))
        return self.unsupported(node, kind or "this literal")

    def name(self, node: ast.Name) -> Any:
        if node.id == BASE_KEY:
            return self.base
        if node.id in self.env:
            return self.env[node.id]
        if node.id in self.base:
            return self.unsupported(
                node,
                f"name {node.id!r}, which only a _base_ file binds (mmengine reads it as "
                f"_base_.{node.id})",
            )
        if hasattr(builtins, node.id):
            return self.unsupported(node, f"the builtin {node.id}")
        return self.unsupported(node, f"name {node.id!r}, not bound before this line")

    def attribute(self, node: ast.Attribute, depth: int) -> Any:
        value = self.expr(node.value, depth)
        if isinstance(value, (Unsupported, _Placeholder)):
            return _poison(self, node, value)
        if isinstance(value, _D) and value.config and not hasattr(dict, node.attr):
            if node.attr in value:
                return value[node.attr]
            return self.unsupported(node, f"a key {node.attr!r} that the _base_ files do not set")
        return self.unsupported(node, f"attribute access (.{node.attr})")

    def subscript(self, node: ast.Subscript, depth: int) -> Any:
        value = self.expr(node.value, depth)
        if isinstance(value, (Unsupported, _Placeholder)):
            return _poison(self, node, value)
        index = node.slice
        if isinstance(index, ast.Slice):
            if not isinstance(value, (list, tuple, str)):
                return self.unsupported(node, "a slice of a value that is not a sequence")
            bounds = []
            for part in (index.lower, index.upper, index.step):
                bound = None if part is None else self.expr(part, depth)
                if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int)):
                    return self.unsupported(node, "a slice whose bounds are not whole numbers")
                bounds.append(bound)
            if bounds[2] == 0:
                return self.unsupported(node, "a slice with step 0")
            out = value[slice(*bounds)]
            try:
                _size(len(out), self.built)
            except _Unread as exc:
                return self.unsupported(node, str(exc))
            return _L(out) if isinstance(value, list) else out
        key = self.expr(index, depth)
        if isinstance(key, (Unsupported, _Placeholder)):
            return _poison(self, node, key)
        if isinstance(value, dict):
            if _hashable(key) and key in value:
                return value[key]
            return self.unsupported(node, "a key this mapping does not have")
        if isinstance(value, (list, tuple, str)):
            if (
                isinstance(key, int)
                and not isinstance(key, bool)
                and -len(value) <= key < len(value)
            ):
                return value[key]
            return self.unsupported(node, "an index outside the sequence")
        return self.unsupported(node, "indexing a value that is not a mapping or sequence")

    def unary(self, node: ast.UnaryOp, depth: int) -> Any:
        value = self.expr(node.operand, depth)
        if isinstance(value, (Unsupported, _Placeholder)):
            return _poison(self, node, value)
        if isinstance(node.op, ast.Not):
            return not value
        number = isinstance(value, (int, float))
        if isinstance(node.op, ast.USub) and number:
            return -value
        if isinstance(node.op, ast.UAdd) and number:
            return +value
        if isinstance(node.op, ast.Invert) and isinstance(value, int):
            return ~value
        return self.unsupported(node, f"a unary operator on {_type(value)}")

    def binop(
        self, node: ast.AST, op: ast.operator, left: Any, right: Any, inplace: bool = False
    ) -> Any:
        for value in (left, right):
            if isinstance(value, (Unsupported, _Placeholder)):
                return _poison(self, node, value)
        try:
            result = _arith(op, left, right, inplace, self.built)
        except _Unread as exc:
            return self.unsupported(node, str(exc))
        except ZeroDivisionError:
            return self.unsupported(node, "a division by zero")
        except (OverflowError, MemoryError):
            return self.unsupported(node, "a number too large")
        except (TypeError, ValueError):
            return self.unsupported(node, f"an operation on {_type(left)} and {_type(right)}")
        if isinstance(result, complex):
            return self.unsupported(node, "a complex number")
        return result

    def boolop(self, node: ast.BoolOp, depth: int) -> Any:
        result: Any = None
        for part in node.values:
            result = self.expr(part, depth)
            if isinstance(result, (Unsupported, _Placeholder)):
                return _poison(self, node, result)
            if isinstance(node.op, ast.And) and not result:
                return result
            if isinstance(node.op, ast.Or) and result:
                return result
        return result

    def compare(self, node: ast.Compare, depth: int) -> Any:
        left = self.expr(node.left, depth)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.expr(right_node, depth)
            for value in (left, right):
                if isinstance(value, (Unsupported, _Placeholder)):
                    return _poison(self, node, value)
            if isinstance(op, (ast.In, ast.NotIn)):
                if not _scalar(left) or not isinstance(right, (list, tuple, dict, str)):
                    return self.unsupported(node, "an `in` test on values that are not plain")
                if isinstance(right, str) and not isinstance(left, str):
                    return self.unsupported(node, "an `in` test of a number in text")
                found = _hashable(left) and left in right
                ok = found if isinstance(op, ast.In) else not found
            elif isinstance(op, (ast.Is, ast.IsNot)):
                ok = (left is right) == isinstance(op, ast.Is)
            else:
                if not (_scalar(left) and _scalar(right)):
                    return self.unsupported(node, "a comparison of values that are not plain")
                try:
                    ok = _COMPARE[type(op)](left, right)
                except TypeError:
                    return self.unsupported(
                        node, f"a comparison of {_type(left)} and {_type(right)}"
                    )
            if not ok:
                return False
            left = right
        return True

    def dict_display(self, node: ast.Dict, depth: int) -> Any:
        out = _D()
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            if key_node is None:  # {**other}
                spread = self.expr(value_node, depth)
                if not isinstance(spread, dict):
                    return _poison(self, node, spread, "a ** spread of a value that is not a dict")
                try:
                    _update(out, spread, self.built)
                except _Unread as exc:
                    return self.unsupported(node, str(exc))
                continue
            key = self.expr(key_node, depth)
            if isinstance(key, (Unsupported, _Placeholder)) or not _hashable(key):
                return _poison(self, node, key, "a mapping key that is not plain")
            out[key] = self.expr(value_node, depth)
            out.lines[key] = (self.label, key_node.lineno)
        return out

    def sequence(self, node: ast.List | ast.Tuple, depth: int) -> Any:
        items = _L()
        for elt in node.elts:
            if isinstance(elt, ast.Starred):
                spread = self.expr(elt.value, depth)
                if not isinstance(spread, (list, tuple)):
                    return _poison(self, node, spread, "a * spread of a value that is not a list")
                try:
                    _size(len(items) + len(spread), self.built)
                except _Unread as exc:
                    return self.unsupported(node, str(exc))
                items.extend(spread)
                continue
            items.lines[len(items)] = (self.label, elt.lineno)
            items.append(self.expr(elt, depth))
        return items if isinstance(node, ast.List) else tuple(items)

    def set_display(self, node: ast.Set) -> Any:
        # `{{_base_.a.b}}` parses as a set holding a set holding `_base_.a.b`.
        inner = node.elts[0] if len(node.elts) == 1 else None
        if isinstance(inner, ast.Set) and len(inner.elts) == 1:
            dotted = _dotted(inner.elts[0])
            if dotted is not None and dotted.startswith(BASE_KEY + "."):
                return _Placeholder(dotted[len(BASE_KEY) + 1 :], self.label, node.lineno)
            return self.unsupported(node, "a {{ }} substitution other than {{_base_.name}}")
        return self.unsupported(node, "a set")

    def call(self, node: ast.Call, depth: int) -> Any:
        func = node.func
        name = func.id if isinstance(func, ast.Name) and func.id not in self.env else None
        if name == "dict":
            out = _D()
            if len(node.args) > 1:
                return self.unsupported(node, "dict() with more than one positional argument")
            if node.args:
                first = self.expr(node.args[0], depth)
                if not isinstance(first, dict):
                    return _poison(self, node, first, "dict() of a value that is not a mapping")
                try:
                    _update(out, first, self.built)
                except _Unread as exc:
                    return self.unsupported(node, str(exc))
            for kw in node.keywords:
                value = self.expr(kw.value, depth)
                if kw.arg is None:  # dict(**other)
                    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
                        return _poison(
                            self, node, value, "a ** spread of a value that is not a dict"
                        )
                    try:
                        _update(out, value, self.built)
                    except _Unread as exc:
                        return self.unsupported(node, str(exc))
                else:
                    out[kw.arg] = value
                    out.lines[kw.arg] = (self.label, kw.lineno)
            return out
        if name in ("list", "tuple") and not node.keywords and len(node.args) <= 1:
            first = self.expr(node.args[0], depth) if node.args else []
            if not isinstance(first, (list, tuple)):
                return _poison(self, node, first, f"{name}() of a value that is not a list")
            try:
                _size(len(first), self.built)
            except _Unread as exc:
                return self.unsupported(node, str(exc))
            return _L(first) if name == "list" else tuple(first)
        dotted = _dotted(func)
        shown = f"a call to {dotted}()" if dotted and len(dotted) <= 60 else "a function call"
        return self.unsupported(node, shown)


class _Unread(Exception):
    """An operation lrviz does not evaluate (too large, or not arithmetic)."""


def _arith(op: ast.operator, left: Any, right: Any, inplace: bool, built: list[int]) -> Any:
    numbers = all(isinstance(v, (int, float)) for v in (left, right))
    if numbers:
        return _number_op(op, left, right)
    if isinstance(op, ast.Add):
        if isinstance(left, str) and isinstance(right, str):
            _size(len(left) + len(right), built)
            return left + right
        if isinstance(left, list) and isinstance(right, (list, tuple) if inplace else list):
            _size(len(left) + len(right), built)
            if inplace:  # `x += [...]` extends the list every holder of it sees
                left.extend(right)
                return left
            return _concat(left, list(right))
        if isinstance(left, tuple) and isinstance(right, tuple):
            _size(len(left) + len(right), built)
            return left + right
    if isinstance(op, ast.Mult):
        seq, count = (left, right) if isinstance(right, int) else (right, left)
        if isinstance(seq, (str, list, tuple)) and isinstance(count, int):
            _size(len(seq) * max(count, 0), built)
            repeated = seq * count
            return _L(repeated) if isinstance(seq, list) else repeated
    if isinstance(op, ast.BitOr) and isinstance(left, dict) and isinstance(right, dict):
        if inplace:
            _update(left, right, built)
            return left
        out = _D(config=isinstance(left, _D) and left.config)
        _update(out, left, built)
        _update(out, right, built)
        return out
    if isinstance(op, ast.Mod) and isinstance(left, str):
        raise _Unread("%-formatting of text")
    raise TypeError


def _number_op(op: ast.operator, a: Any, b: Any) -> Any:
    ints = isinstance(a, int) and isinstance(b, int)
    if isinstance(op, ast.Add):
        return _int_ok(a + b)
    if isinstance(op, ast.Sub):
        return _int_ok(a - b)
    if isinstance(op, ast.Mult):
        if ints and a.bit_length() + b.bit_length() > MAX_INT_BITS:
            raise _Unread("a number too large")
        return a * b
    if isinstance(op, ast.Div):
        return a / b
    if isinstance(op, ast.FloorDiv):
        return a // b
    if isinstance(op, ast.Mod):
        return a % b
    if isinstance(op, ast.Pow):
        if ints and b >= 0 and abs(a) > 1 and a.bit_length() * b > MAX_INT_BITS:
            raise _Unread("a number too large")
        if not ints and isinstance(b, int) and abs(b) > 10**6 and abs(a) not in (0, 1):
            raise OverflowError
        return a**b
    if ints and isinstance(op, (ast.LShift, ast.RShift)):
        if b < 0:
            raise ValueError
        if isinstance(op, ast.LShift):
            if a.bit_length() + b > MAX_INT_BITS:
                raise _Unread("a number too large")
            return a << b
        return a >> b
    if ints and isinstance(op, ast.BitAnd):
        return a & b
    if ints and isinstance(op, ast.BitOr):
        return a | b
    if ints and isinstance(op, ast.BitXor):
        return a ^ b
    raise TypeError


def _int_ok(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise _Unread("a number too large")
    return value


def _size(n: int, built: list[int]) -> None:
    """Charge an expression that builds n elements against the read's bounds."""
    if n > MAX_ITEMS:
        raise _Unread(f"a value of more than {MAX_ITEMS:,} items")
    built[0] -= n
    if built[0] < 0:
        raise _Unread(f"expressions that build more than {MAX_BUILT:,} items in all")


def _concat(left: list[Any], right: list[Any]) -> _L:
    out = _L(left)
    out.lines = dict(getattr(left, "lines", {}))
    for i, pos in getattr(right, "lines", {}).items():
        out.lines[len(left) + i] = pos
    out.extend(right)
    return out


def _update(out: dict[Any, Any], other: dict[Any, Any], built: list[int] | None = None) -> None:
    if built is not None:
        _size(len(other), built)
    out.update(other)
    if isinstance(out, _D):
        out.lines.update(getattr(other, "lines", {}))


def _poison(ev: _Eval, node: ast.AST, value: Any, what: str | None = None) -> Unsupported:
    """The Unsupported an expression becomes: the first one it used, or a new one."""
    if isinstance(value, Unsupported):
        return value
    if isinstance(value, _Placeholder):
        return ev.unsupported(
            node,
            f"{{{{_base_.{value.path}}}}} used inside an expression (mmengine substitutes it "
            f"only as a whole value; write _base_.{value.path})",
        )
    return ev.unsupported(node, what or f"an operation on {_type(value)}")


_COMPARE = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _hashable(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_hashable(v) for v in value)
    return _scalar(value)


def _type(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, tuple):
        return "a tuple"
    if isinstance(value, str):
        return "text"
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, (int, float)):
        return "a number"
    return "a value"


def _dotted(node: ast.expr) -> str | None:
    """`a.b.c` for a chain of plain names, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _target_kind(target: ast.expr) -> str:
    if isinstance(target, ast.Subscript):
        return "an item assignment (x[k] = ...)"
    if isinstance(target, ast.Attribute):
        return "an attribute assignment (x.k = ...)"
    if isinstance(target, ast.Starred):
        return "a starred assignment"
    return "this assignment target"


def _config_copy(value: Any) -> Any:
    """What mmengine's ConfigDict(...) makes of a value: dicts (in lists too) copied."""
    if isinstance(value, dict):
        out = _D(config=True)
        for key, item in value.items():
            out[key] = _config_copy(item)
        out.lines = dict(getattr(value, "lines", {}))
        return out
    if isinstance(value, list):
        items = _L(_config_copy(v) for v in value)
        items.lines = dict(getattr(value, "lines", {}))
        return items
    if isinstance(value, tuple):
        return tuple(_config_copy(v) for v in value)
    return value


def _substitute(value: Any, base: _D, budget: list[int]) -> Any:
    """mmengine's _substitute_base_vars: {{_base_.a.b}} -> the base's value, on a copy.

    Like mmengine's (a deepcopy at every level), the copy shares nothing between keys: a dict
    bound to two names is two dicts from here on.
    """
    budget[0] -= 1
    if budget[0] < 0:
        raise _refuse(value.label if isinstance(value, _Placeholder) else "", None, _TOO_BIG)
    if isinstance(value, _Placeholder):
        found: Any = base
        for part in value.path.split("."):
            if not isinstance(found, dict) or part not in found:
                raise _refuse(
                    value.label,
                    value.line,
                    f"{{{{_base_.{value.path}}}}}: the _base_ files do not set it",
                )
            found = found[part]
        return found
    if isinstance(value, dict):
        out = _D(config=isinstance(value, _D) and value.config)
        for key, item in value.items():
            out[key] = _substitute(item, base, budget)
        out.lines = dict(getattr(value, "lines", {}))
        return out
    if isinstance(value, list):
        items = _L(_substitute(v, base, budget) for v in value)
        items.lines = dict(getattr(value, "lines", {}))
        return items
    if isinstance(value, tuple):
        return tuple(_substitute(v, base, budget) for v in value)
    return value


_TOO_BIG = f"the config holds more than {MAX_NODES:,} values"


def _merge(a: _D, b: _D, label: str) -> _D:
    """mmengine's Config._merge_a_into_b: `a` (the child) over `b` (its bases), not in place."""
    out = _D(b, config=True)
    out.lines = dict(b.lines)
    for key, value in a.items():
        if isinstance(value, dict):
            if key in out and not _pop_delete(value, label, a.lines.get(key)):
                if not isinstance(out[key], dict):
                    _, line = a.lines.get(key, (label, 0))
                    raise _refuse(
                        label,
                        line or None,
                        f"{key} is a mapping here but not in the _base_ files; mmengine "
                        f"refuses to merge them (set {DELETE_KEY}=True to replace it)",
                    )
                out[key] = _merge(value if isinstance(value, _D) else _D(value), out[key], label)
            else:
                out[key] = _config_copy(value)
        else:
            out[key] = value
        if key in a.lines:
            out.lines[key] = a.lines[key]
    return out


def _pop_delete(value: dict[Any, Any], label: str, pos: tuple[str, int] | None) -> bool:
    """`value.pop('_delete_', False)`, as mmengine does (in place)."""
    flag = value.pop(DELETE_KEY, False)
    if isinstance(value, _D):
        value.lines.pop(DELETE_KEY, None)
    if isinstance(flag, (Unsupported, _Placeholder)):
        raise _refuse(label, pos[1] if pos else None, f"{DELETE_KEY} must be True or False")
    return bool(flag)


def _plain(
    value: Any, path: str, lines: ConfigLines, top: str, base_line: int | None, budget: list[int]
) -> Any:
    """Plain data (dicts, lists) with every key path's line; tuples become lists."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _refuse(top, None, _TOO_BIG)
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        positions = getattr(value, "lines", {})
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            _locate(lines, sub, positions.get(key), top, base_line)
            out[key] = _plain(item, sub, lines, top, base_line, budget)
        return out
    if isinstance(value, (list, tuple)):
        positions = getattr(value, "lines", {})
        items = []
        for i, item in enumerate(value):
            sub = f"{path}[{i}]"
            _locate(lines, sub, positions.get(i), top, base_line)
            items.append(_plain(item, sub, lines, top, base_line, budget))
        return items
    return value


def _locate(
    lines: ConfigLines, key: str, pos: tuple[str, int] | None, top: str, base_line: int | None
) -> None:
    if pos is None:
        return
    lines.origin[key] = pos
    if pos[0] == top:
        lines[key] = pos[1]
    elif base_line is not None:
        lines[key] = base_line  # inherited: the user's `_base_` line


# --- a read config -> native data, as mmengine's Runner builds it ---------------------------


@dataclass(frozen=True)
class _Loop:
    """The train loop: EpochBasedTrainLoop (max_epochs) or IterBasedTrainLoop (max_iters)."""

    by_epoch: bool
    max_epochs: int  # IterBasedTrainLoop: 1, as mmengine says
    max_iters: int | None  # EpochBasedTrainLoop: max_epochs × batches, when --iters is known
    key: str  # the user's key path for the length


def convert(data: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    """Native spec data from a read mmengine config (see the module docstring)."""
    hz = ctx.horizon
    if BASE_KEY in data:
        _problem(
            ctx,
            BASE_KEY,
            "_base_ is resolved in .py configs only; write the config as a .py file, or copy "
            "the keys of its _base_ files into it",
        )
        return {}
    if hz.step is not None:
        _problem(
            ctx,
            None,
            f"--step {hz.step} does not apply: mmengine steps every param_scheduler entry by "
            f"its own by_epoch (after each epoch, or after each iteration); set by_epoch with "
            f"--set param_scheduler.N.by_epoch=false instead",
        )
    _auto_scale(ctx, data)
    optimizer, groups = _optimizer(ctx, data)
    loop = _train_loop(ctx, data)
    members = _members(ctx, data)
    if ctx.problems or loop is None or optimizer is None or members is None:
        return {}

    iters = hz.iters  # len(train_dataloader)
    if loop.by_epoch and iters is not None:
        loop = _Loop(True, loop.max_epochs, loop.max_epochs * iters, loop.key)
    schedulers: list[dict[str, Any]] = []
    steps = []
    for key, node in members:
        member = _member(ctx, key, node, loop, iters)
        if member is None:
            continue
        ctx.at(f"scheduler[{len(schedulers)}]", key)
        schedulers.append(member)
        steps.append(f"{member['type'][len(PREFIX) :]} every {_STEP_WORD[member['step']]}")
    if ctx.problems:
        return {}

    if loop.by_epoch:
        run = {"epochs": loop.max_epochs, "iters_per_epoch": iters or 1}
        ctx.at("run.epochs", loop.key)
        shape = f"{loop.max_epochs:,} epochs"
        if iters is not None:
            shape += f" × {iters:,} iterations (--iters)"
    else:
        assert loop.max_iters is not None
        run = {"epochs": 1, "iters_per_epoch": loop.max_iters}
        ctx.at("run.iters_per_epoch", loop.key)
        ctx.at("run.epochs", loop.key)
        shape = f"{loop.max_iters:,} iterations, shown as one epoch"
    loop_name = EPOCH_LOOP if loop.by_epoch else ITER_LOOP
    ctx.notes.insert(0, f"mmengine: {loop_name}, {shape}; {', '.join(steps)}")
    native: dict[str, Any] = {"optimizer": optimizer, "scheduler": schedulers, "run": run}
    if groups:
        native["param_groups"] = groups
    return native


_STEP_WORD = {"batch": "iteration", "epoch": "epoch"}


def _problem(ctx: Ctx, key: str | None, message: str) -> None:
    """A problem at one of the user's key paths; a key from a _base_ file names its file:line."""
    origin = getattr(ctx.lines, "origin", {})
    probe = key
    while probe and probe not in origin and probe not in ctx.lines:
        probe = parent_key(probe)
    if probe and probe in origin and probe not in ctx.overridden:
        label, line = origin[probe]
        if label != ctx.source:  # located at the user's _base_ line, naming the base's own
            message = f"{message} (set in {label}:{line})"
    ctx.problem(key, message)


def _readable(ctx: Ctx, key: str, value: Any) -> bool:
    """Whether a value the schedule needs was read; a problem at its line if not."""
    found = _first_unsupported(value, key)
    if found is None:
        return True
    where, bad = found
    message = f"{bad.what} is not read: {NOT_RUN}"
    if bad.label == ctx.source:
        ctx.problems.append(Problem(ctx.source, where, bad.line, message))
    else:
        ctx.problem(where, f"{message} (in {bad.label}:{bad.line})")
    return False


def _first_unsupported(value: Any, key: str) -> tuple[str, Unsupported] | None:
    """(key path, value) of the first Unsupported inside a value, in reading order."""
    stack = [(key, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, Unsupported):
            return path, item
        if isinstance(item, dict):
            stack.extend(
                reversed([(f"{path}.{k}" if path else str(k), v) for k, v in item.items()])
            )
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed([(f"{path}[{i}]", v) for i, v in enumerate(item)]))
    return None


def _mapping(ctx: Ctx, data: dict[str, Any], key: str, what: str) -> dict[str, Any] | None:
    value = data.get(key.rpartition(".")[2])
    if not _readable(ctx, key, value):
        return None
    if not isinstance(value, dict):
        _problem(ctx, key, f"expected {what}, got {_type(value)}")
        return None
    return value


def _type_name(ctx: Ctx, node: dict[str, Any], key: str) -> str | None:
    """A `type` as written (a class name), without an `mmengine.` scope prefix."""
    value = node.get("type")
    if not isinstance(value, str) or not value:
        _problem(ctx, f"{key}.type", f"expected a class name, got {_type(value)}")
        return None
    return value.removeprefix(PREFIX)


def _whole(ctx: Ctx, node: dict[str, Any], name: str, key: str, minimum: int) -> int | None:
    """A whole number as mmengine takes it (int(x) == x: 12.0 is 12)."""
    value = node.get(name)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok and isinstance(value, float):
        ok = value.is_integer()
    if not ok or value is None:
        _problem(ctx, f"{key}.{name}", f"expected a whole number, got {_type(value)}")
        return None
    if value < minimum:
        _problem(ctx, f"{key}.{name}", f"must be at least {minimum}, got {int(value)}")
        return None
    return int(value)


def _auto_scale(ctx: Ctx, data: dict[str, Any]) -> None:
    scale = data.get("auto_scale_lr")
    if not isinstance(scale, dict) or not scale.get("enable", False):
        return
    _problem(
        ctx,
        "auto_scale_lr.enable",
        "auto_scale_lr is enabled: mmengine's Runner scales the lr by (GPUs × "
        "train_dataloader.batch_size) / base_batch_size, which the file does not say; pass "
        "--set auto_scale_lr.enable=false to see the unscaled schedule",
    )


def _optimizer(
    ctx: Ctx, data: dict[str, Any]
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The native optimizer and param groups, as DefaultOptimWrapperConstructor builds them."""
    wrapper: dict[str, Any] | None = None
    if "optim_wrapper" in data:
        wrapper = _mapping(ctx, data, "optim_wrapper", "a mapping such as dict(optimizer=...)")
        if wrapper is None:
            return None, []
        key = "optim_wrapper.optimizer"
        kind = wrapper.get("type", "OptimWrapper")
        if not _readable(ctx, "optim_wrapper.type", kind):
            return None, []
        if not isinstance(kind, str) or kind.removeprefix(PREFIX) not in _WRAPPERS:
            _problem(
                ctx,
                "optim_wrapper.type",
                f"lrviz reads mmengine's {', '.join(_WRAPPERS)}, not {_shown_name(kind)} "
                f"(several optimizers, or a wrapper of another package)",
            )
            return None, []
        constructor = wrapper.get("constructor", "DefaultOptimWrapperConstructor")
        if constructor != "DefaultOptimWrapperConstructor":
            _problem(
                ctx,
                "optim_wrapper.constructor",
                f"{_shown_name(constructor)} sets the param groups from the model itself "
                f"(per-layer learning rates); lrviz follows DefaultOptimWrapperConstructor only",
            )
            return None, []
        counts = wrapper.get("accumulative_counts", 1)
        if counts != 1:
            _problem(
                ctx,
                "optim_wrapper.accumulative_counts",
                "with gradient accumulation the optimizer steps every Nth iteration while the "
                "schedulers step every iteration; lrviz does not show that yet (pass --set "
                "optim_wrapper.accumulative_counts=1 to see the schedule per iteration)",
            )
            return None, []
        opt = _mapping(ctx, wrapper, key, "a mapping such as dict(type='SGD', lr=0.01)")
        ctx.at("optimizer", key)
    elif "optimizer" in data:
        key = "optimizer"
        opt = _mapping(ctx, data, key, "a mapping such as dict(type='SGD', lr=0.01)")
        ctx.at("optimizer", key)
        ctx.notes.append("mmengine: no optim_wrapper; the top-level optimizer is shown")
    else:
        _problem(ctx, None, "no optim_wrapper: mmengine's Runner needs optim_wrapper.optimizer")
        return None, []
    if opt is None:
        return None, []
    name = _type_name(ctx, opt, key)
    if name is None:
        return None, []
    optimizer = {
        "type": name.removeprefix("torch.optim."),
        **{k: v for k, v in opt.items() if k != "type"},
    }
    paramwise = wrapper.get("paramwise_cfg") if wrapper is not None else None
    if paramwise is None:
        return optimizer, []
    return optimizer, _groups(ctx, optimizer, paramwise)


def _shown_name(value: Any) -> str:
    return repr(value) if isinstance(value, str) and _IDENT.match(value) else _type(value)


def _groups(ctx: Ctx, optimizer: dict[str, Any], paramwise: Any) -> list[dict[str, Any]]:
    """Param groups for paramwise_cfg: one per custom key that changes the lr, then the rest.

    mmengine makes one group per parameter; parameters whose names match the same custom key
    share their lr, so one group per key shows every lr the optimizer uses.
    """
    key = "optim_wrapper.paramwise_cfg"
    if not _readable(ctx, key, paramwise):
        return []
    if not isinstance(paramwise, dict):
        _problem(ctx, key, f"expected a mapping, got {_type(paramwise)}")
        return []
    base_lr = optimizer.get("lr")
    groups: list[dict[str, Any]] = []
    customs = paramwise.get("custom_keys", {})
    if not isinstance(customs, dict):
        _problem(ctx, f"{key}.custom_keys", f"expected a mapping, got {_type(customs)}")
        return []
    for name, rule in customs.items():
        where = f"{key}.custom_keys.{name}"
        if not isinstance(rule, dict):
            _problem(ctx, where, f"expected a mapping such as dict(lr_mult=0.1), got {_type(rule)}")
            continue
        group = _group(ctx, where, str(name), rule, base_lr)
        if group is not None:
            ctx.at(f"param_groups[{len(groups)}]", where)
            groups.append(group)
    for mult, label, who in (
        (
            "bias_lr_mult",
            "bias",
            "bias parameters (outside norm layers) that no custom key matches",
        ),
        ("dcn_offset_lr_mult", "dcn offsets", "deformable-convolution offset layers"),
    ):
        value = paramwise.get(mult)
        if value is None:
            continue
        group = _group(ctx, f"{key}.{mult}", label, {"lr_mult": value}, base_lr, mult)
        if group is not None:
            ctx.at(f"param_groups[{len(groups)}]", f"{key}.{mult}")
            groups.append(group)
            ctx.notes.append(f"mmengine: group {label!r} is the {who}")
    if not groups:
        return []
    names = {g["name"] for g in groups}
    rest = next(n for n in ("others", "other params", "others (default lr)") if n not in names)
    groups.append({"name": rest})
    ctx.notes.append(
        f"mmengine: paramwise_cfg gives {len(groups) - 1} lr rule(s); group {rest!r} is every "
        f"parameter no rule matches"
    )
    return groups


def _group(
    ctx: Ctx,
    where: str,
    name: str,
    rule: dict[str, Any],
    base_lr: Any,
    mult_key: str = "lr_mult",
) -> dict[str, Any] | None:
    """One param group: lr = base lr × lr_mult, then the rule's own keys (as mmengine sets them)."""
    if not _readable(ctx, where, rule):
        return None
    extra = {k: v for k, v in rule.items() if k not in ("lr_mult", "decay_mult")}
    if "lr_mult" not in rule and not extra:
        return None  # decay_mult alone: the lr is the optimizer's
    group: dict[str, Any] = {"name": name}
    if "lr_mult" in rule:
        mult = rule["lr_mult"]
        if isinstance(mult, bool) or not isinstance(mult, (int, float)):
            _problem(
                ctx,
                f"{where}.lr_mult" if mult_key == "lr_mult" else where,
                f"expected a number, got {_type(mult)}",
            )
            return None
        if isinstance(base_lr, bool) or not isinstance(base_lr, (int, float)):
            _problem(ctx, where, "lr_mult needs the optimizer's lr, and it has none (a number)")
            return None
        group["lr"] = base_lr * mult
    group.update(extra)
    return group


def _train_loop(ctx: Ctx, data: dict[str, Any]) -> _Loop | None:
    """The run length, from train_cfg as Runner.build_train_loop reads it."""
    hz = ctx.horizon
    if "train_cfg" not in data or data["train_cfg"] is None:
        if hz.epochs is not None:
            ctx.notes.append(f"mmengine: no train_cfg; an epoch-based run of --epochs {hz.epochs}")
            return _Loop(True, hz.epochs, None, "train_cfg")
        _problem(
            ctx,
            None,
            "no train_cfg: the config does not say how long training runs; pass --epochs N "
            "(or add train_cfg = dict(by_epoch=True, max_epochs=N))",
        )
        return None
    train = _mapping(ctx, data, "train_cfg", "a mapping such as dict(by_epoch=True, max_epochs=12)")
    if train is None:
        return None
    key = "train_cfg"
    if "type" in train and "by_epoch" in train:
        _problem(ctx, key, "mmengine takes only one of type and by_epoch in train_cfg")
        return None
    if "type" in train:
        kind = _type_name(ctx, train, key)
        if kind is None:
            return None
        if kind not in _LOOP_KEYS:
            _problem(
                ctx,
                f"{key}.type",
                f"{_shown_name(kind)} is not one of mmengine's train loops ({EPOCH_LOOP}, "
                f"{ITER_LOOP}); lrviz follows those two only",
            )
            return None
        by_epoch = kind == EPOCH_LOOP
    else:
        flag = train.get("by_epoch")
        if not isinstance(flag, bool):
            _problem(
                ctx,
                key if flag is None else f"{key}.by_epoch",
                "train_cfg needs type='EpochBasedTrainLoop' / 'IterBasedTrainLoop' or "
                "by_epoch=True / False",
            )
            return None
        by_epoch = flag
        kind = EPOCH_LOOP if by_epoch else ITER_LOOP
    allowed = _LOOP_KEYS[kind]
    typos = [name for name in train if name not in (*allowed, "type", "by_epoch")]
    for name in typos:
        _problem(
            ctx, f"{key}.{name}", f"{kind} takes no argument {name!r}{did_you_mean(name, allowed)}"
        )
    if not _readable(ctx, key, {k: train.get(k) for k in allowed[:1]}):
        return None
    length = allowed[0]  # max_epochs or max_iters
    if length not in train and not (by_epoch and hz.epochs is not None):
        if not typos:  # else the misspelt key's problem says it
            _problem(ctx, key, f"{kind} needs {length}")
        return None
    if by_epoch:
        epochs = hz.epochs
        if epochs is None:
            epochs = _whole(ctx, train, "max_epochs", key, 1)
        if epochs is None:
            return None
        return _Loop(True, epochs, None, f"{key}.max_epochs")
    if hz.epochs is not None:
        _problem(
            ctx,
            None,
            f"--epochs does not apply: train_cfg is iteration-based ({ITER_LOOP}); set its "
            f"length with --set train_cfg.max_iters=N",
        )
        return None
    max_iters = _whole(ctx, train, "max_iters", key, 1)
    if max_iters is None:
        return None
    return _Loop(False, 1, max_iters, f"{key}.max_iters")


def _members(ctx: Ctx, data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]] | None:
    """(user key, entry) for every param_scheduler entry."""
    raw = data.get("param_scheduler")
    if not _readable(ctx, "param_scheduler", raw):
        return None
    if raw is None:
        _problem(
            ctx,
            "param_scheduler" if "param_scheduler" in data else None,
            "this config has no param_scheduler: mmengine keeps the lr at "
            "optim_wrapper.optimizer.lr, so there is no schedule to show",
        )
        return None
    if isinstance(raw, dict):
        if "type" not in raw and raw and all(isinstance(v, (dict, list)) for v in raw.values()):
            _problem(
                ctx,
                "param_scheduler",
                "param_scheduler per optimizer (a mapping of optimizer names) is not read; lrviz "
                "shows one optimizer's schedule",
            )
            return None
        return [("param_scheduler", raw)]
    if not isinstance(raw, list) or not raw:
        _problem(
            ctx,
            "param_scheduler",
            f"expected dict(type=...) or a non-empty list of them, got {_type(raw)}",
        )
        return None
    out = []
    for i, item in enumerate(raw):
        key = f"param_scheduler[{i}]"
        if not isinstance(item, dict):
            _problem(ctx, key, f"expected dict(type=...), got {_type(item)}")
            continue
        out.append((key, item))
    return out


def _member(
    ctx: Ctx, key: str, node: dict[str, Any], loop: _Loop, iters: int | None
) -> dict[str, Any] | None:
    """One native scheduler: its type, when the hook steps it, and the Runner's defaults."""
    name = _type_name(ctx, node, key)
    if name is None:
        return None
    if name in METRIC_DRIVEN:
        _problem(
            ctx,
            f"{key}.type",
            f"{name} steps on validation metrics, which a config does not contain; lrviz "
            f"cannot show it",
        )
        return None
    if name not in SCHEDULERS:
        _problem(
            ctx,
            f"{key}.type",
            f"{_shown_name(name)} is not one of mmengine's own schedulers"
            f"{did_you_mean(name, SCHEDULERS)}; lrviz builds only those (it never imports a "
            f"module a config names)",
        )
        return None
    kwargs = {k: v for k, v in node.items() if k not in ("type", "_scope_")}
    for reserved in ("step", "frequency"):
        if reserved in kwargs:
            _problem(ctx, f"{key}.{reserved}", f"{name} takes no argument {reserved!r}")
            return None
    if not _readable(ctx, key, kwargs):
        return None
    by_epoch = kwargs.get("by_epoch", True)
    convert = kwargs.get("convert_to_iter_based", False)
    for flag, value in (("by_epoch", by_epoch), ("convert_to_iter_based", convert)):
        if not isinstance(value, bool):
            _problem(ctx, f"{key}.{flag}", f"expected True or False, got {_type(value)}")
            return None
    if convert and not by_epoch:
        _problem(
            ctx,
            f"{key}.convert_to_iter_based",
            "only a by_epoch=True scheduler converts to iterations (mmengine refuses this)",
        )
        return None
    per_iter = convert or not by_epoch
    if per_iter and iters is None and (loop.by_epoch or convert):
        why = "convert_to_iter_based=True" if convert else "by_epoch=False"
        _problem(
            ctx,
            f"{key}.{'convert_to_iter_based' if convert else 'by_epoch'}",
            f"{name} steps every iteration ({why}), and the config does not say how many "
            f"iterations an epoch has: pass --iters N (the len() of the train dataloader)",
        )
        return None
    if "end" not in kwargs:
        # Runner._build_param_scheduler: the train loop's length is the default end.
        end = loop.max_epochs if by_epoch else loop.max_iters
        assert end is not None
        kwargs["end"] = end
        unit = "epochs" if by_epoch else "iterations"
        ctx.notes.append(
            f"{key}: no end, so the train loop's {end:,} {unit} (as the Runner sets it)"
        )
    if convert:
        kwargs.setdefault("epoch_length", iters)
    elif not loop.by_epoch and by_epoch:
        ctx.notes.append(
            f"{key}: {name} is by_epoch in an iteration-based loop, so mmengine steps it once, "
            f"after the last iteration (set by_epoch=False to step it every iteration)"
        )
    return {"type": PREFIX + name, "step": "batch" if per_iter else "epoch", **kwargs}


# --- the provider: mmengine's own schedulers on lrviz's dummy optimizer ----------------------


def _scheduler_module() -> Any:
    """mmengine.optim.scheduler, or None when mmengine is not installed."""
    import warnings

    try:
        with warnings.catch_warnings():
            # mmengine's import pulls in torch.distributed.optim, whose torch.jit.script
            # decorators warn on torch 2.13; that is no warning about the user's schedule.
            warnings.simplefilter("ignore")
            import mmengine.optim.scheduler as scheduler
    except ImportError:
        return None
    return scheduler


def not_installed(type_name: str) -> str:
    """The message for an mmengine scheduler when mmengine is missing."""
    return (
        f"{type_name} is mmengine's own scheduler, and the mmengine package is not installed; "
        f"install lrviz's optional extra: {INSTALL}"
    )


# Keyword arguments the Runner handles itself rather than the constructor.
_NOT_KWARGS = ("optimizer", "param_name", "last_step", "verbose")
_RUNNER_KWARGS = ("convert_to_iter_based", "epoch_length")


def _class(spec: Spec, node: SchedulerSpec, problems: list[Problem]) -> Any:
    module = _scheduler_module()
    if module is None:
        problems.append(spec.problem(f"{node.key}.type", not_installed(node.type)))
        return None
    name = node.type[len(PREFIX) :]
    cls = getattr(module, name, None) if name in (*SCHEDULERS, *METRIC_DRIVEN) else None
    if cls is None:
        problems.append(
            spec.problem(
                f"{node.key}.type",
                f"{node.type!r} is not one of mmengine's schedulers"
                f"{did_you_mean(name, SCHEDULERS)} (one of: {', '.join(SCHEDULERS)})",
            )
        )
        return None
    if name in METRIC_DRIVEN:
        problems.append(
            spec.problem(f"{node.key}.type", f"{name} steps on validation metrics; lrviz cannot")
        )
        return None
    return cls


def _params(cls: Any) -> list[inspect.Parameter]:
    """The constructor's keywords: LinearLR's come from LinearParamScheduler (its mixin passes
    *args and **kwargs through)."""
    init = next(
        k.__init__
        for k in cls.__mro__
        if "__init__" in vars(k)
        and not any(
            p.kind is p.VAR_POSITIONAL for p in inspect.signature(k.__init__).parameters.values()
        )
    )
    return [
        p
        for p in inspect.signature(init).parameters.values()
        if p.name != "self"
        and p.name not in _NOT_KWARGS
        and p.kind is not p.VAR_KEYWORD
        and p.kind is not p.VAR_POSITIONAL
    ]


def check_node(spec: Spec, node: SchedulerSpec, problems: list[Problem]) -> ClassInfo | None:
    """Check an mmengine scheduler node; a ClassInfo for the plan, or None after a problem."""
    from ..catalog import ClassInfo, Param

    cls = _class(spec, node, problems)
    if cls is None:
        return None
    params = _params(cls)
    names = [p.name for p in params]
    if cls.__name__.endswith("ParamScheduler"):
        names.append("param_name")
    allowed = [*names, *_RUNNER_KWARGS]
    for key in node.kwargs:
        if key not in allowed:
            problems.append(
                spec.problem(
                    f"{node.key}.{key}",
                    f"unknown argument for {node.type}{did_you_mean(str(key), allowed)}"
                    f" (arguments: {', '.join(names)})",
                )
            )
    missing = [p.name for p in params if p.default is p.empty and p.name not in node.kwargs]
    if cls.__name__.endswith("ParamScheduler") and "param_name" not in node.kwargs:
        missing.append("param_name")
    for name in missing:
        problems.append(spec.problem(node.key, f"{node.type} needs '{name}'"))
    summary = " ".join(inspect.cleandoc(cls.__doc__ or "").split("\n\n", 1)[0].split())
    info = tuple(
        Param(p.name, "", p.default is p.empty, None if p.default is p.empty else p.default, "")
        for p in params
    )
    return ClassInfo(node.type, cls, info, summary, False, False, False)


def build_node(spec: Spec, node: SchedulerSpec, optimizer: Any) -> Any:
    """mmengine's own scheduler for a node, built as the Runner builds it."""
    problems: list[Problem] = []
    cls = _class(spec, node, problems)
    if cls is None:
        raise SpecError(problems)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from mmengine.registry import PARAM_SCHEDULERS

    kwargs = dict(node.kwargs)
    default_args: dict[str, Any] = {"optimizer": optimizer}
    if "epoch_length" in kwargs:
        default_args["epoch_length"] = kwargs.pop("epoch_length")
    try:
        # The registry's build function calls build_iter_from_epoch for convert_to_iter_based.
        return PARAM_SCHEDULERS.build({"type": cls, **kwargs}, default_args=default_args)
    except Exception as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise SpecError(
            [spec.problem(node.key, f"{node.type} rejected its arguments: {text}")]
        ) from exc
