"""`lrviz code`: the same optimizer, scheduler and training loop as a runnable PyTorch snippet."""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Any

from .. import catalog
from ..errors import UsageError
from ..expr import to_python_source
from ..spec import SchedulerSpec
from ..stepping import Cadence

if TYPE_CHECKING:
    from ..build import Plan

WIDTH = 99  # the snippet keeps to lrviz's own line length
HF_PREFIX = "transformers."  # formats.hf.HF_PREFIX: transformers' own schedules


class _Writer:
    """Collects the snippet's lines and the imports they need."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.functions: list[str] = []  # named functions for long expressions, after the imports
        self.needs_math = False
        self.imports: list[str] = []  # `from transformers import get_scheduler`, ...
        self.names: set[str] = set()

    def literal(self, value: Any) -> str:
        """Python source for a YAML value (YAML 1.2 numbers stay exact via repr)."""
        if isinstance(value, bool) or value is None:
            return repr(value)
        if isinstance(value, float):
            if math.isfinite(value):
                return repr(value)
            self.needs_math = True
            return "math.nan" if math.isnan(value) else ("math.inf" if value > 0 else "-math.inf")
        if isinstance(value, int):
            return repr(value)
        if isinstance(value, str):
            return json.dumps(value)  # double quotes; JSON escapes are valid Python
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(self.literal(v) for v in value) + "]"
        if isinstance(value, dict):
            items = ", ".join(
                f"{self.literal(str(k))}: {self.literal(v)}" for k, v in value.items()
            )
            return "{" + items + "}"
        raise UsageError(f"cannot write {value!r} as Python")

    def expression(self, text: str, variable: str) -> str:
        source = to_python_source(text, variable)
        if "math." in source:
            self.needs_math = True
        return source

    def name(self, wanted: str) -> str:
        """A variable name not used yet in the snippet."""
        name, n = wanted, 2
        while name in self.names:
            name, n = f"{wanted}_{n}", n + 1
        self.names.add(name)
        return name

    def call(self, target: str, callee: str, args: list[str], indent: str = "") -> None:
        """`target = callee(args)`, on one line when it fits, else one argument per line."""
        one = f"{indent}{target} = {callee}({', '.join(args)})"
        if len(one) <= WIDTH and "\n" not in one:
            self.lines.append(one)
            return
        self.lines.append(f"{indent}{target} = {callee}(")
        self.lines.extend(f"{indent}    {a}," for a in args)
        self.lines.append(f"{indent})")


def _snake(class_name: str) -> str:
    """CosineAnnealingLR -> cosine_annealing_lr."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", class_name).lower()


def generate(plan: Plan, momentum_keys: list[str | None]) -> str:
    """A runnable snippet: optimizer, scheduler, and the loop of docs/spec.md recording
    the lr (`lrs`) and momentum (`momenta`) of every param group at every optimizer step."""
    if getattr(plan, "factory", None) is not None:
        raise UsageError("code: this plan's scheduler comes from a Python function, not a spec")
    spec = plan.spec
    w = _Writer()
    body: list[str] = []
    w.lines = body
    opt_info = catalog.find("optimizer", spec.optimizer_type, catalog.optimizers())
    n = len(spec.groups)
    w.names.update(
        {"torch", "math", "lr_scheduler", "params", "optimizer", "scheduler", "lrs", "momenta"}
    )
    w.names.update({"epochs", "iters", "epoch", "i", "group", "metrics"})
    if n == 1:
        body.append("params = [torch.nn.Parameter(torch.zeros(1))]  # your model.parameters()")
    else:
        body.append(
            f"params = [torch.nn.Parameter(torch.zeros(1)) for _ in range({n})]"
            f"  # one per param group"
        )
    args = [_opt_groups(w, spec.groups, spec.group_names)]
    args += [f"{k}={w.literal(v)}" for k, v in spec.optimizer_kwargs.items()]
    w.call("optimizer", f"torch.optim.{opt_info.name}", args)
    if spec.scheduler.is_list:  # independent schedulers, built in list order
        names = [_scheduler(w, plan, m) for m in spec.scheduler.members]
    else:
        names = [_scheduler(w, plan, spec.scheduler, "scheduler")]
    body.append("")
    body.extend(_loop(w, plan, momentum_keys, names))
    body.extend(_main_block(spec.group_names, momentum_keys))
    head = _header(plan, w.needs_math, w.imports)
    if w.functions:
        head += ["", *w.functions]
    return "\n".join(head + body) + "\n"


def _opt_groups(w: _Writer, groups: list[dict[str, Any]], names: list[str]) -> str:
    if len(groups) == 1 and not groups[0]:
        return "params"
    lines = ["["]
    for g, (group, name) in enumerate(zip(groups, names, strict=True)):
        items = [f'"params": [params[{g}]]'] + [
            f"{w.literal(k)}: {w.literal(v)}" for k, v in group.items()
        ]
        lines.append(f"        {{{', '.join(items)}}},  # {name}")
    lines.append("    ]")
    return "\n".join(lines)


