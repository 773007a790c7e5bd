"""Trust at the edges: paths a spec names, class names vs presets, headers after overrides,
format detection that never guesses, run lengths that rest on no unstated default."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from torch.optim import lr_scheduler as L
from typer.testing import CliRunner

import lrviz
from lrviz.cli import app
from tests.reference import textbook_rows

SECRET = "hunter2-do-not-print"


def lrviz_cli(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture()
def project(tmp_path: Path, monkeypatch) -> Path:
    """A git project under tmp_path/proj with a secret one level above it."""
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / "configs").mkdir()
    (root / "logs").mkdir()
    (root / "logs" / "val.csv").write_text("epoch,val_loss\n0,1.0\n1,0.9\n2,0.9\n3,0.9\n")
    (tmp_path / ".env").write_text(f"API_KEY={SECRET}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LRVIZ_TEST_SECRET", SECRET)
    return root


def plateau(metrics: str) -> str:
    return (
        "scheduler: {type: ReduceLROnPlateau, patience: 0}\n"
        f"run:\n  epochs: 4\n  metrics: {metrics}\n"
    )


def spec_at(project: Path, text: str, name: str = "a.yaml") -> str:
    path = project / "configs" / name
    path.write_text(text)
    return str(path)


# --- paths a spec names are confined to the project tree ----------------------------------


def test_proc_environ_is_refused_and_never_echoed(project: Path):
    spec = spec_at(project, plateau("{csv: /proc/self/environ, column: x}"))
    for fmt in ("text", "github", "json"):
        result = lrviz_cli("check", "-f", fmt, spec)
        assert result.exit_code == 1
        assert SECRET not in result.stdout + result.stderr
        assert "PATH=" not in result.stdout + result.stderr
    text = lrviz_cli("check", spec).stdout.splitlines()
    assert text[0] == (
        f"{spec}:4: LRV001 error: run.metrics.csv: '/proc/self/environ' is an absolute path; "
        "write it relative to the spec file"
    )


def test_a_path_leaving_the_tree_is_refused(project: Path):
    spec = spec_at(project, plateau("{csv: ../../.env, column: x}"))
    result = lrviz_cli("table", spec)
    assert result.exit_code == 2
    assert SECRET not in result.stdout + result.stderr
    assert result.stderr == (
        f"error: {spec}:4: run.metrics.csv: '../../.env' resolves outside the project tree "
        f"{project.resolve()}; pass --root DIR to name another tree\n"
    )


def test_dotdot_inside_the_tree_works_and_root_widens_the_tree(project: Path, tmp_path: Path):
    spec = spec_at(project, plateau("{csv: ../logs/val.csv, column: val_loss}"))
    result = lrviz_cli("table", spec, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert [r["lr"][0] for r in json.loads(result.stdout)["rows"]] == [0.1, 0.1, 0.1, 0.1 * 0.1]
    # Outside a git tree the spec's own folder is the tree; --root names a wider one.
    loose = tmp_path / "loose" / "cfg"
    loose.mkdir(parents=True)
    (tmp_path / "loose" / "val.csv").write_text("val_loss\n1\n1\n1\n1\n")
    (loose / "a.yaml").write_text(plateau("{csv: ../val.csv, column: val_loss}"))
    refused = lrviz_cli("table", str(loose / "a.yaml"))
    assert refused.exit_code == 2 and "resolves outside the project tree" in refused.stderr
    allowed = lrviz_cli("table", str(loose / "a.yaml"), "--root", str(tmp_path / "loose"))
    assert allowed.exit_code == 0, allowed.stderr


def test_symlinks_are_followed_before_the_tree_check(project: Path):
    (project / "logs" / "zero.csv").symlink_to("/dev/zero")
    (project / "logs" / "env.csv").symlink_to(project.parent / ".env")
    for name in ("zero.csv", "env.csv"):
        spec = spec_at(project, plateau(f"{{csv: ../logs/{name}, column: x}}"))
        result = lrviz_cli("table", spec)
        assert result.exit_code == 2
        assert "resolves outside the project tree" in result.stderr
        assert SECRET not in result.stderr


def test_non_regular_files_are_refused_without_blocking(project: Path):
    os.mkfifo(project / "logs" / "pipe.csv")
    spec = spec_at(project, plateau("{csv: ../logs/pipe.csv, column: x}"))
    result = lrviz_cli("table", spec)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {spec}:4: run.metrics.csv: ../logs/pipe.csv: not a regular file\n"
    )
    spec = spec_at(project, plateau("{csv: ../logs, column: x}"))
    assert "../logs: is a folder, not a file" in lrviz_cli("table", spec).stderr


def test_file_content_is_never_echoed(project: Path):
    (project / "logs" / ".env").write_text(f"API_KEY={SECRET}\nOTHER=1\n")
    spec = spec_at(project, plateau("{csv: ../logs/.env, column: val_loss}"))
    result = lrviz_cli("table", spec)
    assert result.exit_code == 2
    assert SECRET not in result.stderr
    assert result.stderr == (
        f"error: {spec}:4: run.metrics.column: ../logs/.env has no column 'val_loss' "
        "(no CSV header found)\n"
    )
    (project / "logs" / "bad.csv").write_text(f"val_loss\n1.0\n{SECRET}\n")
    spec = spec_at(project, plateau("{csv: ../logs/bad.csv, column: val_loss}"))
    result = lrviz_cli("table", spec)
    assert result.stderr == (
        f"error: {spec}:4: run.metrics.csv: ../logs/bad.csv line 3: the 'val_loss' cell is not "
        "a number\n"
    )


def test_header_names_are_listed_for_a_real_csv(project: Path):
    spec = spec_at(project, plateau("{csv: ../logs/val.csv, column: val_los}"))
    assert lrviz_cli("table", spec).stderr == (
        f"error: {spec}:4: run.metrics.column: ../logs/val.csv has no column 'val_los' "
        "(columns: epoch, val_loss); did you mean 'val_loss'?\n"
    )


def test_non_utf8_and_oversized_files_are_findings(project: Path, monkeypatch):
    (project / "logs" / "latin1.csv").write_bytes(b"val_loss\n1.0\n\xe9\n")
    spec = spec_at(project, plateau("{csv: ../logs/latin1.csv, column: val_loss}"))
    result = lrviz_cli("check", spec)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        f"{spec}:4: LRV001 error: run.metrics.csv: ../logs/latin1.csv: not UTF-8 text "
        "(invalid byte at line 3)"
    )
    monkeypatch.setattr("lrviz.paths.MAX_FILE_BYTES", 10)
    spec = spec_at(project, plateau("{csv: ../logs/val.csv, column: val_loss}"))
    assert lrviz_cli("table", spec).stderr == (
        f"error: {spec}:4: run.metrics.csv: ../logs/val.csv: 39 bytes, more than the limit of 10\n"
    )


def test_a_command_line_path_is_the_users_own(project: Path, tmp_path: Path):
    """--set is typed by the user, not read from a pull request: not confined."""
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("val_loss\n1\n1\n1\n1\n")
    result = lrviz_cli(
        "table",
        "ReduceLROnPlateau",
        "--epochs",
        "4",
        "--set",
        f"run.metrics={{csv: {outside}, column: val_loss}}",
    )
    assert result.exit_code == 0, result.stderr


# --- check never stops at one file ----------------------------------------------------------


def test_check_reports_a_hostile_a_binary_and_a_valid_spec(project: Path):
    spec_at(project, plateau("{csv: /proc/self/environ, column: x}"), "hostile.yaml")
    (project / "configs" / "binary.yaml").write_bytes(b"\x00\xff\xfe\x01" * 16)
    spec_at(project, "scheduler: {type: StepLR, step_size: 2}\nrun: {epochs: 4}\n", "valid.yaml")
    result = lrviz_cli("check", "-f", "json", str(project / "configs"))
    assert result.exit_code == 1
    files = {Path(f["path"]).name: f for f in json.loads(result.stdout)["files"]}
    assert sorted(files) == ["binary.yaml", "hostile.yaml", "valid.yaml"]
    assert [f["id"] for f in files["binary.yaml"]["findings"]] == ["LRV001"]
    assert "absolute path" in files["hostile.yaml"]["findings"][0]["message"]
    assert files["valid.yaml"] == {"path": files["valid.yaml"]["path"], "ok": True, "findings": []}


def test_an_unexpected_failure_is_a_finding_for_that_file_only(project: Path, monkeypatch):
    import lrviz.checks.rules as rules

    real = rules.apply

    def flaky(ctx):
        if ctx.plan.spec.name == "boom":
            raise RuntimeError("lrviz bug")
        return real(ctx)

    monkeypatch.setattr(rules, "apply", flaky)
    spec_at(project, "name: boom\nscheduler: {type: StepLR, step_size: 2}\nrun: {epochs: 4}\n")
    spec_at(project, "scheduler: {type: StepLR, step_size: 2}\nrun: {epochs: 4}\n", "b.yaml")
    result = lrviz_cli("check", str(project / "configs"))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        f"{project / 'configs' / 'a.yaml'}: LRV000 error: internal error: RuntimeError: "
        "lrviz bug; re-run with --debug for the traceback"
    )
    assert "b.yaml" in result.stdout.splitlines()[-1] or "2 files" in result.stdout
    debug = CliRunner().invoke(app, ["--debug", "check", str(project / "configs")])
    assert debug.exit_code == 1 and "Traceback" in debug.stderr and "lrviz bug" in debug.stderr


# --- a class name is the class; a preset is found by its own name --------------------------


def test_a_class_name_spelled_as_torch_is_the_class_with_torchs_defaults():
    result = lrviz_cli("table", "StepLR", "--set", "scheduler.step_size=10", "--epochs", "40")
    assert result.exit_code == 0, result.stderr
    trace = lrviz.run("StepLR", overrides=["scheduler.step_size=10"], epochs=40)
    expected = textbook_rows(lambda p: torch.optim.SGD(p, lr=0.1), lambda o: L.StepLR(o, 10), 40)
    assert trace.lr[:, 0].tolist() == expected
    assert trace.momentum[:, 0].tolist() == [0.0] * 40  # SGD's default, not the preset's 0.9
    assert (
        trace.notes[0]
        == "StepLR: torch's class with torch's defaults (the bundled preset is 'steplr')"
    )
    assert "note: StepLR: torch's class with torch's defaults" in result.stdout

    cosine = lrviz.run("CosineAnnealingLR", overrides=["scheduler.T_max=10"], epochs=12)
    expected = textbook_rows(
        lambda p: torch.optim.SGD(p, lr=0.1), lambda o: L.CosineAnnealingLR(o, 10), 12
    )
    assert cosine.lr[:, 0].tolist() == expected  # eta_min 0: torch's default


def test_a_preset_is_found_by_its_own_name():
    trace = lrviz.run("steplr", epochs=100)
    assert trace.notes[0] == "bundled preset 'steplr'"
    assert trace.momentum[0, 0] == 0.9
    assert lrviz.run("Steplr", epochs=5).notes[0] == "bundled preset 'steplr'"


def test_a_missing_yaml_named_like_a_preset_says_so(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = lrviz_cli("plot", "cosine_warm.yaml")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: cosine_warm.yaml: no such file; did you mean the bundled preset 'cosine_warm'?\n"
    )
    (tmp_path / "folder.yaml").mkdir()
    assert lrviz_cli("table", "folder.yaml").stderr == (
        "error: folder.yaml: is a folder; give a spec file (or use lrviz check folder.yaml)\n"
    )


# --- the header never contradicts the rows after an override -------------------------------


def test_description_is_marked_once_anything_is_overridden():
    plain = lrviz_cli("table", "steplr")
    assert plain.stdout.splitlines()[0].startswith("lr 0.1 for epochs 0-29") or (
        "[file description" not in plain.stdout
    )
    result = lrviz_cli("table", "steplr", "--set", "scheduler.step_size=10", "--epochs", "40")
    first = result.stdout.splitlines()[0]
    assert first.startswith("[file description, before --epochs 40 --set scheduler.step_size=10] ")
    code = lrviz_cli("code", "steplr", "--set", "scheduler.step_size=10")
    assert "[file description, before --set scheduler.step_size=10]" in code.stdout


# --- a reader claims a file only on its own markers ----------------------------------------


TORCHTUNE = """\
output_dir: /tmp/out
model:
  _component_: torchtune.models.llama3_2.lora_llama3_2_1b
