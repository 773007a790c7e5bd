"""Where torch's code accepts more (or less) than its annotation says, as data.

Each entry names a `Class.parameter` and the annotation lrviz checks a spec value against
instead of torch's own; the comment above it says where torch's code decides. Everything not
listed is checked against torch's annotation as written. lrviz never converts a value: what
passes is handed to torch unchanged, and torch computes every number.

Besides Python's own names the annotations use three of lrviz's (see catalog.conforms):
  PerGroup[T]  a list (or tuple) of T, one per param group, as torch's `_format_param` takes it
  Whole        an integer, or a float with a whole value (YAML 1.2 reads `1e3` as 1000.0)
  Float        a float only: torch checks isinstance(value, float) and refuses the int 1

Found by probing torch 2.13 with every parameter of every class; tests/unit/test_accepts.py
re-checks each entry against the installed torch and compares lrviz's rows with plain torch's.
Deliberately not widened although torch takes them: booleans where numbers are annotated
(bool is an int subclass: `step_size: true` is 1, a typo every time), and values torch
ignores in the configuration given (CyclicLR's gamma outside exp_range, OneCycleLR's
epochs next to total_steps), whose acceptance says nothing about their type.
"""

from __future__ import annotations

# Scheduler constructors: "Class.parameter" -> the annotation lrviz checks instead of torch's.
SCHEDULERS: dict[str, str] = {
    # LambdaLR.__init__: `if not isinstance(lr_lambda, list) and not isinstance(lr_lambda,
    # tuple)`, else "Expected {n} lr_lambdas" unless one per group.
    "LambdaLR.lr_lambda": "Callable[[int], float] | PerGroup[Callable[[int], float]]",
    # MultiplicativeLR.__init__: the same list-or-tuple branch as LambdaLR.
    "MultiplicativeLR.lr_lambda": "Callable[[int], float] | PerGroup[Callable[[int], float]]",
    # StepLR: `last_epoch % step_size` (get_lr) and `last_epoch // step_size` (closed form);
    # 30.0 gives the rows of 30, while 2.5 makes those two disagree: whole values only.
    "StepLR.step_size": "Whole",
    # MultiStepLR: `Counter(milestones)` looked up with `last_epoch in self.milestones`.
    "MultiStepLR.milestones": "Iterable[Whole]",
    # ConstantLR.get_lr: `last_epoch != total_iters`; a fractional value never matches.
    "ConstantLR.total_iters": "Whole",
    # LinearLR.get_lr / _get_closed_form_lr: arithmetic only, agreeing for whole values.
    "LinearLR.total_iters": "Whole",
    # PolynomialLR.get_lr / _get_closed_form_lr: arithmetic only, agreeing for whole values.
    "PolynomialLR.total_iters": "Whole",
    # CosineAnnealingLR: T_max only divides (`math.cos(math.pi * last_epoch / T_max)`); any
    # number gives a cosine on which get_lr and _get_closed_form_lr agree.
    "CosineAnnealingLR.T_max": "float",
    # SequentialLR.step: `bisect_right(self._milestones, ...)` and `== self.last_epoch`.
    "SequentialLR.milestones": "list[Whole]",
    # ReduceLROnPlateau.__init__: `if isinstance(min_lr, (list, tuple))`, one per group.
    "ReduceLROnPlateau.min_lr": "PerGroup[float] | float",
    # ReduceLROnPlateau.step: `num_bad_epochs > patience` (2.5 acts as 2: whole values only).
    "ReduceLROnPlateau.patience": "Whole",
    # ReduceLROnPlateau.step: `cooldown_counter = cooldown`, `-= 1` while `> 0`.
    "ReduceLROnPlateau.cooldown": "Whole",
    # CyclicLR.__init__: `base_lrs = _format_param("base_lr", optimizer, base_lr)`.
    "CyclicLR.base_lr": "float | PerGroup[float]",
    # CyclicLR.__init__: `self.max_lrs = _format_param("max_lr", optimizer, max_lr)`.
    "CyclicLR.max_lr": "float | PerGroup[float]",
    # CyclicLR.__init__: `step_size_up = float(step_size_up)`; the cycle is total_size long.
    "CyclicLR.step_size_up": "float",
    # CyclicLR.__init__: `float(step_size_down) if step_size_down is not None else ...`.
    "CyclicLR.step_size_down": "float | None",
    # CyclicLR.__init__: `_format_param("base_momentum", optimizer, base_momentum)`.
    "CyclicLR.base_momentum": "float | PerGroup[float]",
    # CyclicLR.__init__: `_format_param("max_momentum", optimizer, max_momentum)`.
    "CyclicLR.max_momentum": "float | PerGroup[float]",
    # OneCycleLR.__init__: `max_lrs = _format_param("max_lr", self.optimizer, max_lr)`.
    "OneCycleLR.max_lr": "float | PerGroup[float]",
    # OneCycleLR.__init__: `_format_param("base_momentum", optimizer, base_momentum)`.
    "OneCycleLR.base_momentum": "float | PerGroup[float]",
    # OneCycleLR.__init__: `_format_param("max_momentum", optimizer, max_momentum)`.
    "OneCycleLR.max_momentum": "float | PerGroup[float]",
    # OneCycleLR.__init__: `not isinstance(pct_start, float)` raises: 0 and 1 are refused.
    "OneCycleLR.pct_start": "Float",
}

# Optimizer constructors (the keyword arguments; torch does not check param_groups entries).
OPTIMIZERS: dict[str, str] = {
    # Adam.__init__: "betas must be either both floats or both Tensors" (isinstance float).
    "Adam.betas": "tuple[Float | Tensor, Float | Tensor]",
    # AdamW subclasses Adam and passes betas to Adam.__init__.
    "AdamW.betas": "tuple[Float | Tensor, Float | Tensor]",
}
