"""CSV text of a streamed run, formatted in a second process while torch simulates the next rows.

Formatting every float as its shortest round-trip text (repr, docs/cli.md) costs about as
much as the simulation itself. A forked process turns each chunk of rows into CSV bytes while
this one steps the scheduler; the bytes come back in order and are written here, so the file
is the same, byte for byte, and still written atomically by the caller.
"""

from __future__ import annotations

import os
import pickle
import queue
import signal
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..trace import Trace

MIN_ROWS = 200_000  # below this a second process costs more than it saves
PIPE_CHUNK_ROWS = 25_000  # small chunks: only the last one's formatting is not overlapped
IN_FLIGHT = 2  # chunks handed over and not back; more waiting, and this process formats too
HELD = 8  # chunks formatted or handed over but not yet written: bounds the memory held
POLL_SECONDS = 0.5  # how often a wait for the formatter checks that it is still alive


def pipelined(rows: int) -> bool:
    """Whether a run of `rows` rows is formatted in a second process."""
    return rows >= MIN_ROWS and _can_fork()


def chunk_rows(rows: int) -> int | None:
    """Rows per simulated chunk for this export (None: the simulation's default)."""
    return PIPE_CHUNK_ROWS if pipelined(rows) else None


def csv_chunks(parts: Iterable[Trace], rows: int) -> Iterator[str | bytes]:
    """The CSV of consecutive chunks of one run (header first), in order.

    Each chunk is used up before the next is asked for: chunks share buffers.
    """
    if not pipelined(rows):
        from ..render.text import iter_csv

        for i, part in enumerate(parts):
            yield from iter_csv(part, with_header=i == 0)
        return
    yield from _Pipeline().run(parts)


def _can_fork() -> bool:
    """fork exists, and Python will not warn that this process already runs threads (3.12+)."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    if sys.version_info < (3, 12):
        return True
    try:
        threads = len(os.listdir("/proc/self/task"))
    except OSError:
        threads = threading.active_count()
    return threads == 1


class _Pipeline:
    """A forked formatter process fed chunk by chunk through queues."""

    def __init__(self) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        self.jobs: Any = ctx.Queue()
        self.results: Any = ctx.Queue()
        self.proc = ctx.Process(target=_serve, args=(self.jobs, self.results), daemon=True)
        self.proc.start()

    def run(self, parts: Iterable[Trace]) -> Iterator[bytes]:
        from ..render.text import iter_csv

        # In write order: text formatted here, or None for the formatter's next result.
        pending: deque[bytes | None] = deque()
        remote = 0  # chunks handed over and not yet back
        try:
            for i, part in enumerate(parts):
                if remote < IN_FLIGHT:
                    # Pickled now, not by the queue's thread later: the next chunk reuses
                    # the arrays.
                    job = pickle.dumps((_portable(part), i == 0), pickle.HIGHEST_PROTOCOL)
                    self.jobs.put(job)
                    pending.append(None)
                    remote += 1
                else:  # the formatter is behind (its core is busy): share its work
                    text = "".join(iter_csv(part, with_header=i == 0))
                    pending.append(text.encode("utf-8"))
                # Write whatever is ready, in order; wait only when too much is held.
                while pending and (
                    pending[0] is not None or not self.results.empty() or len(pending) > HELD
                ):
                    head = pending.popleft()
                    if head is None:
                        head = self._next()
                        remote -= 1
                    yield head
            self.jobs.put(None)
            while pending:
                head = pending.popleft()
                yield self._next() if head is None else head
            self.proc.join()
        finally:
            if self.proc.is_alive():  # Ctrl-C, a failed write, or a failed simulation
                self.proc.kill()
                self.proc.join()
            for q in (self.jobs, self.results):
                q.cancel_join_thread()  # nothing left to deliver to a process that is gone
                q.close()

    def _next(self) -> bytes:
        while True:
            try:
                ok, data = self.results.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not self.proc.is_alive():
                    raise RuntimeError(
                        f"the CSV formatter process stopped (exit code {self.proc.exitcode})"
                    ) from None
                continue
            if not ok:
                raise RuntimeError(f"the CSV formatter process failed: {data}")
            return bytes(data)


def _portable(part: Trace) -> Trace:
    """The chunk without its Plan (which holds torch objects and compiled expressions)."""
    import dataclasses

    return dataclasses.replace(part, plan=None)


def _serve(jobs: Any, results: Any) -> None:
    """The formatter process: chunks in, CSV bytes out, until None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's; it stops this process
    from ..render.text import iter_csv

    while (job := jobs.get()) is not None:
        try:
            part, first = pickle.loads(job)
            results.put((True, "".join(iter_csv(part, with_header=first)).encode("utf-8")))
        except Exception as exc:
            results.put((False, f"{type(exc).__name__}: {exc}"))
            return
