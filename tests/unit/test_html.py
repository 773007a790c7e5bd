"""The interactive HTML page, read as a document (the browser test drives it for real)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser

import numpy as np
from typer.testing import CliRunner

from lrviz.cli import app
from lrviz.load import Options, load_plan
from lrviz.render import html
from lrviz.render.plot import extrema_indices
from lrviz.render.table import header_lines
from lrviz.simulation import run


class Page(HTMLParser):
    """Tags with their attributes, the text of each script and style, and the <pre> texts."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.styles: list[str] = []
        self.pres: list[str] = []
        self._open: tuple[str, dict[str, str | None]] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style", "pre"):
            self._open = (tag, dict(attrs))
            self._text = ""

    def handle_data(self, data):
        if self._open is not None:
            self._text += data

    def handle_endtag(self, tag):
        if self._open is not None and self._open[0] == tag:
            if tag == "script":
                self.scripts.append((self._open[1], self._text))
            elif tag == "style":
                self.styles.append(self._text)
            else:
                self.pres.append(self._text)
            self._open = None

    def data(self) -> dict:
        (text,) = [t for a, t in self.scripts if a.get("id") == "lrviz-data"]
        return json.loads(text)


def _trace(name: str, *sets: str, **kw):
    return run(load_plan(name, Options(tuple(sets), **kw)))


def _sha(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def test_the_page_loads_nothing_and_runs_only_its_own_script():
    text = html.render([_trace("cosine_warm")])
    page = Page(text)
    assert not [(t, a) for t, a in page.tags if {"src", "href"} & a.keys()]
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text)  # the SVG namespace only
    (policy,) = [
        a["content"] for t, a in page.tags if a.get("http-equiv") == "Content-Security-Policy"
    ]
    (code,) = [t for a, t in page.scripts if "type" not in a]
    (style,) = page.styles
    assert policy == (
        f"default-src 'none'; script-src '{_sha(code)}'; style-src '{_sha(style)}'; img-src data:"
    )


def test_a_short_run_carries_every_row_exactly_and_its_header():
    trace = _trace("cosine_warm")
    page = Page(html.render([trace], momentum=True))
    data = page.data()
    (t,) = data["traces"]
    assert t["kept"] == list(range(trace.rows))
    for g, series in enumerate(t["series"]):
        assert series["lr"] == trace.lr[:, g].tolist()  # the same doubles: repr round-trips
        assert series["momentum"] == trace.momentum[:, g].tolist()
        assert series["label"] == f"cosine_warm · {trace.groups[g]}"
    assert data["momentum_panel"] is True and data["momentum_label"] == "momentum"
    assert page.pres == ["\n".join(header_lines(trace))]
    assert [m["kind"] for m in t["markers"]] == list(trace.events)
    assert t["end"] == 35.0 and t["failure"] is None


def test_a_long_run_keeps_each_groups_extrema_like_the_png():
    trace = _trace("onecyclelr", epochs=2000, iters=100)
    data = html.page_data([trace])
    (t,) = data["traces"]
    kept = np.asarray(t["kept"])
    assert trace.rows == 200_000 and len(kept) < 4 * html.BUCKETS + 4
    for idx in (
        extrema_indices(trace.lr[:, 0], html.BUCKETS),
        extrema_indices(trace.momentum[:, 0], html.BUCKETS),
    ):
        assert set(idx.tolist()) <= set(kept.tolist())
    assert t["series"][0]["lr"] == trace.lr[kept, 0].tolist()
    assert int(np.argmax(trace.lr[:, 0])) in t["kept"]  # the peak survives


def test_markers_failure_and_non_finite_rows_are_in_the_data(tmp_path):
    spec = tmp_path / "fails.yaml"
    spec.write_text(
        "scheduler: {type: OneCycleLR, max_lr: 0.1, total_steps: 10}\nrun: {epochs: 15}\n"
    )
    trace = run(load_plan(str(spec)))
    page = Page(html.render([trace]))
    (t,) = page.data()["traces"]
    assert t["failure"] == 11 and t["markers"][0]["kind"] == "failure"
    assert t["markers"][0]["x"] == [11.0] and t["markers"][0]["color"] == "#262626"
    assert page.pres[0].endswith(
        "error: run failed at row 11: ValueError: Tried to step 11 times. The specified number "
        "of total steps is 10"
    )
    spec.write_text(
        "scheduler: {type: LambdaLR, lr_lambda: '1e308 * (epoch + 1) * 10'}\nrun: {epochs: 5}\n"
    )
    bad = run(load_plan(str(spec)))
    (t,) = html.page_data([bad])["traces"]
    assert t["non_finite_rows"] == int((~np.isfinite(bad.lr)).sum())
    assert "inf" in t["series"][0]["lr"] or "nan" in t["series"][0]["lr"]


def test_user_text_is_escaped(tmp_path):
    spec = tmp_path / "x.yaml"
    spec.write_text(
        "description: '</pre><script>alert(1)</script>'\n"
        "param_groups: [{name: '</script><b>', lr: 0.1}]\n"
        "scheduler: {type: StepLR, step_size: 1}\nrun: {epochs: 2}\n"
    )
    text = html.render([run(load_plan(str(spec)))])
    assert "<script>alert(1)" not in text and "</script><b>" not in text
    page = Page(text)
    assert page.pres[0].startswith("</pre><script>alert(1)</script>\n")
    assert page.data()["traces"][0]["series"][0]["group"] == "</script><b>"


def test_export_and_plot_write_html(tmp_path):
    runner = CliRunner()
    out = tmp_path / "s.html"
    result = runner.invoke(app, ["export", "steplr", "-o", str(out)])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", f"wrote {out}\n")
    first = out.read_bytes()
    assert first.startswith(b"<!DOCTYPE html>")
    runner.invoke(app, ["export", "steplr", "-o", str(out)])
    assert out.read_bytes() == first  # the same spec, the same bytes
    both = tmp_path / "both.html"
    result = runner.invoke(app, ["plot", "steplr", "onecyclelr", "-o", str(both), "--x", "step"])
    assert (result.exit_code, result.stderr) == (0, f"wrote {both}\n")
    data = Page(both.read_text()).data()
    assert [t["name"] for t in data["traces"]] == ["steplr", "onecyclelr"]
    assert data["x"] == "step"
