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
        _save(OUT / name, to_bytes(figure(traces, **{"size": SIZE, "dpi": DPI, **look}), "png"))
    _save(OUT / "train_textbook.png", textbook_png())
    return 0


def textbook_png() -> bytes:
    """`lrviz train` on the textbook's six schedules: what each does to LeNet on the digits."""
    from lrviz import training

    train_loader, test_loader = training.digits()
    make = training.make_model()
    plans = [training.training_plan(s, Options(), len(train_loader)) for s in training.TEXTBOOK]
    runs = [training.run_plan(p, make, train_loader, test_loader) for p in plans]
    return to_bytes(training.figure(runs, size=(10.0, 3.0), dpi=DPI), "png")


def _save(path: Path, png: bytes) -> None:
    changed = not path.exists() or path.read_bytes() != png
    if changed:
        path.write_bytes(png)
    print(f"{'wrote' if changed else 'unchanged'} {path} ({len(png):,} bytes)")


if __name__ == "__main__":
    sys.exit(main())
