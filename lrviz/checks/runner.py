"""One spec file -> its findings: load, validate, run, apply rules, expectations, golden."""

from __future__ import annotations

from pathlib import Path

from ..errors import Problem, SpecError, UsageError
from ..load import Options
from . import registry
from .expect import check_expectations, read_ignore
from .golden import DEFAULT_RTOL, compare
from .model import ERROR, FileResult, Finding


def check_spec(
    arg: str,
    options: Options | None = None,
    *,
    ignore: frozenset[str] = frozenset(),
    golden: Path | None = None,
    rtol: float = DEFAULT_RTOL,
    debug: bool = False,
) -> FileResult:
    """Every finding for one SPEC argument; no failure in one file stops a check of many.

    Spec errors become LRV001 findings; anything unexpected an LRV000 finding for this file
    (with `debug`, it is raised instead, so --debug shows the traceback).
    """
    try:
        return _check_spec(arg, options, ignore=ignore, golden=golden, rtol=rtol)
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:
        if debug:
            raise
        text = " ".join(str(exc).split())[:300]
        message = (
            f"internal error: {type(exc).__name__}: {text}; re-run with --debug for the traceback"
        )
        return _finish(arg, [Finding("LRV000", ERROR, None, None, message)], ignore)


def _check_spec(
    arg: str,
    options: Options | None,
    *,
    ignore: frozenset[str],
    golden: Path | None,
    rtol: float,
) -> FileResult:
    from ..build import plan as make_plan
    from ..load import load_spec
    from ..simulation import run
    from .context import make_ctx
    from .rules import apply

    options = options or Options()
    try:
        spec = load_spec(arg, options)
    except SpecError as exc:
        return _finish(arg, _problems(exc.problems), ignore)
    except UsageError as exc:  # unreadable file, a --set that does not fit this spec
        text = str(exc)
        text = text[len(arg) + 2 :] if text.startswith(f"{arg}: ") else text
        return _finish(arg, [Finding("LRV001", ERROR, None, None, text)], ignore)
    own, findings = read_ignore(spec)
    try:
        plan = make_plan(spec, max_rows=options.max_rows)
        trace = run(plan)
    except SpecError as exc:
        findings += _problems(exc.problems) + check_expectations(spec, None)
        return _finish(arg, findings, ignore | own)
    findings += apply(make_ctx(plan, trace))
    findings += check_expectations(spec, trace, plan.rows)
    if golden is not None:
        findings += compare(trace, golden, rtol, spec_arg=arg)
    return _finish(arg, findings, ignore | own)


def _problems(problems: list[Problem]) -> list[Finding]:
    out = []
    for p in problems:
        # A problem caused by a --set override says so (it has no line in the file).
        where = f"{p.source}: " if p.source.startswith("--set") else ""
        out.append(Finding("LRV001", ERROR, p.line, p.key, f"{where}{p.message}"))
    return out


def _finish(arg: str, findings: list[Finding], ignore: frozenset[str] | set[str]) -> FileResult:
    kept = [f for f in findings if f.rule not in ignore or not registry.RULES[f.rule].silenceable]
    kept.sort(key=lambda f: (f.line or 0, f.rule))
    return FileResult(arg, kept, silenced=len(findings) - len(kept))
