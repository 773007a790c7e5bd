"""`lrviz code`: the generated snippet, executed, reproduces lrviz's rows bit for bit."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import numpy as np
import pytest

from lrviz.build import build
from lrviz.errors import UsageError
from lrviz.inspect.code import generate
from lrviz.load import Options, load_plan
from lrviz.presets import preset_names
from lrviz.simulation import run


def _snippet(plan) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return generate(plan, build(plan).momentum_keys)


def _execute(source: str) -> dict:
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the snippet's own torch warnings, as a user would get
        exec(compile(source, "<snippet>", "exec"), namespace)
    return namespace


def _check_same_rows(plan) -> str:
    source = _snippet(plan)
    namespace = _execute(source)
    trace = run(plan)
    assert trace.error is None
    assert np.array_equal(np.array(namespace["lrs"], dtype=np.float64), trace.lr)  # bit for bit
    if trace.has_momentum:
        momenta = np.array(namespace["momenta"], dtype=np.float64)
        assert np.array_equal(momenta, trace.momentum, equal_nan=True)
    else:
        assert "momenta" not in namespace
    return source


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_snippet_reproduces_the_rows(name: str):
    source = _check_same_rows(load_plan(name))
    imports = [n for n in ast.parse(source).body if isinstance(n, (ast.Import, ast.ImportFrom))]
    modules = {a.name for n in imports if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module for n in imports if isinstance(n, ast.ImportFrom)}
    assert modules <= {"math", "torch", "torch.optim"}  # plain PyTorch, nothing of lrviz


LOOPS = [
    ("steplr", ("run.order=scheduler_first",)),
    ("exponentiallr", ("run.step=batch", "run.iters_per_epoch=3")),
    ("exponentiallr", ("run.step=fractional", "run.iters_per_epoch=4")),
    ("cosineannealingwarmrestarts", ("run.step=fractional", "run.iters_per_epoch=5",
                                     "run.order=scheduler_first")),
    ("cycliclr", ("run.epochs=3", "run.order=scheduler_first")),
    ("steplr", ("scheduler.step_size=2", "run.epochs=7", "optimizer={type: Adagrad}")),
]  # fmt: skip


@pytest.mark.parametrize(("name", "overrides"), LOOPS)
def test_every_loop_shape_reproduces_the_rows(name: str, overrides: tuple[str, ...]):
    _check_same_rows(load_plan(name, Options(overrides)))


def test_the_loop_is_the_documented_one():
    source = _snippet(load_plan("cosine_warm"))
    assert source.split("\n\n\nif __name__")[0].endswith(
        "epochs, iters = 35, 20  # iters: batches per epoch\n"
        "lrs, momenta = [], []  # per optimizer step, one value per param group\n"
        "for epoch in range(epochs):\n"
        "    for i in range(iters):\n"
        "        optimizer.zero_grad()\n"
        "        # loss = criterion(model(inputs), targets); loss.backward()\n"
        '        lrs.append([group["lr"] for group in optimizer.param_groups])\n'
        '        momenta.append([group["momentum"] for group in optimizer.param_groups])\n'
        "        optimizer.step()\n"
        "        scheduler.step(epoch + i / iters)"
    )
    assert (
        "optimizer = torch.optim.SGD(\n"
        "    [\n"
        '        {"params": [params[0]], "lr": 0.01, "momentum": 0.9},  # backbone\n'
        '        {"params": [params[1]], "lr": 0.1, "momentum": 0.95},  # head\n'
        "    ],\n"
        "    lr=0.1,\n"
        "    momentum=0.9,\n"
        ")\n"
        "scheduler = lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=5, T_mult=2, "
        "eta_min=1e-05)\n"
    ) in source


def test_composites_build_children_first_in_spec_order():
    source = _snippet(load_plan("docs_sequential"))
    assert (
        "constant_lr = lr_scheduler.ConstantLR(optimizer, factor=0.1, total_iters=2)\n"
        "exponential_lr = lr_scheduler.ExponentialLR(optimizer, gamma=0.9)\n"
        "scheduler = lr_scheduler.SequentialLR(\n"
        "    optimizer,\n"
        "    schedulers=[constant_lr, exponential_lr],\n"
        "    milestones=[2],\n"
        ")\n"
    ) in source
    chained = _snippet(load_plan("docs_chained"))
    assert (
        "scheduler = lr_scheduler.ChainedScheduler([constant_lr, exponential_lr], "
        "optimizer=optimizer)\n"
    ) in chained


def test_expressions_become_lambdas_and_long_ones_functions():
    lambdas = _snippet(load_plan("lambdalr"))
    assert "lr_lambda=[lambda epoch: 0.95 ** epoch, lambda epoch: 1 / (1 + 0.1 * epoch)]," in (
        lambdas
    )
    assert "import math" not in lambdas
    long = _snippet(load_plan("cosine_warmup_lambda"))
    assert (
        "import math\n\nimport torch\nfrom torch.optim import lr_scheduler\n\n\n"
        "def lr_lambda(epoch):\n"
        "    return (epoch + 1) / 5 if epoch < 5 else 0.01 + 0.99 * 0.5 * "
        "(1 + math.cos(math.pi * (epoch - 5) / 45))\n"
    ) in long
    assert "scheduler = lr_scheduler.LambdaLR(optimizer, lr_lambda=lr_lambda)\n" in long
    assert "scale_fn=lambda x: 0.5 * (1 + math.sin(x * math.pi / 2))," in _snippet(
        load_plan("cycliclr_scale_fn")
    )


def test_onecyclelr_total_steps_filled_by_lrviz_is_written_and_explained():
    source = _snippet(load_plan("onecyclelr"))
    assert "# total_steps: filled in by lrviz with the run's 500 scheduler steps\n" in source
    assert "    total_steps=500,\n" in source


def test_metrics_are_inlined_even_from_a_csv(tmp_path: Path):
    (tmp_path / "log.csv").write_text("epoch,val_loss\n0,1.0\n1,0.9\n2,0.95\n3,0.97\n4,0.99\n")
    spec = tmp_path / "plateau.yaml"
    spec.write_text(
        "scheduler: {type: ReduceLROnPlateau, patience: 1, factor: 0.5}\n"
        "run: {epochs: 5, metrics: {csv: log.csv, column: val_loss}}\n"
    )
    source = _check_same_rows(load_plan(str(spec)))
    assert "metrics = [  # run.metrics: one value per scheduler step, replayed\n" in source
    assert "    1.0, 0.9, 0.95, 0.97, 0.99,\n]\n" in source
    assert "scheduler.step(metrics[epoch])" in source


def test_snippet_is_valid_python_with_a_docstring():
    source = _snippet(load_plan("warmup_cosine"))
    tree = ast.parse(source)
    docstring = ast.get_docstring(tree)
    assert docstring is not None
    assert docstring.startswith("warmup_cosine: the schedule lrviz simulates, as plain PyTorch.")
    assert "Generated by lrviz" in docstring


def test_non_literal_values_are_refused():
    from lrviz.inspect.code import _Writer

    with pytest.raises(UsageError) as info:
        _Writer().literal(object())
    assert str(info.value).startswith("cannot write <object object at")


def test_descriptions_with_backslashes_and_quotes_stay_inside_the_docstring(tmp_path: Path):
    spec = tmp_path / "odd.yaml"
    spec.write_text(
        'description: \'C:\\runs\\new """ not code\'\n'
        "scheduler: {type: StepLR, step_size: 2}\nrun: {epochs: 3}\n"
    )
    source = _check_same_rows(load_plan(str(spec)))
    docstring = ast.get_docstring(ast.parse(source))
    assert docstring is not None and "C:\\runs\\new ''' not code" in docstring


