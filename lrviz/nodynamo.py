"""Making torch's optimizer and its one order-check step without importing torch._dynamo.

torch imports its compiler (torch._dynamo, half a second and as much again at exit) the first
time an optimizer adds a param group or steps, only to mark those calls as "not compiled".
lrviz compiles nothing, and its optimizer has no gradients: these helpers skip that import
and leave torch exactly as they found it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

# torch._compile._disable_dynamo caches the dynamo-disabled function on the wrapped one
# under this attribute; when it is present torch uses it and imports nothing.
_CACHE = "__dynamo_disable"


@contextlib.contextmanager
def optimizer_construction() -> Iterator[None]:
    """Inside: constructing a torch optimizer does not import torch._dynamo (unless loaded)."""
    import sys

    import torch.optim

    raw = getattr(torch.optim.Optimizer.add_param_group, "__wrapped__", None)
    if "torch._dynamo" in sys.modules or raw is None or hasattr(raw, _CACHE):
        yield  # torch's own path is already cheap, or not the one this module knows
        return
    setattr(raw, _CACHE, raw)  # "disabled" is the plain function: nothing is being compiled
    try:
        yield
    finally:
        # Undone at once: a user's torch.compile later in the process sees torch unchanged.
        with contextlib.suppress(AttributeError):
            delattr(raw, _CACHE)


def mark_optimizer_stepped(optimizer: Any) -> bool:
    """Record an optimizer step for torch's scheduler order check, as torch's wrapper does.

    Only for an optimizer whose params have no gradients (the step would change nothing) and
    whose step is its class's own or torch's LRScheduler wrapper (torch >= 2.2), the only
    observers this knows; False means: call step() itself.
    """
    step = getattr(optimizer, "step", None)
    wrapped = getattr(step, "_wrapped_by_lr_sched", False)
    own = getattr(step, "__func__", None) is getattr(type(optimizer), "step", None)
    if not (wrapped or own):
        return False
    if any(p.grad is not None for g in optimizer.param_groups for p in g["params"]):
        return False
    hooks = ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks")
    if any(getattr(optimizer, h, None) for h in hooks) or _global_hooks():
        return False  # someone listens for real steps: give them one
    if wrapped:
        optimizer._opt_called = True  # what the wrapper sets before calling the step itself
    return True


def _global_hooks() -> bool:
    from torch.optim import optimizer as torch_optimizer

    return bool(
        getattr(torch_optimizer, "_global_optimizer_pre_hooks", None)
        or getattr(torch_optimizer, "_global_optimizer_post_hooks", None)
    )
