"""Cold start: errors before `import torch`, no torch._dynamo, and an exit without teardown."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from lrviz import nodynamo, presets

MODULES = "('torch', 'torch._dynamo', 'matplotlib', 'numpy')"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`lrviz ARGS` through the console entry point; the last stdout line lists heavy modules.

    The list is printed by an exit handler, which lrviz.cli.leave runs before it exits.
    """
    code = (
        "import atexit, sys\n"
        f"atexit.register(lambda: print(sorted(m for m in {MODULES} if m in sys.modules)))\n"
        f"sys.argv = ['lrviz', *{list(args)!r}]\n"
        "from lrviz.cli import main\n"
        "main()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=cwd
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["table", "missing.yaml"], "error: missing.yaml: no such file\n"),
        (["plot", "missing.yaml", "-o", "x.png"], "error: missing.yaml: no such file\n"),
        (["export", "missing.yaml", "-o", "x.csv"], "error: missing.yaml: no such file\n"),
        (
            ["table", "cosine_wram"],
            "error: 'cosine_wram' is not a file, a bundled preset or a scheduler class; "
            "did you mean 'cosine_warm'? (see 'lrviz list')\n",
        ),
        (
            ["export", "nosuchthing", "-o", "x.csv"],
            "error: 'nosuchthing' is not a file, a bundled preset or a scheduler class "
            "(see 'lrviz list')\n",
        ),
        (
            ["table", "steplr", "--rows", "2"],
            "error: invalid value for '--rows': Input should be greater than or equal to 3; "
            "see 'lrviz table --help'\n",
        ),
    ],
)
def test_errors_that_need_no_torch_come_before_importing_it(tmp_path, args, message):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == message
    assert result.stdout.splitlines()[-1] == "[]"
    assert list(tmp_path.iterdir()) == []


def test_a_yaml_syntax_error_comes_before_importing_torch(tmp_path):
    (tmp_path / "broken.yaml").write_text("scheduler: {type: StepLR\n  step_size: [\n")
    result = run_cli("table", "broken.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: broken.yaml:")
    assert result.stdout.splitlines()[-1] == "[]"


def test_a_run_never_imports_torch_dynamo():
    result = run_cli("table", "steplr", "-f", "csv")
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith("step,epoch,iter,x,lr_group0") and len(lines) == 102
    assert "torch._dynamo" not in lines[-1] and "'torch'" in lines[-1]


def test_leave_flushes_runs_exit_handlers_and_keeps_the_status(tmp_path):
    code = (
        "import atexit, sys\n"
        "from lrviz.cli import leave\n"
        "atexit.register(lambda: print('handler ran'))\n"
        "sys.stdout.write('unflushed')\n"
        "leave(int(sys.argv[1]) if sys.argv[1].isdigit() else sys.argv[1])\n"
    )
    for arg, status, err in (("0", 0, ""), ("3", 3, ""), ("message", 1, "message\n")):
        out = subprocess.run([sys.executable, "-c", code, arg], capture_output=True, text=True)
        assert (out.returncode, out.stdout, out.stderr) == (status, "unflushedhandler ran\n", err)


def test_ctrl_c_during_a_long_export_exits_130_and_leaves_no_file(tmp_path):
    spec = tmp_path / "long.yaml"
    spec.write_text(
        "scheduler: {type: OneCycleLR, max_lr: [0.1, 0.2]}\n"
        "param_groups: [{lr: 0.1}, {lr: 0.2}]\n"
        "run: {epochs: 4000, iters_per_epoch: 1000, step: batch}\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "lrviz", "export", str(spec), "-o", "rows.csv"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        # Interrupt once rows are being written: the temporary file has some bytes.
        while not any(p.stat().st_size for p in tmp_path.glob(".rows.csv.*.tmp")):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (proc.returncode, out, err) == (130, "", "interrupted\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.yaml"]


def test_declared_type_names_are_the_imported_ones():
    assert presets.declared_type_names() == presets.type_names()


def test_optimizer_construction_leaves_torch_as_it_was():
    raw = torch.optim.Optimizer.add_param_group.__wrapped__
    with nodynamo.optimizer_construction():
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    assert not hasattr(raw, "__dynamo_disable") or "torch._dynamo" in sys.modules
    assert opt.param_groups[0]["lr"] == 0.1


def test_a_step_is_only_marked_when_it_would_change_nothing():
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=0.1)
    assert nodynamo.mark_optimizer_stepped(opt)  # nobody wrapped step: nothing to record
    torch.optim.lr_scheduler.StepLR(opt, step_size=1)
    assert nodynamo.mark_optimizer_stepped(opt) and opt._opt_called
    param.grad = torch.ones(1)
    assert not nodynamo.mark_optimizer_stepped(opt)  # a real update: step() must run
    param.grad = None
    handle = opt.register_step_post_hook(lambda *args: None)
    assert not nodynamo.mark_optimizer_stepped(opt)  # a listener gets a real step
    handle.remove()
    assert nodynamo.mark_optimizer_stepped(opt)


def test_no_order_warning_and_the_same_rows_as_a_real_step():
    import lrviz

    trace = lrviz.run("steplr")
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    rows = []
    for _ in range(trace.rows):
        rows.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert trace.lr[:, 0].tolist() == rows
    assert trace.warnings == []
