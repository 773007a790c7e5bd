"""Golden snapshots: compare a run's rows with the CSV `lrviz snapshot` wrote earlier."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING

from ..trace import Trace
from . import registry
from .model import Finding

if TYPE_CHECKING:
    import numpy as np

DEFAULT_RTOL = 1e-12


def _finding(message: str) -> Finding:
    return Finding("LRV018", registry.RULES["LRV018"].severity, None, None, message)


def _read(text: str) -> tuple[list[str], np.ndarray]:
    """CSV text -> (header, float matrix); empty cells (no momentum) are NaN."""
    import numpy as np

    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    rows = [[float(c) if c else np.nan for c in row] for row in reader if row]
    return header, np.array(rows, dtype=np.float64).reshape(len(rows), len(header))


def compare(
    trace: Trace, path: Path, rtol: float = DEFAULT_RTOL, spec_arg: str = "SPEC"
) -> list[Finding]:
    """LRV018 findings: columns, row count, and the first row that differs beyond rtol."""
    import numpy as np

    from ..render.text import iter_csv

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [
            _finding(f"no golden file {path}; write it with: lrviz snapshot {spec_arg} -o {path}")
        ]
    except (OSError, UnicodeDecodeError) as exc:
        return [_finding(f"cannot read golden file {path}: {exc}")]
    try:
        old_header, old = _read(text)
    except ValueError as exc:
        return [_finding(f"golden file {path} is not an lrviz CSV: {exc}")]
    new_header, new = _read("".join(iter_csv(trace)))
    if old_header != new_header:
        return [
            _finding(
                f"columns differ from golden {path}: golden has {', '.join(old_header)}; "
                f"the run has {', '.join(new_header)}"
            )
        ]
    found = []
    if old.shape[0] != new.shape[0]:
        found.append(
            _finding(f"golden {path} has {old.shape[0]:,} rows, the run has {new.shape[0]:,}")
        )
    n = min(old.shape[0], new.shape[0])
    a, b = old[:n], new[:n]
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    close = np.abs(a - b) <= rtol * np.maximum(np.abs(a), np.abs(b))
    bad_rows = np.flatnonzero(~(same | close).all(axis=1))
    if bad_rows.size:
        k = int(bad_rows[0])
        c = int(np.flatnonzero(~(same | close)[k])[0])
        x, y = float(a[k, c]), float(b[k, c])
        scale = max(abs(x), abs(y))
        rel = f"relative difference {abs(x - y) / scale:.2g}" if scale else "different"
        found.append(
            _finding(
                f"differs from golden {path} at row {k:,}, column {new_header[c]}: golden "
                f"{x!r}, now {y!r} ({rel}, rtol {rtol:g}); {bad_rows.size:,} of {n:,} rows differ"
            )
        )
    return found
