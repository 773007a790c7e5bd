"""The HTML page in a real headless Chromium (Debian's chromium + chromium-driver, Selenium).

Without the browser these tests skip, unless LRVIZ_REQUIRE_BROWSER is set (CI sets it after
installing the browser): a browser test skipped in CI would be no test at all.
"""

from __future__ import annotations

import os
import random
import shutil
import struct
import tempfile
from pathlib import Path

import pytest

from lrviz.load import Options, load_plan
from lrviz.render import html
from lrviz.simulation import run

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1200,1000",
)


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (the dev extra)"
    for path in (CHROMIUM, DRIVER):
        if not Path(path).exists():
            return f"{path} not found (apt-get install chromium chromium-driver)"
    return None


@pytest.fixture(scope="module")
def browser():
    missing = _missing()
    if missing:
        if os.environ.get("LRVIZ_REQUIRE_BROWSER"):
            pytest.fail(f"LRVIZ_REQUIRE_BROWSER is set, but {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="lrviz-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _open(browser, tmp_path: Path, traces, **look) -> None:
    page = tmp_path / "page.html"
    page.write_text(html.render(traces, **look), encoding="utf-8")
    browser.get(page.as_uri())
    browser.get_log("browser")  # start each page with an empty console
    assert browser.execute_script("return typeof window.lrviz") == "object"


def _console(browser) -> list:
    return browser.get_log("browser")


def _point(browser, x: float, panel: int = 0) -> tuple[int, int]:
    """Where x is on the chart, in the window's pixels."""
    p = browser.execute_script(
        "return window.lrviz.clientPoint(arguments[0], arguments[1])", x, panel
    )
    return round(p["x"]), round(p["y"])


def _hover(browser, x: float, panel: int = 0) -> list[str]:
    """Move the real pointer over x on the chart; the read-out's lines."""
    from selenium.webdriver.common.action_chains import ActionBuilder
    from selenium.webdriver.common.by import By

    actions = ActionBuilder(browser)
    actions.pointer_action.move_to_location(*_point(browser, x, panel))
    actions.perform()
    return browser.find_element(By.ID, "readout").text.split("\n")


def _expected(trace, k: int) -> list[str]:
    row = trace.row(k)
    lines = [f"step {row['step']} · epoch {row['epoch']} · iter {row['iter']} · x {row['x']!r}"]
    for g, group in enumerate(trace.groups):
        line = f"  {group}: lr {row['lr'][g]!r}"
        if trace.momentum_kind[g]:
            label = "β1" if trace.momentum_kind[g] == "betas" else "momentum"
            line += f" · {label} {row['momentum'][g]!r}"
        lines.append(line)
    return lines


def test_hover_reads_out_torchs_values_with_no_console_errors(browser, tmp_path):
    trace = run(load_plan("cosine_warm"))
    _open(browser, tmp_path, [trace], momentum=True)
    for k in (0, 101, 250, 699):
        assert _hover(browser, trace.row(k)["x"], panel=k % 2) == _expected(trace, k)
    assert _console(browser) == []


def test_the_read_out_formats_floats_as_python_repr(browser, tmp_path):
    _open(browser, tmp_path, [run(load_plan("steplr"))])
    rng = random.Random(17)
    values = [
        0.1,
        1e-05,
        0.0001,
        1e16,
        1e15,
        123456789012345.6,
        1e22,
        1.5e-07,
        5e-324,
        1.7976931348623157e308,
        2.5,
        100.0,
        -0.0,
        0.0,
        -3e-4,
        0.30000000000000004,
        4e-06,
    ]
    values += [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(63)))[0] for _ in range(400)]
    values += [rng.uniform(0, 1) * 10 ** rng.randint(-12, 20) for _ in range(400)]
    values = [v for v in values if v == v and abs(v) != float("inf")]
    shown = browser.execute_script("return arguments[0].map(window.lrviz.pyRepr)", values)
    assert shown == [repr(v) for v in values]
    specials = browser.execute_script(
        "return [NaN, Infinity, -Infinity, null].map(window.lrviz.pyRepr)"
    )
    assert specials == ["nan", "inf", "-inf", "None"]


def test_drag_zooms_on_a_range_and_double_click_zooms_out(browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionBuilder, ActionChains
    from selenium.webdriver.common.by import By

    trace = run(load_plan("cosine_warm"))
    _open(browser, tmp_path, [trace])
    full = browser.execute_script("return window.lrviz.domain()")
    assert full == [0, 35]
    drag = ActionBuilder(browser)
    drag.pointer_action.move_to_location(*_point(browser, 5))
    drag.pointer_action.pointer_down()
    drag.pointer_action.move_to_location(*_point(browser, 10))
    drag.pointer_action.pointer_up()
    drag.perform()
    lo, hi = browser.execute_script("return window.lrviz.domain()")
    assert abs(lo - 5) < 0.1 and abs(hi - 10) < 0.1
    assert browser.find_element(By.ID, "range").text.startswith("showing epoch 5")
    # Zoomed in, rows closer together than a pixel of the full view are read out exactly.
    for k in (7 * 20 + 3, 7 * 20 + 4):
        assert _hover(browser, trace.row(k)["x"]) == _expected(trace, k)
    ActionChains(browser).double_click(
        browser.find_element(By.CSS_SELECTOR, "#chart svg")
    ).perform()
    assert browser.execute_script("return window.lrviz.domain()") == full
    assert _console(browser) == []


def test_a_long_overlay_reads_out_kept_rows_exactly(browser, tmp_path):
    long = run(load_plan("onecyclelr", Options(epochs=2000, iters=100)))
    short = run(load_plan("steplr", Options(epochs=2000)))
    _open(browser, tmp_path, [long, short])
    kept = html.kept_rows(long)
    text = _hover(browser, long.row(int(kept[len(kept) // 3]))["x"])
    # Rows are closer than pixels here: the page reads out the kept row nearest the pointer.
    k = int(text[0].split(" · ")[0].removeprefix("onecyclelr: step "))
    assert k in kept.tolist()
    assert text[:2] == [f"onecyclelr: {_expected(long, k)[0]}", _expected(long, k)[1]]
    assert text[2].startswith("steplr: step ")
    assert _console(browser) == []
