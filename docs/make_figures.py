"""Regenerate the README figures in docs/figures/ (`make docs`): small PNGs, byte-stable."""

from __future__ import annotations

import sys
from pathlib import Path

from lrviz.load import Options, load_plan
from lrviz.render.plot import figure, to_bytes
from lrviz.simulation import run

OUT = Path(__file__).parent / "figures"
SIZE = (6.0, 3.2)  # inches; at 100 dpi a README-width image of a few tens of kB
DPI = 100

# file name -> (specs, figure options)
FIGURES: dict[str, tuple[list[str], dict]] = {
    "cosine_warm.png": (["cosine_warm"], {}),
    "reducelronplateau.png": (["reducelronplateau"], {}),
    "overlay.png": (["sequentiallr", "cosineannealingwarmrestarts", "steplr"], {}),
    "onecyclelr_momentum.png": (["onecyclelr"], {"momentum": True, "size": (6.0, 4.2)}),
    "warmup_cosine_log.png": (["warmup_cosine"], {"log": True}),
}


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for name, (specs, look) in FIGURES.items():
        traces = [run(load_plan(spec, Options())) for spec in specs]
        png = to_bytes(figure(traces, **{"size": SIZE, "dpi": DPI, **look}), "png")
        path = OUT / name
        changed = not path.exists() or path.read_bytes() != png
        if changed:
            path.write_bytes(png)
        print(f"{'wrote' if changed else 'unchanged'} {path} ({len(png):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
