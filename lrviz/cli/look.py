"""The options every figure-making command shares (plot, export, watch), declared once."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UsageError, did_you_mean
from . import diagnostics
from .options import keyword_option, option_group

MAX_PIXELS = 2**15  # per side; matplotlib refuses 2**16


class XAxis(str, Enum):
    epoch = "epoch"
    step = "step"


XOpt = Annotated[
    XAxis,
    typer.Option(
        "--x", metavar="AXIS", help="x axis: epoch (fractional) or step (optimizer steps)."
    ),
]
LogOpt = Annotated[bool, typer.Option("--log", help="Log scale for the lr axis.")]
MomentumOpt = Annotated[
    bool, typer.Option("--momentum", help="Add a panel with momentum (or Adam's beta1).")
]
TitleOpt = Annotated[
    str | None, typer.Option("--title", metavar="TEXT", help="Title above the plot.")
]
SizeOpt = Annotated[
    str | None,
    typer.Option("--size", metavar="WxH", help="Figure size in inches, e.g. 6x3.6 (the default)."),
]
DpiOpt = Annotated[
    int, typer.Option("--dpi", min=20, max=2400, metavar="N", help="Pixels per inch of PNG output.")
]
StyleOpt = Annotated[
    str | None,
    typer.Option(
        "--style", metavar="STYLE", help="A matplotlib style name or .mplstyle file, e.g. ggplot."
    ),
]


def parse_size(text: str | None, dpi: int) -> tuple[float, float] | None:
    """--size WxH (inches) -> (w, h); None keeps the default."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*[x×X]\s*(\d+(?:\.\d*)?|\.\d+)\s*", text)
    w, h = (float(m.group(1)), float(m.group(2))) if m else (0.0, 0.0)
    if not m or w <= 0 or h <= 0:
        raise UsageError(f"--size must be WIDTHxHEIGHT in inches, e.g. 6x3.6, not {text!r}")
    if max(w, h) * dpi > MAX_PIXELS:
        raise UsageError(
            f"--size {text} at --dpi {dpi} is {w * dpi:,.0f}×{h * dpi:,.0f} pixels; "
            f"each side may be at most {MAX_PIXELS:,}"
        )
    return (w, h)


def check_style(style: str | None) -> None:
    """Refuse an unknown --style, or a file that is not a matplotlib style, before any run."""
    if style is None:
        return
    import matplotlib.style

    if style in matplotlib.style.available or style == "default":
        return
    if Path(style).is_file():
        _check_style_file(style)
        return
    raise UsageError(
        f"--style {style!r} is not a matplotlib style or a file"
        f"{did_you_mean(style, matplotlib.style.available)} "
        f"(styles: {', '.join(sorted(matplotlib.style.available))})"
    )


def _check_style_file(path: str) -> None:
    """A style file matplotlib reads without complaint (it would log a paragraph per bad line)."""
    import logging

    import matplotlib

    class Lines(logging.Handler):
        """The line numbers matplotlib complains about, instead of its paragraphs."""

        def __init__(self) -> None:
            super().__init__()
            self.lines: list[int] = []

        def emit(self, record: logging.LogRecord) -> None:
            args: Any = record.args  # (fname, line_no, ...) or {"line_no": ...}
            line = args.get("line_no") if isinstance(args, dict) else (args or (0, 0))[1]
            self.lines.append(int(line or 0))

    handler = Lines()
    log = logging.getLogger("matplotlib")
    log.addHandler(handler)
    propagate, log.propagate = log.propagate, False
    try:
        matplotlib.rc_params_from_file(path, use_default_template=False)
    except (OSError, UnicodeDecodeError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise UsageError(
            f"--style {path}: cannot read it as a matplotlib style: {reason}"
        ) from None
    finally:
        log.removeHandler(handler)
        log.propagate = propagate
    if handler.lines:
        bad = diagnostics.plural(len(handler.lines), "line")
        raise UsageError(
            f"--style {path}: not a matplotlib style file: {bad} not `key: value` settings "
            f"matplotlib knows, the first at line {handler.lines[0]}"
        )


def make_look(
    x: XAxis = XAxis.epoch,
    log: bool = False,
    momentum: bool = False,
    title: str | None = None,
    size: str | None = None,
    dpi: int = 150,
    style: str | None = None,
) -> dict[str, Any]:
    """The figure options as render.plot.figure's keywords, checked before any run."""
    fig_size = parse_size(size, dpi)
    check_style(style)
    return {
        "x": x.value,
        "log": log,
        "momentum": momentum,
        "title": title,
        "size": fig_size,
        "dpi": dpi,
        "style": style,
    }


LOOK = (
    keyword_option("x", XOpt, XAxis.epoch),
    keyword_option("log", LogOpt, False),
    keyword_option("momentum", MomentumOpt, False),
    keyword_option("title", TitleOpt, None),
    keyword_option("size", SizeOpt, None),
    keyword_option("dpi", DpiOpt, 150),
    keyword_option("style", StyleOpt, None),
)
# Gives a command the figure options as one `look` dict (make_look's result).
look_options = option_group(LOOK, "look", make_look)
