"""Files a spec names (a metrics CSV, a base config): confined to the project tree; no torch.

Specs arrive in pull requests and run in CI, so a path written inside one is untrusted: it
must resolve (symlinks followed) to a regular file inside the project tree, its size is
capped, and no message ever quotes its content (a CI log or a PR annotation is public).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path, PurePath

from .errors import UsageError

MAX_FILE_BYTES = 64 * 2**20  # a training log of a few million rows; /dev/zero stops here
MAX_SPEC_FILE_BYTES = 5_000_000  # a schedule file is a few hundred bytes


_reads: ContextVar[list[Path] | None] = ContextVar("lrviz_reads", default=None)


@contextlib.contextmanager
def recording_reads() -> Iterator[list[Path]]:
    """Inside: every file read_text is asked for (found or not) is listed; `lrviz watch`
    watches them: the spec, its metrics CSV, its base configs."""
    reads: list[Path] = []
    token = _reads.set(reads)
    try:
        yield reads
    finally:
        _reads.reset(token)


class Refused(Exception):
    """A path or file a spec may not use; the message names the file, never its content."""


def project_root(spec_file: Path) -> Path:
    """The tree a spec's paths must stay in: its nearest ancestor holding .git, else its folder."""
    folder = spec_file.resolve().parent
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


def confine(name: str, base_dir: Path, root: Path) -> Path:
    """The file `name` (relative to `base_dir`) if it is a regular file inside `root`."""
    if not name.strip():
        raise Refused("empty path")
    if PurePath(name).is_absolute() or name.startswith("~") or PurePath(name).drive:
        raise Refused(f"{name!r} is an absolute path; write it relative to the spec file")
    target = (base_dir / name).resolve()
    tree = root.resolve()
    if not target.is_relative_to(tree):
        raise Refused(
            f"{name!r} resolves outside the project tree {tree}; "
            f"pass --root DIR to name another tree"
        )
    return target


def read_text(path: Path, label: str, limit: int | None = None) -> str:
    """A regular UTF-8 file's text, at most `limit` bytes; Refused otherwise (content unquoted)."""
    limit = MAX_FILE_BYTES if limit is None else limit
    reads = _reads.get()
    if reads is not None:
        reads.append(Path(path))
    try:
        # O_NONBLOCK: opening a FIFO must not hang; the fstat below then refuses it.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise Refused(f"{label}: no such file") from None
    except IsADirectoryError:
        raise Refused(f"{label}: is a folder, not a file") from None
    except OSError as exc:
        raise Refused(f"{label}: cannot read ({exc.strerror or type(exc).__name__})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = "is a folder, not a file" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise Refused(f"{label}: {kind}")
    if info.st_size > limit:
        os.close(fd)
        raise Refused(f"{label}: {info.st_size:,} bytes, more than the limit of {limit:,}")
    with os.fdopen(fd, "rb") as fh:
        raw = fh.read(limit + 1)  # files that lie about their size (/proc) stop here too
    if len(raw) > limit:
        raise Refused(f"{label}: more than the limit of {limit:,} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise Refused(f"{label}: not UTF-8 text (invalid byte at line {line})") from None


def read_spec_file(arg: str) -> str:
    """A command-line SPEC file's text (the user's own path: not confined, but bounded)."""
    try:
        return read_text(Path(arg), arg, MAX_SPEC_FILE_BYTES)
    except Refused as exc:
        raise UsageError(str(exc)) from None
