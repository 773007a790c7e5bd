"""The README's and docs/'s examples as tests: how a page's code blocks are read and run.

The convention (docs/development.md, "Tested documentation"):

- A ```console block holds commands, each on a line that starts with `$ `, followed by the
  output it prints (stdout and stderr as a terminal shows them). `$ lrviz ...` runs in this
  process through typer's CliRunner with COLUMNS=100, no colour and no display; `$ python`,
  `$ head` and other programs run as processes. A `VAR=value` before the command sets an
  environment variable; a trailing `\\` continues the command on the next line. A command must
  exit 0, unless its output shows a line that starts with `error:` (then 1 or 2) or its `$`
  line ends with the comment `# exit status N` (then N).
- A line that is exactly `...` in an output stands for lines left out: the shown lines must
  then appear in order, each run of them contiguous (the first run at the start unless the
  output begins with `...`, the last at the end unless it ends with `...`). Without a `...`
  line the whole output must be equal. Trailing spaces are ignored.
- ```python blocks run in order in one namespace per page; a ```text block marked `output`
  is what the python block above it prints.
- ```yaml and ```json blocks are specs: each is loaded with lrviz's loader (lrviz.api.make_plan)
  and, marked `file=NAME`, written to NAME for the blocks after it.
- Every page runs in a fresh temporary folder, blocks in page order. The folder holds an
  empty `.git`, so it is a project tree (see docs/safety.md) as a user's checkout is; an
  output that names the folder shows it as `~/project`.

A directive is an HTML comment on the line before the opening fence (GitHub does not show it):
`<!-- test: ITEM; ITEM -->`, where ITEM is one of

    file=NAME          write the block to NAME (yaml, json, python and text blocks)
    args=FLAGS         the flags a yaml/json spec is loaded with (--iters 4 --set a=b ...)
    copy=SRC[:DEST]    before the block, copy SRC (a file or folder of the repository) to DEST
    output             a text block: the stdout of the python block before it
    not a spec: WHY    a yaml or json block that is not an lrviz spec (parsed as YAML only)
    not compared: WHY  console: the commands run and their exit status is checked, not the output
    not run: WHY       the block is not executed at all (a package install, a long-running command)

`WHY` is required: a block is left unexecuted or uncompared only for a stated reason.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

# What a reader's terminal is assumed to be: 100 columns, no colour, no display, not CI.
CLI_ENV: dict[str, str | None] = {
    "COLUMNS": "100",
    "LINES": None,
    "NO_COLOR": None,
    "FORCE_COLOR": None,
    "TERM": "dumb",
    "CI": None,
    "GITHUB_ACTIONS": None,
    "DISPLAY": None,
    "WAYLAND_DISPLAY": None,
    "MPLBACKEND": None,
}

FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)\s*$")
DIRECTIVE = re.compile(r"^\s*<!--\s*test:\s*(?P<items>.*?)\s*-->\s*$")
ELISION = "..."
PROJECT = "~/project"  # how outputs show the page's temporary folder


class DocError(AssertionError):
    """An example whose output or effect is not what its page shows."""


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    end: int  # 1-based line of the closing fence
    indent: int
    lang: str
    text: str
    directive: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"

    def reason(self, key: str) -> str | None:
        return self.directive.get(key)


def parse_directive(items: str, where: str) -> dict[str, str]:
    """`file=a.yaml; args=--iters 4; not compared: WHY` -> a dict (a reason runs to the end)."""
    found: dict[str, str] = {}
    reasoned = re.search(r"\b(not a spec|not compared|not run)\b\s*(:?)(.*)$", items)
    if reasoned:
        items = items[: reasoned.start()]
        if not reasoned[2] or not reasoned[3].strip():
            raise DocError(f"{where}: '{reasoned[1]}' needs a reason ('{reasoned[1]}: why')")
        found[reasoned[1]] = reasoned[3].strip()
    for item in (part.strip() for part in items.split(";")):
        if not item:
            continue
        key, sep, value = (part.strip() for part in item.partition("="))
        if key not in {"file", "args", "copy", "output"}:
            raise DocError(f"{where}: unknown test directive {item!r}")
        if key == "copy" and key in found:
            value = f"{found[key]},{value}"
        found[key] = value if sep else ""
    return found


def blocks(page: Path) -> list[Block]:
    """The page's fenced code blocks, each with the directive above it (if any)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, start = len(match["indent"]), i
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
            i += 1
        if i == len(lines):
            raise DocError(f"{page.relative_to(REPO)}:{start + 1}: unclosed code block")
        before = start - 1
        while before >= 0 and not lines[before].strip():
            before -= 1
        directive: dict[str, str] = {}
        where = f"{page.relative_to(REPO)}:{start + 1}"
        if before >= 0 and (hit := DIRECTIVE.match(lines[before])):
            directive = parse_directive(hit["items"], where)
        text = "\n".join(body) + "\n"
        found.append(Block(page, start + 1, i + 1, indent, match["lang"], text, directive))
        i += 1
    return found