# --- run as a script, and transformers schedules ------------------------------------------


def test_running_the_snippet_prints_the_rows_lrviz_exports(tmp_path: Path):
    import csv
    import io
    import subprocess
    import sys

    from lrviz.render.text import iter_csv

    plan = load_plan("cosine_warm", Options(("run.epochs=2",)))
    script = tmp_path / "schedule.py"
    script.write_text(_snippet(plan))
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    expected = list(csv.DictReader(io.StringIO("".join(iter_csv(run(plan))))))
    printed = list(csv.DictReader(io.StringIO(out)))
    assert out.splitlines()[0] == "step,lr_backbone,lr_head,momentum_backbone,momentum_head"
    assert printed == [{k: row[k] for k in printed[0]} for row in expected]  # the same text


def test_an_optimizer_without_momentum_prints_lr_columns_only():
    spec = {
        "optimizer": {"type": "Adagrad", "lr": 0.1},
        "scheduler": {"type": "StepLR", "step_size": 2},
        "run": {"epochs": 3},
    }
    source = _check_same_rows(load_plan(spec))
    assert source.endswith(
        'if __name__ == "__main__":\n'
        "    # The rows of `lrviz table SPEC --format csv`, without the epoch columns.\n"
        '    print("step,lr_group0")\n'
        "    for step, lr in enumerate(lrs):\n"
        '        print(step, *lr, sep=",")\n'
    )


def test_a_transformers_training_arguments_file_becomes_a_get_scheduler_snippet():
    pytest.importorskip("transformers")
    data = Path(__file__).parents[1] / "data" / "formats" / "hf_args.yaml"
    source = _check_same_rows(load_plan(str(data)))
    assert "from transformers import get_scheduler\n" in source
    assert (
        "scheduler = get_scheduler(\n"
        '    "cosine_with_min_lr",\n'
        "    optimizer,\n"
        "    num_warmup_steps=15,\n"
        "    num_training_steps=500,\n"
        '    scheduler_specific_kwargs={"min_lr_rate": 0.1},\n'
        ")\n"
    ) in source
