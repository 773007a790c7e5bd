"""The errors a user can see; the CLI turns each into a message and an exit code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class LrvizError(Exception):
    """Base of every error lrviz reports without a traceback."""

    exit_code = 2


class UsageError(LrvizError):
    """A command line that cannot be acted on (exit 2)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec: where it is and what is wrong."""

    source: str  # file path, "<preset name>", or "--set"
    key: str | None  # dotted key path such as "scheduler.step_size"
    line: int | None  # 1-based YAML line
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.message}"


class SpecError(LrvizError):
    """A spec that cannot be run (exit 2); carries every problem found in it."""

    def __init__(self, problems: list[Problem]) -> None:
        # Reported in file order, so a reader can walk down the file fixing them.
        self.problems = sorted(problems, key=lambda p: (p.source, p.line or 0))
        super().__init__("\n".join(str(p) for p in self.problems))


class ExprError(LrvizError):
    """An lr_lambda/scale_fn expression that is not allowed, with a caret under the culprit."""

    def __init__(self, message: str, text: str, start: int = 0, end: int | None = None) -> None:
        self.message = message
        self.text = text
        self.start = max(0, min(start, len(text)))
        self.end = max(self.start + 1, end if end is not None else self.start + 1)
        super().__init__(self.render())

    def render(self, indent: str = "  ") -> str:
        """The message, the expression, and a caret line under the offending span."""
        width = min(self.end, max(len(self.text), self.start + 1)) - self.start
        caret = " " * (len("expr: ") + self.start) + "^" * max(1, width)
        return f"{self.message}\n{indent}expr: {self.text}\n{indent}{caret}"


class ExprEvalError(ArithmeticError):
    """An allowed expression failed for one input (division by zero, overflow, domain)."""


class RunError(LrvizError):
    """torch raised while producing row `step`; rows before it are valid (exit 1)."""

    exit_code = 1

    def __init__(self, step: int, message: str) -> None:
        self.step = step
        self.message = message
        super().__init__(f"run failed at row {step}: {message}")


def did_you_mean(word: str, options: Sequence[str]) -> str:
    """A '; did you mean 'x'?' suffix for the closest option, or '' when none is close."""
    import difflib

    lowered: dict[str, str] = {}
    for option in options:
        lowered.setdefault(option.lower(), option)  # earlier options win a case-folded tie
    key = word.lower()
    hits = difflib.get_close_matches(key, list(lowered), n=1, cutoff=0.6)
    if not hits and len(key) >= 3:  # "cosine" -> "CosineAnnealingLR": a prefix is a good guess
        hits = sorted((o for o in lowered if o.startswith(key)), key=len)[:1]
    return f"; did you mean '{lowered[hits[0]]}'?" if hits else ""