# --- comparing outputs ----------------------------------------------------------------------


def normalise(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def is_abridged(expected: list[str]) -> bool:
    return any(line.strip() == ELISION for line in expected)


def compare(expected: list[str], actual: list[str]) -> str | None:
    """None when `actual` is what `expected` shows (with `...` lines as elisions), else why not."""
    if not is_abridged(expected):
        if expected == actual:
            return None
        return _first_difference(expected, actual)
    runs: list[list[str]] = [[]]
    for line in expected:
        if line.strip() == ELISION:
            runs.append([])
        else:
            runs[-1].append(line)
    if not any(runs):
        return "an output of '...' alone shows nothing: show the lines that matter"
    head, tail, middle = runs[0], runs[-1], runs[1:-1]
    if actual[: len(head)] != head:
        return "the output does not start with the lines shown before the first '...'"
    pos = len(head)
    for run in (r for r in middle if r):
        at = _find(actual, run, pos)
        if at is None:
            return f"these lines do not appear (in order, together) after line {pos}: {run}"
        pos = at + len(run)
    if tail and (len(actual) - len(tail) < pos or actual[len(actual) - len(tail) :] != tail):
        return "the output does not end with the lines shown after the last '...'"
    return None


def _find(actual: list[str], run: list[str], start: int) -> int | None:
    for at in range(start, len(actual) - len(run) + 1):
        if actual[at : at + len(run)] == run:
            return at
    return None


def _first_difference(expected: list[str], actual: list[str]) -> str:
    for n, (want, got) in enumerate(zip(expected, actual, strict=False), 1):
        if want != got:
            return f"line {n} differs:\n  shown:  {want!r}\n  actual: {got!r}"
    if len(expected) < len(actual):
        extra = actual[len(expected)]
        return f"the output has more lines than shown, from line {len(expected) + 1}: {extra!r}"
    return f"the output ends at line {len(actual)}; the page shows {len(expected)} lines"


# --- running a page ---------------------------------------------------------------------------


@dataclass
class Command:
    line: int  # the `$` line's number in the page
    argv: list[str]
    env: dict[str, str]
    expected: list[str]
    status: int | None  # from `# exit status N`; None: 0, or 1/2 when an error: line is shown
    source: list[str]  # the command's own lines, as the page writes them


def commands(block: Block) -> list[Command]:
    lines = block.text.splitlines()
    found: list[Command] = []
    i = 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            raise DocError(f"{block.where}: output before the first '$ ' command: {lines[i]!r}")
        number = block.line + 1 + i
        first = i
        text = lines[i][2:]
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text[:-1] + " " + lines[i].strip()
        i += 1
        source = lines[first:i]
        output: list[str] = []
        while i < len(lines) and not lines[i].startswith("$ "):
            output.append(lines[i])
            i += 1
        stated = re.search(r"#\s*exit status (\d+)\s*$", text)
        argv = shlex.split(text, comments=True)
        env: dict[str, str] = {}
        while argv and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", argv[0]):
            key, _, value = argv.pop(0).partition("=")
            env[key] = value
        if not argv:
            raise DocError(f"{block.where}: an empty command")
        status = int(stated[1]) if stated else None
        found.append(Command(number, argv, env, normalise("\n".join(output)), status, source))
    return found


def run_command(command: Command, folder: Path) -> tuple[str, int]:
    """The command's terminal output (stdout and stderr interleaved) and exit status."""
    output, status = _run(command, folder)
    for path in sorted({str(folder), str(folder.resolve())}, key=len, reverse=True):
        output = output.replace(path, PROJECT)
    return output, status


def _run(command: Command, folder: Path) -> tuple[str, int]:
    if command.argv[0] == "lrviz":
        from typer.testing import CliRunner

        from lrviz.cli import app

        result = CliRunner().invoke(
            app, command.argv[1:], env={**CLI_ENV, **command.env}, catch_exceptions=False
        )
        return result.output, result.exit_code
    argv = [sys.executable, *command.argv[1:]] if command.argv[0] == "python" else command.argv
    env = {k: v for k, v in {**os.environ, **CLI_ENV, **command.env}.items() if v is not None}
    done = subprocess.run(
        argv, cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    return done.stdout + done.stderr, done.returncode


@contextlib.contextmanager
def inside(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


@dataclass
class Outcome:
    """What running a page did: counts for the report, fresh outputs for `--update`."""

    executed: int = 0
    compared: int = 0
    skipped: list[str] = field(default_factory=list)
    uncompared: list[str] = field(default_factory=list)
    updates: dict[int, tuple[int, str]] = field(default_factory=dict)  # fence line -> (end, text)


class PageRun:
    def __init__(
        self, page: Path, folder: Path, update: bool = False, only: set[str] | None = None
    ) -> None:
        """`only`: run just these kinds of block (`{"python", "text"}`: the Python examples)."""
        self.page, self.folder, self.update, self.only = page, folder, update, only
        self.namespace: dict[str, object] = {"__name__": "__docs__"}
        self.last_stdout: str | None = None
        self.outcome = Outcome()

    def run(self) -> Outcome:
        problems: list[str] = []
        (self.folder / ".git").mkdir(exist_ok=True)
        with inside(self.folder), warnings.catch_warnings():
            warnings.simplefilter("error")
            for block in blocks(self.page):
                try:
                    self.block(block)
                except DocError as exc:
                    problems.append(str(exc))
        if problems:
            raise DocError("\n\n".join(problems))
        return self.outcome

    def block(self, block: Block) -> None:
        if self.only is not None and block.lang not in self.only:
            return
        for item in filter(None, block.directive.get("copy", "").split(",")):
            source, _, dest = item.partition(":")
            self.copy(REPO / source.strip(), self.folder / (dest.strip() or Path(source).name))
        if "not run" in block.directive:
            self.outcome.skipped.append(f"{block.where} ({block.directive['not run']})")
            return
        handler = {
            "console": self.console,
            "python": self.python,
            "yaml": self.spec,
            "json": self.spec,
            "text": self.text,
        }.get(block.lang)
        if handler is None:
            raise DocError(
                f"{block.where}: a ```{block.lang or '(no language)'} block is not run by the "
                "docs tests: use console, python, yaml, json or text, or mark it "
                "'<!-- test: not run: WHY -->'"
            )
        handler(block)
        self.outcome.executed += 1

    @staticmethod
    def copy(source: Path, dest: Path) -> None:
        if not source.exists():
            raise DocError(f"copy: {source.relative_to(REPO)} does not exist")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, dest, dirs_exist_ok=True)
        else:
            shutil.copyfile(source, dest)

    def write(self, block: Block) -> None:
        if name := block.directive.get("file"):
            target = self.folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")

    def console(self, block: Block) -> None:
        unchecked = block.reason("not compared")
        fresh: list[str] = []
        changed = False
        for command in commands(block):
            output, status = run_command(command, self.folder)
            actual = normalise(output)
            shown = " ".join(shlex.quote(a) for a in command.argv)
            if command.status is not None:
                expected_status = {command.status}
            elif any(line.startswith("error:") for line in command.expected):
                expected_status = {1, 2}
            else:
                expected_status = {0}
            if status not in expected_status:
                wanted = " or ".join(map(str, sorted(expected_status)))
                raise DocError(
                    f"{block.where}: `{shown}` exited {status}, not {wanted} as the page "
                    "shows. Its output:\n" + "\n".join(actual)
                )
            fresh.extend(command.source)
            # an abridged output stays as the page abridges it; only whole outputs are renewed
            fresh.extend(command.expected if is_abridged(command.expected) else actual)
            if unchecked is not None:
                continue
            why = compare(command.expected, actual)
            if why is not None:
                if self.update and not is_abridged(command.expected):
                    changed = True
                    continue
                raise DocError(
                    f"{block.where}: the output of `{shown}` (line {command.line}) is not what "
                    f"the page shows: {why}\nThe actual output:\n" + "\n".join(actual)
                )
            self.outcome.compared += 1
        if unchecked is not None:
            self.outcome.uncompared.append(f"{block.where} ({unchecked})")
        if changed:
            self.outcome.updates[block.line] = (block.end, "\n".join(fresh) + "\n")

    def python(self, block: Block) -> None:
        self.write(block)
        stdout = io.StringIO()
        code = compile(block.text, block.where, "exec")
        with contextlib.redirect_stdout(stdout):
            exec(code, self.namespace)
        self.last_stdout = stdout.getvalue()

    def text(self, block: Block) -> None:
        if "output" in block.directive:
            if self.last_stdout is None:
                raise DocError(f"{block.where}: an 'output' block with no python block before it")
            why = compare(normalise(block.text), normalise(self.last_stdout))
            if why is not None:
                raise DocError(
                    f"{block.where}: the python block above prints something else: {why}\n"
                    f"It prints:\n{self.last_stdout}"
                )
            self.outcome.compared += 1
            self.last_stdout = None
            return
        if "file" in block.directive:
            self.write(block)
            return
        raise DocError(
            f"{block.where}: a ```text block must be an 'output' or a 'file=NAME', "
            "or be marked 'not run: WHY'"
        )

    def spec(self, block: Block) -> None:
        import yaml

        self.write(block)
        if "not a spec" in block.directive:
            if block.lang == "json":
                json.loads(block.text)
            else:
                yaml.safe_load(block.text)
            return
        from lrviz.api import make_plan
        from lrviz.errors import LrvizError

        name = block.directive.get("file") or f"block_{block.line}.{block.lang}"
        path = self.folder / name
        if "file" not in block.directive:
            path.write_text(block.text, encoding="utf-8")
        try:
            make_plan(path, **spec_options(block.directive.get("args", ""), block.where))
        except LrvizError as exc:
            raise DocError(f"{block.where}: the spec does not load: {exc}") from None
        finally:
            if "file" not in block.directive:
                path.unlink()


def spec_options(args: str, where: str) -> dict[str, object]:
    """`--epochs 3 --iters 4 --step batch --set k=v --from hf` as make_plan's keywords."""
    words = shlex.split(args)
    options: dict[str, object] = {}
    overrides: list[str] = []
    names = {
        "--epochs": "epochs",
        "--iters": "iters_per_epoch",
        "--step": "step",
        "--from": "source_format",
    }
    for flag, value in zip(words[::2], words[1::2], strict=True):
        if flag == "--set":
            overrides.append(value)
        elif flag in names:
            options[names[flag]] = int(value) if flag in ("--epochs", "--iters") else value
        else:
            raise DocError(f"{where}: args: unknown flag {flag!r}")
    return {**options, "overrides": overrides}


def apply_updates(page: Path, updates: dict[int, tuple[int, str]]) -> None:
    """Rewrite whole (unabridged) console blocks with the outputs just produced."""
    lines = page.read_text(encoding="utf-8").splitlines(keepends=True)
    for start, (end, text) in sorted(updates.items(), reverse=True):
        indent = " " * (len(lines[start - 1]) - len(lines[start - 1].lstrip(" ")))
        body = [f"{indent}{line}\n" if line else "\n" for line in text.splitlines()]
        lines[start : end - 1] = body
    page.write_text("".join(lines), encoding="utf-8")


# --- links and anchors ------------------------------------------------------------------------


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, numbered."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    for line in prose(page).splitlines():
        if match := re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line):
            slug = re.sub(r"[^\w\- ]", "", match[1].lower()).replace(" ", "-")
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            found.add(slug if n == 0 else f"{slug}-{n}")
        for explicit in re.findall(r'<a (?:name|id)="([^"]+)"', line):
            found.add(explicit)
    return found


def prose(page: Path) -> str:
    """The page without its code blocks (links inside code are not links)."""
    out: list[str] = []
    in_code = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        if not in_code:
            out.append(line)
    return "\n".join(out)


LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