def _scheduler(w: _Writer, plan: Plan, node: SchedulerSpec, target: str | None = None) -> str:
    """Write the constructor of a scheduler (children first, as build() makes them)."""
    if node.type.startswith(HF_PREFIX):
        return _transformers(w, node, target)
    try:
        info = catalog.find("scheduler", node.type, catalog.schedulers())
    except KeyError:
        raise UsageError(
            f"code: {node.type} is not a torch.optim.lr_scheduler class or a transformers "
            f"schedule; lrviz writes snippets for those only"
        ) from None
    children = f"[{', '.join(_scheduler(w, plan, c) for c in node.children)}]"
    if not info.composite:
        args = ["optimizer"]
    elif _optimizer_first(info):  # SequentialLR(optimizer, schedulers=[...], ...)
        args = ["optimizer", f"schedulers={children}"]
    else:  # ChainedScheduler([...], optimizer=optimizer), as torch's docs write it
        args = [children, "optimizer=optimizer"]
    for key, value in node.kwargs.items():
        args.append(f"{key}={_argument(w, info, key, value)}")
    for key, value in plan.filled.get(node.key, {}).items():
        w.lines.append(f"# {key}: filled in by lrviz with the run's {value:,} scheduler steps")
        args.append(f"{key}={w.literal(value)}")
    name = target or w.name(_snake(info.name))
    w.call(name, f"lr_scheduler.{info.name}", args)
    return name


def _transformers(w: _Writer, node: SchedulerSpec, target: str | None) -> str:
    """A transformers schedule, made as lrviz makes it: get_scheduler(name, optimizer, ...)."""
    function = node.type[len(HF_PREFIX) :]
    if not function.isidentifier():
        raise UsageError(f"code: {node.type} is not a transformers function name")
    w.imports.append(f"from transformers import {function}")
    kwargs = dict(node.kwargs)
    args = ["optimizer"]
    if function == "get_scheduler":
        args.insert(0, w.literal(kwargs.pop("name", None)))
    args += [f"{key}={w.literal(value)}" for key, value in kwargs.items()]
    name = target or w.name(function.removeprefix("get_"))
    w.call(name, function, args)
    return name


def _optimizer_first(info: catalog.ClassInfo) -> bool:
    """Whether the constructor's first parameter is the optimizer (all but ChainedScheduler)."""
    import inspect

    params = list(inspect.signature(info.cls).parameters)
    return bool(params) and params[0] == "optimizer"


def _argument(w: _Writer, info: catalog.ClassInfo, key: str, value: Any) -> str:
    param = info.param(key)
    if param is None or not catalog.is_expression_param(param.annotation) or value is None:
        return w.literal(value)
    variable = catalog.EXPR_VARIABLE.get(key, catalog.DEFAULT_EXPR_VARIABLE)
    texts = value if isinstance(value, list) else [value]
    sources = [w.expression(t, variable) for t in texts]
    shown = ", ".join(sources)
    if len(f"    {key}=[{shown}],") > WIDTH:  # too long for a lambda: a named function reads better
        sources = [_function(w, key, s, variable) for s in sources]
        shown = ", ".join(sources)
    return f"[{shown}]" if isinstance(value, list) else shown


def _function(w: _Writer, key: str, source: str, variable: str) -> str:
    """`def lr_lambda(epoch): return ...` for a long expression; returns its name."""
    name = w.name(key)
    body = source.split(": ", 1)[1]  # to_python_source gives "lambda epoch: <expression>"
    w.functions.extend([f"def {name}({variable}):", f"    return {body}", "", ""])
    return name


def _record(momentum_keys: list[str | None]) -> list[str]:
    """The lines that read the lr (and momentum) the optimizer uses for this step."""
    lines = ['lrs.append([group["lr"] for group in optimizer.param_groups])']
    kinds = set(momentum_keys)
    if kinds == {"momentum"}:
        value = 'group["momentum"]'
    elif kinds == {"betas"}:
        value = 'group["betas"][0]'
    elif kinds == {None}:
        return lines
    else:
        value = (
            'group["momentum"] if "momentum" in group '
            'else group["betas"][0] if "betas" in group else None'
        )
    lines.append(f"momenta.append([{value} for group in optimizer.param_groups])")
    return lines


