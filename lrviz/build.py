"""Spec -> validated Plan -> a real torch optimizer and scheduler (the only place they are made)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import catalog
from .catalog import ClassInfo
from .errors import ExprError, Problem, SpecError, did_you_mean
from .expr import compile_expr
from .nodynamo import optimizer_construction
from .providers import provider
from .spec import SchedulerSpec, Spec, describe, iter_schedulers
from .stepping import Cadence

DEFAULT_MAX_ROWS = 20_000_000
BYTES_PER_VALUE = 8 * 2  # float64 lr + float64 momentum per row and group


@dataclass(frozen=True)
class Plan:
    """A spec checked against the installed torch, with the run's derived numbers."""

    spec: Spec
    scheduler_class: str
    epochs: int
    iters_per_epoch: int
    step_mode: str  # epoch, batch, fractional, or "mixed" for a list of several intervals
    order: str
    rows: int
    metrics: tuple[float, ...] | None
    filled: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> kwargs lrviz added
    notes: tuple[str, ...] = ()
    # A user's own `optimizer -> scheduler` function (Python API); None: build from the spec.
    factory: Callable[[Any], Any] | None = None
    cadences: tuple[Cadence, ...] = ()  # one per independently stepped scheduler

    @property
    def member_cadences(self) -> tuple[Cadence, ...]:
        """How the loop steps each scheduler (a single scheduler: the run's step mode)."""
        return self.cadences or (Cadence(self.step_mode, 1, self.metrics is not None),)


