"""Real Lightning runs to compare lrviz with: Trainer.fit on a tiny model, on CPU.

A callback records `optimizer.param_groups[g]["lr"]` (and momentum) in
`on_before_optimizer_step`, i.e. at the moment each optimizer step runs: lrviz's row.
`cli_rows` runs the real LightningCLI on a config file, with only the model, the data and
the hardware swapped for tiny CPU ones, so the optimizer and scheduler are whatever
LightningCLI makes of the file.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import lightning.pytorch as pl
import torch
import yaml
from lightning.pytorch.cli import LightningCLI, instantiate_class
from torch.utils.data import DataLoader, TensorDataset

# Trainer settings that keep a reference run small, quiet and on the CPU.
QUIET = {
    "accelerator": "cpu",
    "devices": 1,
    "enable_checkpointing": False,
    "logger": False,
    "enable_progress_bar": False,
    "enable_model_summary": False,
    "num_sanity_val_steps": 0,
    "limit_val_batches": 0,
}
# Trainer arguments of a real config that would need a GPU, a logger or files: dropped.
HARDWARE = ("accelerator", "strategy", "devices", "num_nodes", "precision", "logger", "callbacks")


class Recorder(pl.Callback):
    """lr and momentum of every param group at each optimizer step."""

    def __init__(self) -> None:
        self.lr: list[list[float]] = []
        self.momentum: list[list[float | None]] = []

    def on_before_optimizer_step(self, trainer: Any, pl_module: Any, optimizer: Any) -> None:
        self.lr.append([g["lr"] for g in optimizer.param_groups])
        self.momentum.append(
            [
                g.get("momentum", g["betas"][0] if "betas" in g else None)
                for g in optimizer.param_groups
            ]
        )


def loader(batches: int) -> DataLoader:
    """A train dataloader of `batches` batches of one sample."""
    gen = torch.Generator().manual_seed(0)
    data = TensorDataset(
        torch.randn(batches, 2, generator=gen), torch.randn(batches, 1, generator=gen)
    )
    return DataLoader(data, batch_size=1)


class TinyModel(pl.LightningModule):
    """A linear layer; LightningCLI gives it configure_optimizers (or a subclass does)."""

    def __init__(self, metrics: list[float] | None = None, monitor: str = "val_loss") -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)
        self.metrics = metrics
        self.monitor = monitor

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        x, y = batch
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def on_train_epoch_end(self) -> None:
        # A scripted metric for ReduceLROnPlateau: one value per epoch, as lrviz's run.metrics.
        if self.metrics is not None:
            self.log(self.monitor, self.metrics[self.current_epoch])


class FitModel(TinyModel):
    """TinyModel whose configure_optimizers is the test's `configure(params)`."""

    def __init__(self, configure: Callable[[Any], Any], metrics: list[float] | None) -> None:
        super().__init__(metrics)
        self.configure = configure

    def configure_optimizers(self) -> Any:
        return self.configure(self.parameters())


class InitArgsModel(TinyModel):
    """A project's module that takes its optimizer and scheduler as class dicts.

    The Lightning 1.x docs' pattern (optimizer_init / lr_scheduler_init), plus the
    interval/frequency arguments many projects add and hand to Lightning unchanged.
    """

    def __init__(
        self,
        optimizer_init: dict,
        lr_scheduler_init: dict,
        interval: str = "epoch",
        frequency: int = 1,
        hidden: int = 8,
    ) -> None:
        super().__init__()
        self.optimizer_init = optimizer_init
        self.lr_scheduler_init = lr_scheduler_init
        self.interval = interval
        self.frequency = frequency

    def configure_optimizers(self) -> Any:
        optimizer = instantiate_class(self.parameters(), self.optimizer_init)
        scheduler = instantiate_class(optimizer, self.lr_scheduler_init)
        config = {"scheduler": scheduler, "interval": self.interval, "frequency": self.frequency}
        return {"optimizer": optimizer, "lr_scheduler": config}


class ListModel(TinyModel):
    """A module whose config lists several LRSchedulerConfigs (each with its own interval)."""

    def __init__(self, optimizer: dict, lr_schedulers: list[dict]) -> None:
        super().__init__()
        self.optimizer_init = optimizer
        self.lr_schedulers = lr_schedulers

    def configure_optimizers(self) -> Any:
        optimizer = instantiate_class(self.parameters(), self.optimizer_init)
        configs = []
        for item in self.lr_schedulers:
            config = dict(item)
            config["scheduler"] = instantiate_class(optimizer, item["scheduler"])
            configs.append(config)
        return [optimizer], configs


class TinyData(pl.LightningDataModule):
    def __init__(self, batches: int = 4) -> None:
        super().__init__()
        self.batches = batches

    def train_dataloader(self) -> DataLoader:
        return loader(self.batches)


def fit_rows(
    configure: Callable[[Any], Any],
    *,
    epochs: int,
    batches: int,
    metrics: list[float] | None = None,
    **trainer: Any,
) -> Recorder:
    """Trainer.fit of TinyModel whose configure_optimizers is `configure(params)`."""
    torch.manual_seed(0)
    recorder = Recorder()
    model = FitModel(configure, metrics)
    run = pl.Trainer(max_epochs=epochs, callbacks=[recorder], **{**QUIET, **trainer})
    run.fit(model, train_dataloaders=loader(batches))
    return recorder


def cli_rows(
    config: Path | dict,
    batches: int,
    *,
    tmp: Path,
    model: type = TinyModel,
    keep_model_args: bool = False,
    cli: type[LightningCLI] = LightningCLI,
    metrics: list[float] | None = None,
) -> Recorder:
    """The real LightningCLI on a config; the model, data and hardware swapped for tiny ones.

    `model` replaces the config's model: as the fixed model class, or (`keep_model_args`)
    as the class_path of its model section, whose init_args are kept.
    """
    data = yaml.safe_load(config.read_text()) if isinstance(config, Path) else copy.deepcopy(config)
    section = data.get("fit", data)
    section["data"] = {"batches": batches}
    section["seed_everything"] = 0  # `true` makes Lightning pick (and warn about) a seed
    if keep_model_args:
        section["model"]["class_path"] = f"{model.__module__}.{model.__qualname__}"
    else:
        section["model"] = {"metrics": metrics} if metrics is not None else {}
    trainer = section.setdefault("trainer", {})
    for key in HARDWARE:
        trainer.pop(key, None)
    file = tmp / "cli_config.yaml"
    file.write_text(yaml.safe_dump(data))
    recorder = Recorder()
    kwargs: dict[str, Any] = {
        "datamodule_class": TinyData,
        "save_config_callback": None,
        "trainer_defaults": {**QUIET, "callbacks": [recorder]},
        # A config with a fit: section goes to the top-level parser, as on the command line.
        "args": ["--config", str(file)] if "fit" in data else ["fit", "--config", str(file)],
    }
    if keep_model_args:
        kwargs["subclass_mode_model"] = True
    else:
        kwargs["model_class"] = model
    torch.manual_seed(0)
    # The test runner's arguments are not the CLI's; jsonargparse's own switch quiets its
    # deprecation notices about the calls lightning 2.6 makes.
    env = {"JSONARGPARSE_DEPRECATION_WARNINGS": "off"}
    with mock.patch("sys.argv", ["train.py"]), mock.patch.dict(os.environ, env):
        cli(**kwargs)
    return recorder
