"""Regenerate the figures in docs/figures/ (`make docs`): small PNGs, byte-stable."""

from __future__ import annotations

import sys
from pathlib import Path

from lrviz.load import Options, load_plan
from lrviz.render.plot import figure, to_bytes
from lrviz.simulation import run

OUT = Path(__file__).parent / "figures"
SIZE = (6.0, 3.2)  # inches; at 100 dpi a page-width image of a few tens of kB
DPI = 100

# file name -> (specs, figure options); a spec is a name or (name, --set overrides)
FIGURES: dict[str, tuple[list[str | tuple[str, tuple[str, ...]]], dict]] = {
    "cosine_warm.png": (["cosine_warm"], {}),
    "reducelronplateau.png": (["reducelronplateau"], {}),
    "overlay.png": (["sequentiallr", "cosineannealingwarmrestarts", "steplr"], {}),
    "onecyclelr_momentum.png": (["onecyclelr"], {"momentum": True, "size": (6.0, 4.2)}),
    "warmup_cosine_log.png": (["warmup_cosine"], {"log": True}),
    # The documented CosineAnnealingWarmRestarts loop against the curve its docstring describes.
    "fractional_lag.png": (
        [
            ("cawr_fractional_lag", ("run.order=scheduler_first", "name=what the docstring says")),
            ("cawr_fractional_lag", ("name=what its loop does",)),
        ],
        {},
    ),
}


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for name, (specs, look) in FIGURES.items():
        traces = [run(load_plan(*_spec(spec))) for spec in specs]
        _save(OUT / name, to_bytes(figure(traces, **{"size": SIZE, "dpi": DPI, **look}), "png"))
    _save(OUT / "train_textbook.png", textbook_png())
    shot = html_view_png()
    if shot is None:
        print(f"skipped {OUT / 'html_view.png'}: needs chromium, chromedriver and selenium")
    else:
        _save(OUT / "html_view.png", shot)
    return 0


def _spec(spec: str | tuple[str, tuple[str, ...]]) -> tuple[str, Options]:
    name, overrides = (spec, ()) if isinstance(spec, str) else spec
    return name, Options(overrides=overrides)


def html_view_png() -> bytes | None:
    """The HTML view of cosine_warm in headless Chromium, the pointer on row 250."""
    import shutil
    import tempfile

    from lrviz.render import html

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.action_chains import ActionBuilder
    except ImportError:
        return None
    if chromium is None or driver_path is None:
        return None
    trace = run(load_plan("cosine_warm", Options()))
    folder = Path(tempfile.mkdtemp(prefix="lrviz-docs-"))
    try:
        page = folder / "cosine_warm.html"
        page.write_text(html.render([trace], momentum=True), encoding="utf-8")
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=980,1010",
            f"--user-data-dir={folder / 'profile'}",
        ):
            options.add_argument(flag)
        browser = webdriver.Chrome(service=Service(driver_path), options=options)
        try:
            browser.get(page.as_uri())
            point = browser.execute_script("return window.lrviz.clientPoint(12.5)")
            hover = ActionBuilder(browser)
            hover.pointer_action.move_to_location(round(point["x"]), round(point["y"]))
            hover.perform()
            return bytes(browser.get_screenshot_as_png())
        finally:
            browser.quit()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


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