class SchedulerList:
    """The members of a scheduler list: independent schedulers on one optimizer (docs/spec.md)."""

    def __init__(self, schedulers: list[Any]) -> None:
        self.schedulers = schedulers

    def state_dict(self) -> dict[str, Any]:
        """Each member's state, in list order."""
        return {"schedulers": [s.state_dict() for s in self.schedulers]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore each member from state_dict() output."""
        for sched, sub in zip(self.schedulers, state["schedulers"], strict=True):
            sched.load_state_dict(sub)


@dataclass
class Built:
    """A fresh dummy optimizer and the scheduler driving it."""

    optimizer: Any
    scheduler: Any  # a torch scheduler, or a SchedulerList
    momentum_keys: list[str | None]  # per group: "momentum", "betas" or None

    @property
    def members(self) -> list[Any]:
        """The independently stepped schedulers, in the order the loop steps them."""
        if isinstance(self.scheduler, SchedulerList):
            return self.scheduler.schedulers
        return [self.scheduler]


def plan(spec: Spec, *, max_rows: int = DEFAULT_MAX_ROWS, streaming: bool = False) -> Plan:
    """Check a spec against torch's signatures; raise SpecError listing every problem."""
    problems = list(spec.problems)
    scheds = catalog.schedulers()
    infos: dict[str, ClassInfo] = {}
    for node in iter_schedulers(spec.scheduler):
        info = _check_scheduler(spec, node, scheds, problems)
        if info:
            infos[node.key] = info
    _check_optimizer(spec, problems)

    run = spec.run
    rows = run.epochs * run.iters_per_epoch  # a row is one optimizer step, whatever the mode
    if run.steps is not None:
        if run.steps > rows:
            problems.append(spec.problem("run.steps", _steps_too_many(spec, rows)))
        rows = min(rows, run.steps)
    members = spec.scheduler.members
    step_mode, cadences = _cadences(spec, members, infos, problems)
    first = run.order == "scheduler_first"
    steps = {
        m.key: c.total(rows, run.iters_per_epoch, first)
        for m, c in zip(members, cadences, strict=True)
    }
    notes: list[str] = list(spec.notes)
    filled: dict[str, dict[str, Any]] = {}

    _check_run(spec, members, infos, step_mode, steps, problems)
    for member in members:
        for node in iter_schedulers(member):
            info = infos.get(node.key)
            if info is None or info.name != "OneCycleLR":
                continue
            if not {"total_steps", "epochs", "steps_per_epoch"} & set(node.kwargs):
                total = steps[member.key]
                filled[node.key] = {"total_steps": total}
                notes.append(
                    f"{node.key}: OneCycleLR total_steps filled with {total:,} "
                    f"(the number of scheduler steps in this run)"
                )
    if rows > max_rows:
        problems.append(spec.problem("run.epochs", _too_big(spec, rows, max_rows)))
    elif not streaming:  # a streamed run holds one chunk at a time, whatever its length
        need = rows * len(spec.groups) * BYTES_PER_VALUE
        avail = _available_memory()
        if avail and need > avail // 2:
            problems.append(
                spec.problem(
                    "run.epochs",
                    f"the run needs about {need / 2**30:.1f} GiB for {_plural(rows, 'row')} × "
                    f"{_plural(len(spec.groups), 'group')}, more than half the free memory "
                    f"({avail / 2**30:.1f} GiB); shorten it or use fewer param groups",
                )
            )
    if problems:
        raise SpecError(_dedupe(problems))
    names = [infos[m.key].name for m in members]
    metrics = tuple(run.metrics) if run.metrics is not None else None
    return Plan(
        spec,
        " + ".join(names),
        run.epochs,
        run.iters_per_epoch,
        step_mode,
        run.order,
        rows,
        metrics,
        filled,
        tuple(notes),
        cadences=tuple(cadences) if spec.scheduler.is_list else (),
    )


def _natural_step(node: SchedulerSpec, infos: dict[str, ClassInfo]) -> str:
    """batch for CyclicLR/OneCycleLR (or a composite holding one), epoch otherwise."""
    per_batch = any(
        infos[n.key].name in catalog.PER_BATCH for n in iter_schedulers(node) if n.key in infos
    )
    return "batch" if per_batch else "epoch"


def _cadences(
    spec: Spec,
    members: list[SchedulerSpec],
    infos: dict[str, ClassInfo],
    problems: list[Problem],
) -> tuple[str, list[Cadence]]:
    """The run's step mode and how each member is stepped (the loop of docs/spec.md)."""
    run = spec.run
    metric = [bool(infos.get(m.key) and infos[m.key].metric_driven) for m in members]
    if not spec.scheduler.is_list:
        mode = run.step or _natural_step(members[0], infos)
        return mode, [Cadence(mode, 1, metric[0])]
    if run.step is not None:
        problems.append(
            spec.problem(
                "run.step",
                "run.step does not apply to a scheduler list: give each member its own "
                "step: batch or step: epoch",
            )
        )
    if run.order == "scheduler_first":
        problems.append(
            spec.problem(
                "run.order",
                "a scheduler list is stepped after each batch and epoch, as Lightning and "
                "mmengine do: use optimizer_first",
            )
        )
    if sum(metric) > 1:
        problems.append(
            spec.problem("scheduler", "run.metrics can feed only one metric-driven member")
        )
    cadences = [
        Cadence(m.interval or _natural_step(m, infos), m.frequency, is_metric)
        for m, is_metric in zip(members, metric, strict=True)
    ]
    modes = {c.mode for c in cadences}
    return (modes.pop() if len(modes) == 1 else "mixed"), cadences


def build(plan: Plan) -> Built:
    """A fresh optimizer and scheduler for a plan (call it again for an independent copy)."""
    import torch

    spec = plan.spec
    opt_info = catalog.find("optimizer", spec.optimizer_type, catalog.optimizers())
    groups = [{"params": [torch.zeros(1, requires_grad=True)], **g} for g in spec.groups]
    try:
        with optimizer_construction():
            optimizer = opt_info.cls(groups, **spec.optimizer_kwargs)
    except Exception as exc:  # torch's own argument checks, e.g. "Invalid learning rate"
        raise SpecError(
            [spec.problem("optimizer", f"{opt_info.name} rejected its arguments: {_exc_text(exc)}")]
        ) from exc
    if plan.factory is not None:  # the Python API: a user-supplied scheduler factory
        scheduler = plan.factory(optimizer)
    elif spec.scheduler.is_list:  # built in list order, each on the same optimizer
        scheduler = SchedulerList(
            [_build_scheduler(plan, m, optimizer) for m in spec.scheduler.members]
        )
    else:
        scheduler = _build_scheduler(plan, spec.scheduler, optimizer)
    keys: list[str | None] = []
    for g in optimizer.param_groups:
        keys.append("momentum" if "momentum" in g else "betas" if "betas" in g else None)
    return Built(optimizer, scheduler, keys)


def _build_scheduler(plan: Plan, node: SchedulerSpec, optimizer: Any) -> Any:
    from .errors import ExprEvalError

    external = provider(node.type)
    if external is not None:
        return external.build_node(plan.spec, node, optimizer)
    info = catalog.find("scheduler", node.type, catalog.schedulers())
    kwargs = {k: _compile_value(info, k, v) for k, v in node.kwargs.items()}
    kwargs.update(plan.filled.get(node.key, {}))
    if info.composite:
        kwargs["schedulers"] = [_build_scheduler(plan, c, optimizer) for c in node.children]
    try:
        return info.cls(optimizer=optimizer, **kwargs)
    except ExprEvalError:
        raise  # the expression failed on its first value: a run failure at row 0
    except Exception as exc:
        raise SpecError(
            [plan.spec.problem(node.key, f"{info.name} rejected its arguments: {_exc_text(exc)}")]
        ) from exc


def _compile_value(info: ClassInfo, name: str, value: Any) -> Any:
    param = info.param(name)
    if param is None or not catalog.is_expression_param(param.annotation):
        return value
    variable = catalog.EXPR_VARIABLE.get(name, catalog.DEFAULT_EXPR_VARIABLE)
    if isinstance(value, (list, tuple)):
        return [compile_expr(v, variable, label=name) for v in value]
    if value is None:
        return None
    return compile_expr(value, variable, label=name)


def _check_scheduler(
    spec: Spec, node: SchedulerSpec, table: dict[str, ClassInfo], problems: list[Problem]
) -> ClassInfo | None:
    if not node.type:
        return None  # spec.parse already reported the missing type
    external = provider(node.type)
    if external is not None:
        info: ClassInfo | None = external.check_node(spec, node, problems)
        return info
    try:
        info = catalog.find("scheduler", node.type, table)
    except KeyError as exc:
        problems.append(spec.problem(f"{node.key}.type", str(exc.args[0])))
        return None
    names = [p.name for p in info.params]
    for key, value in node.kwargs.items():
        where = f"{node.key}.{key}"
        param = info.param(key)
        if param is None:
            problems.append(
                spec.problem(
                    where,
                    f"unknown argument for {info.name}"
                    f"{did_you_mean(str(key), names)}"
                    f" (arguments: {', '.join(names)})",
                )
            )
            continue
        problems.extend(_check_value(spec, where, param, value))
    if info.composite and not node.children:
        problems.append(
            spec.problem(
                node.key,
                f"{info.name} needs its children inline: "
                f"schedulers: [{{type: LinearLR, ...}}, ...]",
            )
        )
    if node.children and not info.composite:
        problems.append(
            spec.problem(f"{node.key}.schedulers", f"{info.name} does not take child schedulers")
        )
    onecycle_fill = info.name == "OneCycleLR"
    for p in info.params:
        if (
            p.required
            and p.name not in node.kwargs
            and not (onecycle_fill and p.name == "total_steps")
        ):
            problems.append(
                spec.problem(
                    node.key,
                    f"{info.name} needs '{p.name}' ({catalog.expected(p.accepts)}): {p.doc}".rstrip(
                        ": "
                    ),
                )
            )
    return info


def _check_value(spec: Spec, where: str, param: catalog.Param, value: Any) -> list[Problem]:
    # param.accepts: torch's annotation, or what torch's code really takes (lrviz/accepts.py)
    sequence = isinstance(value, (list, tuple))
    if sequence and catalog.per_group(param.accepts) and len(value) != len(spec.groups):
        groups = len(spec.groups)
        return [
            spec.problem(
                where,
                f"got {len(value)} values for {groups} param group{'s' if groups != 1 else ''}; "
                f"give one per group, or a single value for all of them",
            )
        ]
    if catalog.is_expression_param(param.accepts):
        variable = catalog.EXPR_VARIABLE.get(param.name, catalog.DEFAULT_EXPR_VARIABLE)
        texts = value if sequence else [value]
        out = []
        for i, text in enumerate(texts):
            key = f"{where}[{i}]" if sequence else where
            if text is None and "None" in param.accepts:
                continue
            if not isinstance(text, str):
                out.append(
                    spec.problem(
                        key,
                        f"expected an expression in '{variable}' as text, "
                        f'e.g. "0.95 ** {variable}", got {describe(text)}',
                    )
                )
                continue
            try:
                compile_expr(text, variable, label=param.name)
            except ExprError as exc:
                out.append(spec.problem(key, exc.render(indent="    ")))
        return out
    return _type_problems(spec, where, param.accepts, value)


def _type_problems(spec: Spec, where: str, annotation: str, value: Any) -> list[Problem]:
    """[] when the value fits the annotation, else the one problem that says what does."""
    if catalog.conforms(value, annotation):
        return []
    hint = ""
    if isinstance(value, float) and value.is_integer() and "int" in annotation:
        hint = f" (write {int(value)})"
    elif isinstance(value, int) and not isinstance(value, bool) and "Float" in annotation:
        hint = f" (write {float(value)!r})"  # torch checks isinstance(value, float)
    shown = describe(value)
    if isinstance(value, (list, tuple)) and all(_scalar(v) for v in value):
        text = repr(list(value))
        shown = text if len(text) <= 40 else shown  # [0, 0.999] says more than "a list"
    return [spec.problem(where, f"expected {catalog.expected(annotation)}, got {shown}{hint}")]


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _check_optimizer(spec: Spec, problems: list[Problem]) -> None:
    try:
        info = catalog.find("optimizer", spec.optimizer_type, catalog.optimizers())
    except KeyError as exc:
        problems.append(spec.problem("optimizer.type", f"{exc.args[0]} (a class in torch.optim)"))
        return
    names = [p.name for p in info.params]
    # The constructor checks its keyword arguments (param.accepts: with those checks, see
    # lrviz/accepts.py); param_groups entries reach torch unchecked, so only their annotation.
    entries = [(f"optimizer.{k}", k, v, True) for k, v in spec.optimizer_kwargs.items()]
    for i, group in enumerate(spec.groups):
        entries += [(f"param_groups[{i}].{k}", k, v, False) for k, v in group.items()]
    for where, key, value, constructor in entries:
        param = info.param(key)
        if param is None:
            problems.append(
                spec.problem(
                    where, f"unknown argument for {info.name}{did_you_mean(str(key), names)}"
                )
            )
        else:
            annotation = param.accepts if constructor else param.annotation
            problems.extend(_type_problems(spec, where, annotation, value))


def _check_run(
    spec: Spec,
    members: list[SchedulerSpec],
    infos: dict[str, ClassInfo],
    step_mode: str,
    steps: dict[str, int],
    problems: list[Problem],
) -> None:
    run = spec.run
    if step_mode == "fractional":
        blocker = next(
            (i for i in infos.values() if i.composite or i.metric_driven or not i.takes_epoch), None
        )
        if blocker is not None:
            problems.append(
                spec.problem(
                    "run.step",
                    f"{blocker.name}.step() takes no epoch "
                    f"argument, so step: fractional cannot drive it; "
                    f"use epoch or batch",
                )
            )
    driven = [m for m in members if m.key in infos and infos[m.key].metric_driven]
    if not driven:
        if run.metrics is not None and all(m.key in infos for m in members):
            names = " + ".join(infos[m.key].name for m in members)
            problems.append(
                spec.problem(
                    "run.metrics",
                    f"only a metric-driven scheduler such as "
                    f"ReduceLROnPlateau reads metrics, not {names}",
                )
            )
        return
    member = driven[0]
    name, needed = infos[member.key].name, steps[member.key]
    if run.order == "scheduler_first":
        problems.append(
            spec.problem(
                "run.order",
                f"{name} steps on a metric, and no "
                f"metric exists before the first row; use optimizer_first",
            )
        )
    if run.metrics is None:
        if "run.metrics" not in spec.lines:
            problems.append(
                spec.problem(
                    "run",
                    f"{name} needs run.metrics: one value per scheduler step ({needed:,} here)",
                )
            )
    elif len(run.metrics) < needed:
        problems.append(
            spec.problem(
                "run.metrics",
                f"{len(run.metrics):,} values for "
                f"{needed:,} scheduler steps; {name} needs one "
                f"per step ({needed:,})",
            )
        )


def _shape(spec: Spec) -> str:
    """The run's length in words: '40 epochs' or '40 epochs × 100 iters'."""
    run = spec.run
    if run.iters_per_epoch == 1:
        return _plural(run.epochs, "epoch")
    return f"{_plural(run.epochs, 'epoch')} × {_plural(run.iters_per_epoch, 'iter')}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _steps_too_many(spec: Spec, rows: int) -> str:
    return (
        f"{spec.run.steps:,} steps, but the run has only {_plural(rows, 'row')} ({_shape(spec)}); "
        f"raise run.epochs"
    )


def _too_big(spec: Spec, rows: int, max_rows: int) -> str:
    return (
        f"the run has {rows:,} rows ({_shape(spec)}), more than the limit of {max_rows:,}; "
        f"raise it with --max-rows {rows}"
    )


def _available_memory() -> int | None:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _exc_text(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    out = []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out
