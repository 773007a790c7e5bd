"""`make bench`: lrviz against the hand-written loop and torch's floor, as ratios.

Runs each case of benchmarks/cases.py in its own process (so peak memory is per case), at
100,000 and 1,000,000 rows, then start-up times and `check` on 50 specs. Prints a Markdown
table; the machines are shared and noisy, so read the ratios, not the seconds.

    python benchmarks/bench.py [--quick] [--rows N ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent


def run_case(case: str, rows: int, out: Path) -> dict:
    """One case in a fresh interpreter -> its JSON line."""
    proc = subprocess.run(
        [sys.executable, str(HERE / "cases.py"), case, str(rows), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return {"case": case, "rows": rows, "error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def wall(cmd: list[str], repeat: int, cwd: Path | None = None) -> float:
    """Median wall time of a command."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False, cwd=cwd)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def timed(cmd: list[str], repeat: int, cwd: Path | None = None) -> tuple[float, float]:
    """(median wall time, median CPU time of the child) of a command, whole process."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False, cwd=cwd)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def cold_start(lrviz: str, out: Path) -> None:
    """`lrviz table steplr` against `import torch`, and an error that needs no torch."""
    print("\n## Cold start (median of 5, whole process; CPU time in brackets)\n")
    torch_wall, torch_cpu = timed([sys.executable, "-c", "import torch"], 5)
    table_wall, table_cpu = timed([lrviz, "table", "steplr"], 5)
    miss_wall, miss_cpu = timed([lrviz, "table", "missing.yaml"], 5, cwd=out)
    print(f'- `python -c "import torch"`: {fmt_s(torch_wall)} ({fmt_s(torch_cpu)} CPU)')
    print(
        f"- `lrviz table steplr`: {fmt_s(table_wall)} ({fmt_s(table_cpu)} CPU); "
        f"above `import torch`: {table_wall - torch_wall:+.2f} s "
        f"({table_cpu - torch_cpu:+.2f} s CPU) [<= +0.5 s]"
    )
    print(
        f"- `lrviz table missing.yaml` (exit 2): {fmt_s(miss_wall)} ({fmt_s(miss_cpu)} CPU) "
        f"[< 0.3 s]"
    )


def watch_latency(lrviz: str, out: Path, rows: int = 10_000, saves: int = 7) -> None:
    """`lrviz watch SPEC -o PNG`: from a save to the new picture (terminal and PNG file)."""
    import threading

    folder = out / "watch"
    folder.mkdir()
    spec = folder / "bench.yaml"
    sys.path.insert(0, str(HERE))
    from cases import spec_text

    spec.write_text(spec_text(rows))
    proc = subprocess.Popen(
        [lrviz, "watch", spec.name, "-o", "bench.png", "--max-rows", str(rows)],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    starts: list[float] = []  # when each screen's first line arrived: the terminal picture
    ends: list[float] = []  # when its status line arrived: after the PNG file was written

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            now = time.perf_counter()
            if len(starts) == len(ends):
                starts.append(now)
            if line.startswith("lrviz watch #"):
                ends.append(now)

    threading.Thread(target=read, daemon=True).start()

    def wait(n: int, deadline: float) -> bool:
        while len(ends) < n:
            if time.perf_counter() > deadline or proc.poll() is not None:
                return False
            time.sleep(0.002)
        return True

    print(f"\n## `lrviz watch` ({rows:,} rows, -o PNG): from a save to the new picture\n")
    try:
        if not wait(1, time.perf_counter() + 120):
            print("- failed: no first picture")
            return
        pictures, files = [], []
        for i in range(saves):
            time.sleep(0.5)  # a person between saves; the watcher is idle
            png = (folder / "bench.png").stat().st_mtime_ns
            start = time.perf_counter()
            spec.write_text(spec_text(rows).replace("0.1, 0.2", f"0.1{i + 1}, 0.2"))
            if not wait(i + 2, start + 30) or (folder / "bench.png").stat().st_mtime_ns == png:
                print(f"- failed: save {i + 1} drew no new picture")
                return
            pictures.append(starts[i + 1] - start)
            files.append(ends[i + 1] - start)
        print(
            f"- terminal picture (plot, header, table): median {fmt_s(statistics.median(pictures))}"
            f", worst {fmt_s(max(pictures))}; PNG file written: median "
            f"{fmt_s(statistics.median(files))}, worst {fmt_s(max(files))}; {saves} saves "
            f"[<= 0.3 s]"
        )
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def export_at_the_floor(lrviz: str, out: Path, rows: int) -> None:
    """`lrviz export -o x.csv` against the floor case, both as whole processes (best of 2)."""
    sys.path.insert(0, str(HERE))
    from cases import spec_text

    spec = out / "floor.yaml"
    spec.write_text(spec_text(rows))
    floor_cmd = [sys.executable, str(HERE / "cases.py"), "floor", str(rows), str(out)]
    export_cmd = [lrviz, "export", str(spec), "-o", str(out / "x.csv"), "--max-rows", str(rows)]
    floor, export = [], []
    for _ in range(2):  # alternated, so both see the same load
        floor.append(timed(floor_cmd, 1)[0])
        export.append(timed(export_cmd, 1)[0])
    print(f"\n## Big export at the floor ({rows:,} rows, whole process, best of 2)\n")
    print(
        f"- floor (python + import torch + scheduler.step() into arrays): {fmt_s(min(floor))}; "
        f"`lrviz export -o x.csv`: {fmt_s(min(export))}; "
        f"ratio {min(export) / min(floor):.2f}x [<= 1.3x]"
    )


def fmt_s(x: float) -> str:
    return f"{x:.2f} s" if x >= 0.1 else f"{x * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows only")
    parser.add_argument("--rows", type=int, nargs="*", help="row counts to run")
    args = parser.parse_args()
    sizes = args.rows or ([100_000] if args.quick else [100_000, 1_000_000])
    out = Path(tempfile.mkdtemp(prefix="lrviz-bench-"))
    cpu = platform.processor() or platform.machine()
    print(
        f"# lrviz benchmark — {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores ({cpu}), {time.strftime('%Y-%m-%d')}\n"
    )
    cases = [
        "hand_written",
        "floor",
        "lrviz_simulate",
        "lrviz_export_csv",
        "lrviz_csv_only",
        "lrviz_plot_png",
    ]
    results: dict[tuple[str, int], dict] = {}
    print("| case | rows | time | peak RSS | above import |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for rows in sizes:
        for case in cases:
            r = results[(case, rows)] = run_case(case, rows, out)
            if "error" in r:
                print(f"| {case} | {rows:,} | failed: {r['error']} | | |")
                continue
            print(
                f"| {case} | {rows:,} | {fmt_s(r['seconds'])} | {r['peak_mib']:.0f} MiB | "
                f"{r['peak_mib'] - r['baseline_mib']:.0f} MiB |",
                flush=True,
            )

    print("\n## Ratios (targets in brackets)\n")
    for rows in sizes:

        def get(case: str, key: str = "seconds", rows: int = rows) -> float | None:
            r = results.get((case, rows), {})
            return r.get(key)

        sim, flo, hand, e2e = (
            get("lrviz_simulate"),
            get("floor"),
            get("hand_written"),
            get("lrviz_export_csv"),
        )
        lines = []
        if sim and flo:
            lines.append(f"lrviz simulation / floor: {sim / flo:.2f}x [<= 1.3x]")
        if e2e and flo:
            lines.append(f"lrviz export CSV / floor: {e2e / flo:.2f}x [<= 1.3x]")
        if hand and e2e:
            lines.append(f"hand-written / lrviz end to end (CSV): {hand / e2e:.2f}x [>= 3x]")
        hp, ep = get("hand_written", "peak_mib"), get("lrviz_export_csv", "peak_mib")
        hb, eb = get("hand_written", "baseline_mib"), get("lrviz_export_csv", "baseline_mib")
        if hp and ep and hb and eb:
            lines.append(
                f"peak memory lrviz / hand-written: {ep / hp:.2f} "
                f"(above import: {(ep - eb) / max(hp - hb, 1):.2f}) [<= 0.5]"
            )
        csv_only = get("lrviz_csv_only")
        if csv_only:
            lines.append(f"CSV writing alone: {fmt_s(csv_only)} [< 2 s at 1M rows x 4 groups]")
        plot, sim2 = get("lrviz_plot_png"), get("lrviz_simulate")
        if plot and sim2:
            lines.append(
                f"plot to PNG (simulation included): {fmt_s(plot)}; simulation alone {fmt_s(sim2)}"
            )
        print(f"- **{rows:,} rows**: " + "; ".join(lines))
    if len(sizes) >= 2:
        small, big = sizes[0], sizes[-1]
        growth = []
        for case in ("lrviz_simulate", "lrviz_export_csv", "lrviz_plot_png"):
            a, b = results.get((case, small), {}), results.get((case, big), {})
            if "seconds" in a and "seconds" in b:
                growth.append(f"{case} {b['seconds'] / a['seconds']:.1f}x")
        print(
            f"- **growth {small:,} → {big:,} rows** ({big / small:.0f}x the rows; linear means "
            f"about {big / small:.0f}x): " + ", ".join(growth)
        )

    print("\n## Training: the textbook comparison (`lrviz train`, one thread)\n")
    r = run_case("lrviz_train_textbook", 0, out)
    if "error" in r:
        print(f"- failed: {r['error']}")
    else:
        print(
            f"- six specs × 30 epochs × 45 batches, data loading included: "
            f"{fmt_s(r['seconds'])} [each spec well under 60 s]"
        )
        for name, one in r.get("per_spec", {}).items():
            print(f"  - {name}: {fmt_s(one['seconds'])}, test accuracy {one['test_acc']:.3f}")

    lrviz = str(BIN / "lrviz")
    print("\n## Start-up and small commands (median wall time, whole process)\n")
    print(f"- `lrviz --help`: {fmt_s(wall([lrviz, '--help'], 5))} [< 0.3 s]")
    print(
        f"- `lrviz table steplr --epochs 100`: "
        f"{fmt_s(wall([lrviz, 'table', 'steplr', '--epochs', '100'], 3))}"
    )
    specs = out / "specs"
    specs.mkdir()
    presets = sorted((ROOT / "lrviz" / "schedules").glob("*.yaml"))
    for i in range(50):
        src = presets[i % len(presets)]
        shutil.copy(src, specs / f"{i:02d}_{src.name}")
    check = wall([lrviz, "check", str(specs)], 1)
    print(f"- `lrviz check` on 50 specs (one process): {fmt_s(check)}")
    cold_start(lrviz, out)
    watch_latency(lrviz, out)
    export_at_the_floor(lrviz, out, max(sizes))
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
