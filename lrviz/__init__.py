"""lrviz: see what a torch learning-rate scheduler really does.

The Python API (`lrviz.run`, `lrviz.simulate`, ...) is imported on first use, so
`import lrviz` stays as light as the CLI's start-up.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["check", "diff", "resume", "run", "simulate", "train"]

_API = {name: "api" for name in ("run", "simulate", "make_plan", "diff", "resume", "check")}
# The module is lrviz.training: a submodule named `train` would shadow the function once imported.
_API["train"] = "training"


def __getattr__(name: str) -> Any:
    if name in _API:
        import importlib

        return getattr(importlib.import_module(f"lrviz.{_API[name]}"), name)
    raise AttributeError(f"module 'lrviz' has no attribute {name!r}")
