"""What `diff`, `resume` and `state` find, as plain data: no torch, no rich, no JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .trace import Trace

if TYPE_CHECKING:
    import numpy as np

# --- diff ------------------------------------------------------------------------------------

# Per-row disagreement flags (a row can carry several).
LAST_LR = 1
GET_LR_AHEAD = 2
GET_LR_REAPPLIED = 4
GET_LR_ERROR = 8
CLOSED_DRIFT = 16
CLOSED_DIFFERS = 32
LAST_LR_ERROR = 64
LAST_LR_BAD = LAST_LR | LAST_LR_ERROR
GET_LR_BAD = GET_LR_AHEAD | GET_LR_REAPPLIED | GET_LR_ERROR
KIND_IDS = {
    LAST_LR: "last_lr_stale",
    LAST_LR_ERROR: "last_lr_error",
    GET_LR_AHEAD: "get_lr_ahead",
    GET_LR_REAPPLIED: "get_lr_reapplied",
    GET_LR_ERROR: "get_lr_error",
    CLOSED_DRIFT: "closed_form_drift",
    CLOSED_DIFFERS: "closed_form_differs",
}
# The getters diff calls, by the name a scheduler object carries them under.
GETTERS = {"get_last_lr": "get_last_lr", "get_lr": "get_lr", "closed_form": "_get_closed_form_lr"}
# How tables and notes name each getter's values.
HEADINGS = {"get_last_lr": "get_last_lr()", "get_lr": "get_lr()", "closed_form": "closed form"}


@dataclass(frozen=True)
class Kind:
    """One kind of disagreement that occurred: how many rows, the first, and what it means."""

    flag: int
    id: str
    rows: int
    first_row: int
    note: str


@dataclass
class DiffReport:
    """The run's rows plus, per row and group, what each torch getter returned."""

    trace: Trace
    last_lr: np.ndarray | None  # get_last_lr(), rows x groups; None when the object has none
    get_lr: np.ndarray | None  # get_lr() between steps (NaN where it raised); None: never works
    get_lr_raises: str | None  # "NotImplementedError: ..." when get_lr() is not implemented
    closed_form: np.ndarray | None  # _get_closed_form_lr(); None when the class has none
    flags: np.ndarray  # per row, a bitmask of the flags above
    kinds: list[Kind]
    notes: list[str] = field(default_factory=list)  # explanations that are not disagreements
    # Getters the scheduler object does not have at all ("get_last_lr", "get_lr"): a
    # scheduler that is not a torch LRScheduler (mmengine, timm, your own) is shown with the
    # getters it has, and nothing is blamed on the ones it lacks.
    missing: list[str] = field(default_factory=list)
    lr_scheduler: bool = True  # whether the object is a torch LRScheduler

    @property
    def disagreeing_rows(self) -> int:
        return int((self.flags != 0).sum())

    def row_kinds(self, k: int) -> list[str]:
        """The kind ids of row k."""
        return [KIND_IDS[f] for f in KIND_IDS if int(self.flags[k]) & f]

    def columns(self) -> list[tuple[str, np.ndarray]]:
        """(getter, values) for each getter that returned values, in GETTERS order."""
        values = {
            "get_last_lr": self.last_lr,
            "get_lr": self.get_lr,
            "closed_form": self.closed_form,
        }
        return [(name, v) for name, v in values.items() if v is not None]

    def flagged(self, mask: int) -> bool:
        """Whether any row carries one of the flags in `mask`."""
        return bool((self.flags & mask).any())


# --- resume ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One way of loading a checkpoint into a fresh optimizer and scheduler."""

    id: str
    label: str  # the steps in the order a resuming script runs them
    documented: bool = False


# Every variant builds its objects from the spec (lrviz.build), as a resumed script does.
VARIANTS = (
    Variant("documented", "new optimizer + scheduler → optimizer.load → scheduler.load "
            "(documented)", True),
    Variant("scheduler_then_optimizer", "new optimizer + scheduler → scheduler.load → "
            "optimizer.load"),
    Variant("scheduler_only", "new optimizer + scheduler → scheduler.load only"),
    Variant("optimizer_before_scheduler", "new optimizer → optimizer.load → new scheduler → "
            "scheduler.load"),
)  # fmt: skip


@dataclass(frozen=True)
class Difference:
    """The first row where a resumed run and the uninterrupted run part."""

    row: int
    column: str  # "lr", "momentum", "error" (a run failed) or "load" (loading raised)
    group: str | None
    uninterrupted: float | str | None
    resumed: float | str | None

    def describe(self, *, short: bool = False) -> str:
        """'row 40: lr head 0.01 (uninterrupted) vs 0.1 (resumed)'; `short` rounds the values
        to 6 significant digits unless that would hide the difference."""
        if self.column == "load":
            return f"loading the checkpoint raised {self.resumed}"
        if self.column == "error":
            return (
                f"row {self.row}: {self.uninterrupted} (uninterrupted) vs {self.resumed} (resumed)"
            )
        a, b = _show(self.uninterrupted), _show(self.resumed)
        if short and isinstance(self.uninterrupted, float) and isinstance(self.resumed, float):
            a6, b6 = f"{self.uninterrupted:.6g}", f"{self.resumed:.6g}"
            if a6 != b6:
                a, b = a6, b6
        return f"row {self.row}: {self.column} {self.group} {a} (uninterrupted) vs {b} (resumed)"


def _show(value: float | str | None) -> str:
    if isinstance(value, float):
        return repr(value)
    return "none" if value is None else str(value)


@dataclass(frozen=True)
class Outcome:
    """How one variant resumed from one checkpoint."""

    variant: str
    at: int
    rows: int  # rows compared (at .. end of run)
    first: Difference | None
    differing: int | None = None  # rows that differ; None when the comparison stopped at the first
    last_differing: int | None = None

    @property
    def identical(self) -> bool:
        return self.first is None


@dataclass
class ResumeReport:
    """Every variant's outcome at every checkpoint K, plus what loading needed."""

    trace: Trace
    at: list[int]
    outcomes: dict[str, list[Outcome]]
    weights_only: bool  # torch.load(weights_only=True) accepted the checkpoint
    weights_only_error: str | None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the documented order resumed every checkpoint exactly."""
        return all(o.identical for o in self.outcomes["documented"])


# --- state -----------------------------------------------------------------------------------

# Constructor parameters whose functions a spec writes as expressions; state_dict() never
# saves plain functions (it stores None, or a callable object's __dict__).
FUNCTION_KEYS = {"lr_lambdas": "lr_lambda", "_scale_fn_custom": "scale_fn"}


@dataclass
class StateNode:
    """One scheduler's state_dict() (children's states split out) and where it came from.

    `state` holds what state_dict() returned, deep-copied: numbers, lists, dicts, and
    whatever else a scheduler saves (a tensor lr, a callable object), for renderers to show.
    """

    cls: str
    key: str  # the spec's key path, e.g. "scheduler.schedulers[1]"
    state: dict[str, Any]
    children: list[StateNode] = field(default_factory=list)
    expressions: dict[str, Any] = field(default_factory=dict)  # state key -> spec expression(s)


@dataclass
class StateReport:
    """The run (its warnings and failure) and the scheduler's state after `at` steps."""

    trace: Trace
    at: int
    node: StateNode | None  # None when the run failed before `at` steps
    end_of_run: bool  # `at` is the run's last step: the state after the last row
