"""One benchmark case per process, so each peak-memory figure is its own: prints one JSON line.

    python benchmarks/cases.py CASE ROWS OUTDIR

Every case simulates the same schedule: OneCycleLR stepped per batch, 4 param groups, SGD with
momentum; ROWS rows (1000 batches per epoch). Times exclude interpreter start and `import torch`
(the same for everyone); peak memory is the process's maximum RSS.
"""

from __future__ import annotations

import csv
import json
import resource
import sys
import time
from pathlib import Path

import torch

ITERS = 1000
GROUPS = 4
MAX_LR = [0.1, 0.2, 0.3, 0.4]


def spec_text(rows: int) -> str:
    """The benchmark schedule as an lrviz spec."""
    return (
        "description: benchmark schedule (OneCycleLR per batch, 4 groups, SGD momentum)\n"
        "optimizer: {type: SGD, lr: 0.1, momentum: 0.9}\n"
        "param_groups: [{lr: 0.1}, {lr: 0.2}, {lr: 0.3}, {lr: 0.4}]\n"
        f"scheduler: {{type: OneCycleLR, max_lr: {MAX_LR}}}\n"
        f"run: {{epochs: {rows // ITERS}, iters_per_epoch: {ITERS}, step: batch}}\n"
    )


def _make(rows: int):
    params = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in MAX_LR]
    optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=MAX_LR, total_steps=rows)
    return optimizer, scheduler


def hand_written(rows: int, out: Path) -> None:
    """What a user writes by hand: step both every row, append to lists, write a CSV."""
    optimizer, scheduler = _make(rows)
    lrs, moms = [], []
    for _ in range(rows):
        lrs.append([g["lr"] for g in optimizer.param_groups])
        moms.append([g["momentum"] for g in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    with (out / "hand.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["step"] + [f"lr{g}" for g in range(GROUPS)] + [f"momentum{g}" for g in range(GROUPS)]
        )
        for k, (lr, mom) in enumerate(zip(lrs, moms, strict=True)):
            writer.writerow([k, *lr, *mom])


def floor(rows: int, out: Path) -> None:
    """torch's own cost: scheduler.step() alone, recording into preallocated numpy arrays."""
    import numpy as np

    optimizer, scheduler = _make(rows)
    lr = np.empty((rows, GROUPS))
    mom = np.empty((rows, GROUPS))
    groups = optimizer.param_groups
    optimizer.step()
    step = scheduler.step
    for k in range(rows):
        row_lr, row_mom = lr[k], mom[k]
        for g in range(GROUPS):
            pg = groups[g]
            row_lr[g] = pg["lr"]
            row_mom[g] = pg["momentum"]
        step()


def lrviz_simulate(rows: int, out: Path) -> None:
    """lrviz's simulation alone (spec -> plan -> Trace)."""
    from lrviz.load import load_plan
    from lrviz.simulation import run

    spec = out / "bench.yaml"
    spec.write_text(spec_text(rows))
    run(load_plan(str(spec), _options(rows)))


def lrviz_export_csv(rows: int, out: Path) -> None:
    """lrviz end to end, in process: the CLI writing every row to CSV."""
    from lrviz.cli import app

    spec = out / "bench.yaml"
    spec.write_text(spec_text(rows))
    _cli(app, ["export", str(spec), "-o", str(out / "lrviz.csv"), "--max-rows", str(rows)])


def lrviz_csv_only(rows: int, out: Path) -> None:
    """CSV writing alone, of a Trace shaped like the benchmark's (not simulated: not timed)."""
    import numpy as np

    from lrviz.render.text import iter_csv
    from lrviz.trace import Trace

    # One-cycle-like curves: every value distinct, as long as torch's (17 significant digits).
    phase = np.linspace(0.0, np.pi, rows)
    lr = np.outer(0.5 * (1 - np.cos(phase)) + 4e-6, MAX_LR)
    momentum = np.repeat((0.85 + 0.1 * np.cos(phase) ** 2)[:, None], GROUPS, axis=1)
    trace = Trace(
        "bench",
        "OneCycleLR",
        "batch",
        "optimizer_first",
        rows // ITERS,
        ITERS,
        [f"group{g}" for g in range(GROUPS)],
        lr,
        momentum,
        ["momentum"] * GROUPS,
        torch.__version__,
    )
    start = time.perf_counter()
    with (out / "only.csv").open("w") as fh:
        for chunk in iter_csv(trace):
            fh.write(chunk)
    _EXTRA["timed"] = time.perf_counter() - start


def lrviz_plot_png(rows: int, out: Path) -> None:
    """A rows-long schedule plotted to PNG through the CLI (simulation included)."""
    from lrviz.cli import app

    spec = out / "bench.yaml"
    spec.write_text(spec_text(rows))
    _cli(app, ["export", str(spec), "-o", str(out / "plot.png"), "--max-rows", str(rows)])


def _options(rows: int):
    from lrviz.load import Options

    return Options(max_rows=max(rows, 1))


def _cli(app, args: list[str]) -> None:
    try:
        app(args)
    except SystemExit as exc:
        if exc.code:
            raise RuntimeError(f"lrviz {' '.join(args)} exited {exc.code}") from None


def lrviz_train_textbook(rows: int, out: Path) -> None:
    """`lrviz train`'s code on the textbook's six schedules (LeNet, digits, 30 epochs); rows unused.

    Times the whole comparison (data loading included) and records each spec's training time.
    """
    from lrviz import training
    from lrviz.load import Options

    train_loader, test_loader = training.digits()
    make = training.make_model()
    plans = [training.training_plan(s, Options(), len(train_loader)) for s in training.TEXTBOOK]
    per_spec = {}
    for plan in plans:
        result = training.run_plan(plan, make, train_loader, test_loader)
        per_spec[result.name] = {"seconds": result.seconds, "test_acc": result.test_acc[-1]}
    _DETAILS["per_spec"] = per_spec


CASES = {
    f.__name__: f
    for f in (
        hand_written,
        floor,
        lrviz_simulate,
        lrviz_export_csv,
        lrviz_csv_only,
        lrviz_plot_png,
        lrviz_train_textbook,
    )
}
_EXTRA: dict[str, float] = {}
_DETAILS: dict[str, object] = {}  # case-specific results, added to the JSON line


def main() -> None:
    case, rows, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    CASES[case](rows, out)
    seconds = _EXTRA.get("timed", time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "case": case,
                "rows": rows,
                "seconds": seconds,
                "peak_mib": peak / 1024,
                "baseline_mib": baseline / 1024,
                **_DETAILS,
            }
        )
    )


if __name__ == "__main__":
    main()