def _loop(w: _Writer, plan: Plan, momentum_keys: list[str | None], names: list[str]) -> list[str]:
    """The training loop of docs/spec.md, stepping each scheduler at its cadence."""
    out: list[str] = []
    cadences = plan.member_cadences
    per_batch = plan.step_mode != "epoch" or plan.iters_per_epoch > 1
    if plan.metrics is not None:
        out.extend(_metrics(w, plan.metrics))
    if per_batch:
        out.append(
            f"epochs, iters = {plan.epochs}, {plan.iters_per_epoch}  # iters: batches per epoch"
        )
    else:
        out.append(f"epochs = {plan.epochs}")
    has_mom = any(momentum_keys)
    out.append(
        "lrs, momenta = [], []  # per optimizer step, one value per param group"
        if has_mom
        else "lrs = []  # per optimizer step, one value per param group"
    )
    first = plan.order == "scheduler_first"
    batch_steps = [
        _step_line(name, c, per_batch)
        for name, c in zip(names, cadences, strict=True)
        if c.mode != "epoch" or not per_batch
    ]
    epoch_steps = [
        _step_line(name, c, per_batch)
        for name, c in zip(names, cadences, strict=True)
        if c.mode == "epoch" and per_batch
    ]
    out.append("for epoch in range(epochs):")
    indent = "    "
    if first:
        out.extend("    " + line for line in epoch_steps)  # at the top of the epoch
    if per_batch:
        out.append("    for i in range(iters):")
        indent = "        "
    out.append(f"{indent}optimizer.zero_grad()")
    out.append(f"{indent}# loss = criterion(model(inputs), targets); loss.backward()")
    if first:
        out.extend(indent + line for line in batch_steps)
    out.extend(indent + line for line in _record(momentum_keys))
    if plan.spec.optimizer_type.lower() == "lbfgs":
        out.append(f"{indent}optimizer.step(lambda: torch.zeros(()))  # LBFGS needs a closure")
    else:
        out.append(f"{indent}optimizer.step()")
    if not first:
        out.extend(indent + line for line in batch_steps)
        out.extend("    " + line for line in epoch_steps)  # after the epoch's last batch
    return out


def _step_line(name: str, cadence: Cadence, per_batch: bool) -> str:
    """`name.step(...)` as the loop calls it, with its frequency condition if any."""
    f = cadence.frequency
    at_epoch = cadence.mode == "epoch" and per_batch
    if cadence.metric:
        if not per_batch or at_epoch:
            index = "epoch" if f == 1 else f"epoch // {f}"
        else:
            index = "epoch * iters + i" if f == 1 else f"epoch * (iters // {f}) + i // {f}"
        call = f"{name}.step(metrics[{index}])  # the validation metric of this step"
    elif cadence.mode == "fractional":
        call = f"{name}.step(epoch + i / iters)"
    else:
        call = f"{name}.step()"
    if f == 1:
        return call
    counter = "epoch + 1" if at_epoch or not per_batch else "i + 1"
    return f"if ({counter}) % {f} == 0: {call}"


def _metrics(w: _Writer, metrics: tuple[float, ...]) -> list[str]:
    values = [w.literal(float(v)) for v in metrics]
    lines = ["metrics = [  # run.metrics: one value per scheduler step, replayed"]
    line = "    "
    for v in values:
        if len(line) + len(v) + 2 > WIDTH:
            lines.append(line.rstrip())
            line = "    "
        line += f"{v}, "
    lines.append(line.rstrip())
    lines.append("]")
    return lines


def _main_block(groups: list[str], momentum_keys: list[str | None]) -> list[str]:
    """`python schedule.py` prints the rows: step, then every group's lr (and momentum)."""
    from ..render.text import csv_field

    columns = ["step"] + [f"lr_{g}" for g in groups]
    has_mom = any(momentum_keys)
    if has_mom:
        columns += [f"momentum_{g}" for g in groups]
    header = json.dumps(",".join(csv_field(c) for c in columns))
    lines = [
        "",
        "",
        'if __name__ == "__main__":',
        "    # The rows of `lrviz table SPEC --format csv`, without the epoch columns.",
        f"    print({header})",
    ]
    if not has_mom:
        return [*lines, "    for step, lr in enumerate(lrs):", '        print(step, *lr, sep=",")']
    lines.append("    for step, (lr, momentum) in enumerate(zip(lrs, momenta)):")
    if None in momentum_keys:  # a group without momentum: an empty cell, as in the CSV
        lines.append('        momentum = ["" if m is None else m for m in momentum]')
    lines.append('        print(step, *lr, *momentum, sep=",")')
    return lines


def _header(plan: Plan, needs_math: bool, imports: list[str]) -> list[str]:
    from .. import __version__

    spec = plan.spec
    lines = [f'"""{spec.name}: the schedule lrviz simulates, as plain PyTorch.']
    lines.append("")
    if spec.description:
        lines.extend(_wrap(spec.description))
        lines.append("")
    lines.extend(
        _wrap(
            f"Generated by lrviz {__version__} from {spec.source}. Each row of `lrs` is the "
            f"lr of every param group at one optimizer.step(), exactly as `lrviz table` shows it."
        )
    )
    lines.append('"""')
    lines.append("")
    if needs_math:
        lines.append("import math")
        lines.append("")
    lines.append("import torch")
    lines.append("from torch.optim import lr_scheduler")
    if imports:
        lines.append("")
        lines.extend(dict.fromkeys(imports))
    lines.append("")
    return lines


def _wrap(text: str) -> list[str]:
    import textwrap

    safe = text.replace("\\", "\\\\").replace('"""', "'''")  # inside a docstring
    return textwrap.wrap(safe, width=WIDTH - 4) or [""]