optimizer:
  _component_: torch.optim.AdamW
  lr: 3e-4
lr_scheduler:
  _component_: torchtune.training.lr_schedulers.get_cosine_schedule_with_warmup
  num_warmup_steps: 100
epochs: 1
gradient_accumulation_steps: 8
batch_size: 4
"""


def test_a_torchtune_config_is_not_read_as_training_arguments(tmp_path: Path):
    f = tmp_path / "tune.yaml"
    f.write_text(TORCHTUNE)
    for command in ("table", "check", "snapshot"):
        args = [command, str(f)] + (
            ["-o", str(tmp_path / "x.csv")] if command == "snapshot" else []
        )
        result = lrviz_cli(*args)
        text = result.stdout + result.stderr
        # the torchtune reader claims it (and names what its recipes need), never hf's
        assert "max_steps_per_epoch is missing: torchtune's recipes read" in text
        assert result.exit_code in (1, 2)
        assert [x for x in text.splitlines() if "LRV" in x or "error:" in x] == [
            x for x in text.splitlines() if "torchtune" in x
        ]
    assert not (tmp_path / "x.csv").exists()


def test_an_unrecognised_file_is_refused_in_one_line(tmp_path: Path):
    f = tmp_path / "other.yaml"
    f.write_text("dataset: imagenet\nbatch_size: 256\naugment: {flip: true}\n")
    result = lrviz_cli("table", str(f))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {f}: not a schedule file lrviz recognises: looked for a native spec "
        "(scheduler: {type: ...}), LightningCLI (class_path), Hydra (_target_), transformers "
        "TrainingArguments (learning_rate, lr_scheduler_type, ...), torchtune (_component_), "
        "mmengine (param_scheduler, a .py config) or a YOLOv5 hyp file (lr0, lrf); pass --from "
        "FORMAT to say which it is\n"
    )
    typo = tmp_path / "typo.yaml"
    typo.write_text("schedular: {type: StepLR}\nrun: {epochs: 3}\n")
    assert "did you mean 'scheduler'?" in lrviz_cli("table", str(typo)).stderr


def test_from_works_on_check_and_snapshot(tmp_path: Path):
    f = tmp_path / "args.yaml"
    f.write_text("learning_rate: 0.001\nmax_steps: 20\nlr_scheduler_type: constant\n")
    check = lrviz_cli("check", str(f), "--from", "hf")
    assert "--from" not in check.stderr, check.stderr
    snap = lrviz_cli("snapshot", str(f), "--from", "native", "-o", str(tmp_path / "s.csv"))
    assert snap.exit_code == 2 and "unknown key" in snap.stderr
    assert lrviz_cli("check", str(f), "--from", "xml").exit_code == 2


# --- no silent one-row runs -----------------------------------------------------------------


def test_lightning_max_steps_without_iters_is_an_error(tmp_path: Path):
    f = tmp_path / "cli.yaml"
    f.write_text(
        "trainer:\n  max_steps: 5000\n"
        "optimizer: {class_path: torch.optim.AdamW, init_args: {lr: 0.001}}\n"
        "lr_scheduler: {class_path: torch.optim.lr_scheduler.StepLR, init_args: {step_size: 2}}\n"
    )
    result = lrviz_cli("table", str(f))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {f}:2: trainer.max_steps: trainer.max_steps=5,000 counts optimizer steps, and "
        "the config does not say how many an epoch has: pass --iters N (batches per epoch) or "
        "--epochs N\n"
    )
    check = lrviz_cli("check", str(f))
    assert check.exit_code == 1 and "LRV001" in check.stdout
    assert lrviz_cli("table", str(f), "--iters", "1000").exit_code == 0


def test_lightning_per_step_interval_without_iters_is_an_error(tmp_path: Path):
    f = tmp_path / "cli.yaml"
    f.write_text(
        "trainer:\n  max_epochs: 3\n"
        "lr_scheduler:\n  scheduler: {class_path: ExponentialLR, init_args: {gamma: 0.9}}\n"
        "  interval: step\n"
    )
    result = lrviz_cli("table", str(f))
    assert result.exit_code == 2
    assert "pass --iters N (the len() of the train dataloader)" in result.stderr
    assert lrviz_cli("table", str(f), "--iters", "4").exit_code == 0


# --- a dict goes through the same loader as a file ------------------------------------------


def test_a_dict_with_a_recipe_type_runs_like_the_same_file(tmp_path: Path):
    data = {
        "optimizer": {"type": "SGD", "lr": 0.1},
        "scheduler": {"type": "warmup_cosine", "warmup": 0.1, "min_lr_ratio": 0.1},
        "run": {"epochs": 4, "iters_per_epoch": 25, "step": "batch"},
    }
    f = tmp_path / "spec.yaml"
    f.write_text(json.dumps(data))
    from_dict, from_file = lrviz.run(data), lrviz.run(f)
    assert from_dict.rows == 100
    assert from_dict.lr.tolist() == from_file.lr.tolist()
    assert data["scheduler"]["type"] == "warmup_cosine"  # the caller's dict is not modified


def test_check_findings_on_a_converted_config_name_the_users_key(tmp_path: Path):
    f = tmp_path / "cli.yaml"
    f.write_text(
        "trainer:\n  max_epochs: 20\n"
        "optimizer: {class_path: torch.optim.SGD, init_args: {lr: 0.1}}\n"
        "lr_scheduler:\n"
        "  class_path: torch.optim.lr_scheduler.CosineAnnealingLR\n"
        "  init_args: {T_max: 5}\n"
    )
    result = lrviz_cli("check", "-f", "json", str(f))
    (finding,) = json.loads(result.stdout)["files"][0]["findings"]
    assert (finding["id"], finding["key"], finding["line"]) == (
        "LRV003",
        "lr_scheduler.init_args.T_max",
        6,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "learning_rate: 0.001\nmodel: {_target_: mypkg.Net}\n",
            "transformers keys (learning_rate) next to hydra markers (at model._target_): not "
            "guessing; pass --from hf if it is TrainingArguments",
        ),
        (
            "lr0: 0.01\nlrf: 0.01\nmodel: {class_path: mypkg.Net}\n",
            "YOLOv5 hyperparameters (lr0, lrf) next to lightning markers (at "
            "model.class_path): not guessing; pass --from yolo if it is a YOLOv5 hyp file",
        ),
    ],
)
def test_keys_of_one_framework_next_to_anothers_markers_are_refused(
    tmp_path: Path, text: str, message: str
):
    f = tmp_path / "mixed.yaml"
    f.write_text(text)
    result = lrviz_cli("table", str(f))
    assert (result.exit_code, result.stderr) == (2, f"error: {f}: {message}\n")
