"""What a check produces: findings per file, and the report over all files (torch-free)."""

from __future__ import annotations

from dataclasses import dataclass, field

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem in one spec file: which rule, how bad, where, and what."""

    rule: str  # stable id such as "LRV003"
    severity: str  # "error" or "warning"
    line: int | None  # 1-based YAML line, None when the finding has no single place
    key: str | None  # key path such as "scheduler.T_max"
    message: str

    def as_dict(self) -> dict[str, object]:
        """The finding as docs/cli.md writes it."""
        return {
            "id": self.rule,
            "severity": self.severity,
            "line": self.line,
            "key": self.key,
            "message": self.message,
        }


@dataclass
class FileResult:
    """The findings of one spec file, after silencing."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    silenced: int = 0

    @property
    def errors(self) -> int:
        return sum(f.severity == ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == WARNING for f in self.findings)

    def ok(self, strict: bool = False) -> bool:
        """No error, and under --strict no finding at all."""
        return not self.findings if strict else self.errors == 0


@dataclass
class Report:
    """The result of `lrviz check` over every file it was given."""

    files: list[FileResult]
    strict: bool = False

    @property
    def ok(self) -> bool:
        return all(f.ok(self.strict) for f in self.files)

    def summary(self) -> dict[str, int]:
        """Counts for the summary line and the JSON summary."""
        return {
            "files": len(self.files),
            "errors": sum(f.errors for f in self.files),
            "warnings": sum(f.warnings for f in self.files),
            "silenced": sum(f.silenced for f in self.files),
        }
