"""Train a small model under a spec's schedule: the loop of docs/spec.md with real batches.

Every row of the run is one real optimizer step on one training batch. The schedule is the
same run `lrviz table` makes (lrviz.simulation, same plan, same scheduler.step() calls);
before each training step the param groups the scheduler drives are copied into the real
optimizer (every key but "params": lr, momentum, betas, ...), so the model is trained with
exactly the rows `table` shows. ReduceLROnPlateau is fed the held-out loss of the model at
the moment it steps, not `run.metrics`.

Param groups map to the model by name: a group named after a submodule (`backbone`, `head`,
or a dotted path) takes that submodule's parameters; a spec with a single group whose name is
no submodule takes the whole model. Together the groups must cover every trainable parameter,
once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .build import Plan
from .errors import LrvizError, SpecError, UsageError
from .trace import Trace

if TYPE_CHECKING:
    import numpy as np

INSTALL_HINT = "pip install 'lrviz[train]'"
MODELS = ("lenet", "mlp")
DEFAULT_MODEL = "lenet"
DEFAULT_SEED = 0
DEFAULT_BATCH_SIZE = 32
DEFAULT_THREADS = 1  # one thread: fastest for these tiny tensors, and float sums in one order
SPLIT_SEED = 0  # the digits split is fixed, whatever --seed says: every run sees the same data
TEST_IMAGES = 360  # of 1,797: 1,437 to train on, 360 held out (20%)
TEST_BATCH = 512
# The textbook's comparison (d2l.ai, "Learning Rate Scheduling"), as bundled presets.
TEXTBOOK = (
    "textbook_constant",
    "textbook_sqrt",
    "textbook_factor",
    "textbook_multifactor",
    "textbook_cosine",
    "textbook_cosine_warmup",
)


class TrainingError(LrvizError):
    """The model, its data or its loss raised during training (exit 1)."""

    exit_code = 1

    def __init__(self, name: str, step: int, epoch: int, message: str) -> None:
        self.step, self.epoch = step, epoch
        super().__init__(f"{name}: training failed at row {step} (epoch {epoch}): {message}")


@dataclass
class TrainRun:
    """One spec trained: the schedule's rows and what the model did in every epoch.

    `train_loss`/`train_acc` average the epoch's batches as the model trains on them (as the
    textbook plots them); `test_loss`/`test_acc` are measured after the epoch's last batch.
    """

    trace: Trace  # the lr rows, one per optimizer step: what `lrviz table` shows
    train_loss: list[float]
    train_acc: list[float]
    test_loss: list[float]
    test_acc: list[float]
    used_lr: np.ndarray  # (rows, groups): the lr in the real optimizer at each step
    fed_metrics: list[float] | None  # ReduceLROnPlateau: the held-out losses it stepped on
    parts: list[str]  # per group: the part of the model it trains ("the whole model" or a name)
    rows_per_epoch: int = 1
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return self.trace.name

    @property
    def groups(self) -> list[str]:
        return self.trace.groups

    @property
    def epochs(self) -> int:
        """Epochs completed (fewer than planned when the run failed)."""
        return len(self.test_acc)

    def epoch_lr(self) -> list[list[float]]:
        """Per completed epoch, every group's lr at the epoch's first optimizer step."""
        first = [e * self.rows_per_epoch for e in range(self.epochs)]
        return [[float(v) for v in self.trace.lr[k]] for k in first if k < self.trace.rows]


# --- the built-in data and models -------------------------------------------------------


class Batches:
    """Batches of (inputs, labels) tensors, reshuffled every epoch from torch's global RNG."""

    def __init__(self, x: Any, y: Any, batch_size: int, *, shuffle: bool) -> None:
        self.x, self.y, self.batch_size, self.shuffle = x, y, batch_size, shuffle

    def __len__(self) -> int:
        return -(-len(self.y) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        import torch

        n = len(self.y)
        order = torch.randperm(n) if self.shuffle else torch.arange(n)
        for start in range(0, n, self.batch_size):
            idx = order[start : start + self.batch_size]
            yield self.x[idx], self.y[idx]


def digits(
    batch_size: int = DEFAULT_BATCH_SIZE, *, limit: int | None = None
) -> tuple[Batches, Batches]:
    """scikit-learn's handwritten digits (8×8, shipped with it): (train, test) batches.

    A fixed split: 1,437 images to train on, 360 held out. `limit` keeps the first `limit`
    training and `limit // 4` held-out images (for quick tests).

    >>> train, test = digits(32)
    >>> len(train), len(test.y), tuple(train.x.shape[1:])
    (45, 360, (1, 8, 8))
    """
    import torch

    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise UsageError(
            f"lrviz train needs scikit-learn for the digits data: {INSTALL_HINT}"
        ) from None
    if batch_size < 1:
        raise UsageError(f"batch_size must be at least 1, got {batch_size}")
    images, labels = load_digits(return_X_y=True)
    x = torch.tensor(images, dtype=torch.float32).reshape(-1, 1, 8, 8) / 16.0  # pixels 0..16
    y = torch.tensor(labels, dtype=torch.int64)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(SPLIT_SEED))
    test, train = order[:TEST_IMAGES], order[TEST_IMAGES:]
    if limit is not None:
        train, test = train[:limit], test[: max(1, limit // 4)]
    return (
        Batches(x[train], y[train], batch_size, shuffle=True),
        Batches(x[test], y[test], TEST_BATCH, shuffle=False),
    )


def make_model(name: str = DEFAULT_MODEL) -> Callable[[], Any]:
    """A function making a fresh built-in model: `lenet` or `mlp`, each a `backbone` + `head`.

    lenet, the textbook's LeNet with ReLU and max pooling, sized for 8×8 images:
      backbone: Conv2d(1, 6, 3, padding=1), ReLU, MaxPool2d(2),
                Conv2d(6, 16, 3, padding=1), ReLU, MaxPool2d(2), Flatten  (16×2×2 = 64)
      head:     Linear(64, 120), ReLU, Linear(120, 84), ReLU, Linear(84, 10)
    mlp:
      backbone: Flatten, Linear(64, 128), ReLU
      head:     Linear(128, 10)
    Weights Xavier-uniform, as the textbook initialises them; biases torch's default.
    """
    if name not in MODELS:
        raise UsageError(f"model must be one of {', '.join(MODELS)}, not {name!r}")

    def make() -> Any:
        from collections import OrderedDict

        from torch import nn

        if name == "lenet":
            backbone = nn.Sequential(
                nn.Conv2d(1, 6, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(6, 16, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Flatten(),
            )
            head = nn.Sequential(
                nn.Linear(64, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)
            )
        else:
            backbone = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU())
            head = nn.Sequential(nn.Linear(128, 10))
        model = nn.Sequential(OrderedDict(backbone=backbone, head=head))
        for module in model.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                nn.init.xavier_uniform_(module.weight)
        return model

    make.__name__ = name
    return make


# --- plans ----------------------------------------------------------------------------------


def training_plan(arg: Any, options: Any, iters_per_epoch: int) -> Plan:
    """A checked Plan for one SPEC (path, preset, class name or dict) with the data's batches.

    `options` is a load.Options; its `iters` is replaced by `iters_per_epoch`. A metric-driven
    scheduler gets the held-out loss at run time, so `run.metrics` is not needed (and not read).
    """
    from .build import plan
    from .load import load_spec

    options = dataclasses.replace(options, iters=iters_per_epoch)
    spec = load_spec(arg if isinstance(arg, Mapping) else str(arg), options)
    if spec.run.steps is not None:
        raise SpecError(
            [
                spec.problem(
                    "run.steps",
                    "lrviz train runs whole epochs; drop run.steps and set run.epochs",
                )
            ]
        )
    driven = _metric_driven(spec)
    notes = [f"run.iters_per_epoch: {iters_per_epoch:,} (the training data's batches per epoch)"]
    if driven:
        had = spec.run.metrics is not None or "run.metrics" in spec.lines
        spec.problems = [p for p in spec.problems if not (p.key or "").startswith("run.metrics")]
        # Placeholders that pass the plan's count check; the run reads the held-out loss.
        spec.run.metrics = [math.nan] * (spec.run.epochs * spec.run.iters_per_epoch)
        notes.append(
            f"{driven} is fed the held-out loss of the model as it steps"
            + (" (run.metrics is not used)" if had else "")
        )
    checked = plan(spec, max_rows=options.max_rows)
    return dataclasses.replace(checked, notes=(*checked.notes, *notes))


def _metric_driven(spec: Any) -> str | None:
    """The name of the spec's metric-driven scheduler (ReduceLROnPlateau), if it has one."""
    from . import catalog

    nodes = getattr(spec.scheduler, "members", None) or [spec.scheduler]
    for node in nodes:
        try:
            info = catalog.find("scheduler", node.type, catalog.schedulers())
        except KeyError:
            continue
        if info.metric_driven:
            return str(info.name)
    return None


def assign_groups(model: Any, spec: Any) -> tuple[list[list[Any]], list[str]]:
    """The model's parameters per spec param group, and what each group trains.

    Raises SpecError (one line) for a group that names no part of the model, parts given to
    two groups, or trainable parameters no group covers.
    """
    names: list[str] = list(spec.group_names)
    trainable = [p for p in model.parameters() if p.requires_grad]
    parts = [n for n, m in model.named_children() if any(p.requires_grad for p in m.parameters())]
    listed = ", ".join(parts) or "none"

    def is_part(name: str) -> bool:
        try:
            model.get_submodule(name)
        except AttributeError:
            return False
        return bool(name)

    if len(names) == 1 and not is_part(names[0]):
        return [trainable], ["the whole model"]
    groups: list[list[Any]] = []
    owner: dict[int, int] = {}
    for i, name in enumerate(names):
        if not is_part(name):
            raise SpecError(
                [
                    spec.problem(
                        f"param_groups[{i}].name",
                        f"group {name!r} names no part of the model (its parts: {listed}); "
                        f"name each group after a part, or use one group for the whole model",
                    )
                ]
            )
        params = [p for p in model.get_submodule(name).parameters() if p.requires_grad]
        for p in params:
            if id(p) in owner:
                other = names[owner[id(p)]]
                raise SpecError(
                    [
                        spec.problem(
                            f"param_groups[{i}].name",
                            f"groups {other!r} and {name!r} share parameters; "
                            f"give each part of the model to one group",
                        )
                    ]
                )
            owner[id(p)] = i
        groups.append(params)
    left = [n for n, p in model.named_parameters() if p.requires_grad and id(p) not in owner]
    if left:
        untrained = sorted({n.split(".")[0] for n in left})
        raise SpecError(
            [
                spec.problem(
                    "param_groups",
                    f"the groups leave {', '.join(untrained)} untrained ({len(left)} "
                    f"parameter tensors); add a group for each part (the model's parts: {listed})",
                )
            ]
        )
    return groups, names


# --- the run --------------------------------------------------------------------------------


@contextlib.contextmanager
def deterministic(seed: int, threads: int = DEFAULT_THREADS) -> Iterator[None]:
    """Seeded torch RNG, deterministic algorithms, fixed threads; all restored on exit."""
    import torch

    det = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    before = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True)
        torch.set_num_threads(threads)
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(det, warn_only=warn_only)
            torch.set_num_threads(before)


class _HeldOutLoss:
    """`plan.metrics` for ReduceLROnPlateau: the held-out loss at the moment it steps."""

    def __init__(self, loop: _Loop) -> None:
        self.loop = loop
        self.fed: list[float] = []

    def __getitem__(self, n: int) -> float:
        # n counts the scheduler's steps; the value is whatever the model scores right now
        value = self.loop.held_out_loss()
        self.fed.append(value)
        return value

    def __len__(self) -> int:  # the plan checked the count already; any step may ask
        return self.loop.rows


class _Loop:
    """The training that happens at each row: one batch, and the epoch's end measures."""

    def __init__(
        self,
        name: str,
        plan: Plan,
        model: Any,
        groups: list[list[Any]],
        train_loader: Iterable[Any],
        test_loader: Iterable[Any],
        loss_fn: Callable[[Any, Any], Any],
    ) -> None:
        self.name, self.model, self.groups = name, model, groups
        self.train_loader, self.test_loader, self.loss_fn = train_loader, test_loader, loss_fn
        self.iters = plan.iters_per_epoch
        self.rows = plan.rows
        # A row is one batch; a plan with one row per epoch (epoch mode, older loop) trains
        # the whole epoch in that row, where the lr is the same for every batch anyway.
        self.batches_per_row = self.iters if plan.rows == plan.epochs else 1
        self.optimizer: Any = None
        self.batches: Iterator[Any] | None = None
        self.sums = [0.0, 0.0, 0]  # loss × n, correct, n over the epoch so far
        self.done_in_epoch = 0
        self.used: list[list[float]] = []
        self.train_loss: list[float] = []
        self.train_acc: list[float] = []
        self.test_loss: list[float] = []
        self.test_acc: list[float] = []
        self.version = 0  # optimizer steps so far: the held-out loss is cached per version
        self.cached: tuple[int, float, float] | None = None  # (version, loss, accuracy)
        self.raised: BaseException | None = None
        self.failed_row = 0

    def row(self, built: Any, k: int) -> None:
        """simulation.run's on_row: the training step(s) of row k, at the lr the row records."""
        try:
            if self.optimizer is None:
                self.optimizer = _real_optimizer(built.optimizer, self.groups)
            self._sync(built.optimizer)
            self.used.append([float(g["lr"]) for g in self.optimizer.param_groups])
            for _ in range(self.batches_per_row):
                self._batch()
        except Exception as exc:
            self.raised, self.failed_row = exc, k
            raise

    def _sync(self, driven: Any) -> None:
        # Whatever the scheduler wrote into its param groups is what this step uses.
        for mine, theirs in zip(self.optimizer.param_groups, driven.param_groups, strict=True):
            for key, value in theirs.items():
                if key != "params":
                    mine[key] = value

    def _batch(self) -> None:
        if self.batches is None:
            self.batches = iter(self.train_loader)
            self.sums = [0.0, 0.0, 0]
            self.done_in_epoch = 0
        try:
            inputs, targets = next(self.batches)
        except StopIteration:
            raise RuntimeError(
                f"train_loader gave {self.done_in_epoch} batches in epoch "
                f"{len(self.test_acc)}; len(train_loader) said {self.iters}"
            ) from None
        first: list[tuple[Any, Any]] = []

        def closure() -> Any:
            self.optimizer.zero_grad(set_to_none=True)
            out = self.model(inputs)
            loss = self.loss_fn(out, targets)
            loss.backward()
            if not first:
                first.append((loss.detach(), out.detach()))
            return loss

        self.model.train()
        self.optimizer.step(closure)  # every torch optimizer takes a closure (LBFGS needs it)
        self.version += 1
        loss, out = first[0]
        n = len(targets)
        self.sums[0] += float(loss) * n
        self.sums[1] += _correct(out, targets)
        self.sums[2] += n
        self.done_in_epoch += 1
        if self.done_in_epoch == self.iters:
            self._end_epoch()

    def _end_epoch(self) -> None:
        total_loss, correct, n = self.sums
        self.train_loss.append(total_loss / n)
        self.train_acc.append(correct / n)
        loss, acc = self._measure()
        self.test_loss.append(loss)
        self.test_acc.append(acc)
        self.batches = None

    def held_out_loss(self) -> float:
        """The held-out loss of the model as it is now (measured once per optimizer step)."""
        return self._measure()[0]

    def _measure(self) -> tuple[float, float]:
        import torch

        if self.cached is not None and self.cached[0] == self.version:
            return self.cached[1], self.cached[2]
        self.model.eval()
        total, correct, n = 0.0, 0.0, 0
        with torch.no_grad():
            for inputs, targets in self.test_loader:
                out = self.model(inputs)
                m = len(targets)
                total += float(self.loss_fn(out, targets)) * m
                correct += _correct(out, targets)
                n += m
        if n == 0:
            raise RuntimeError("test_loader gave no batches")
        self.cached = (self.version, total / n, correct / n)
        return total / n, correct / n


def _real_optimizer(driven: Any, groups: list[list[Any]]) -> Any:
    """The optimizer class and options of the scheduler's optimizer, over the model's groups."""
    params = [
        {**{k: v for k, v in pg.items() if k != "params"}, "params": ps}
        for pg, ps in zip(driven.param_groups, groups, strict=True)
    ]
    return type(driven)(params, **driven.defaults)


def _correct(out: Any, targets: Any) -> float:
    """Correct class predictions in a batch (NaN when the output is not class scores)."""
    if out.ndim != 2 or targets.ndim != 1 or targets.is_floating_point():
        return math.nan
    return float((out.argmax(dim=1) == targets).sum())


def _loss_fn(loss_fn: Callable[[Any, Any], Any] | None) -> Callable[[Any, Any], Any]:
    if loss_fn is not None:
        return loss_fn
    from torch import nn

    return nn.CrossEntropyLoss()


def run_plan(
    plan: Plan,
    make: Callable[[], Any],
    train_loader: Iterable[Any],
    test_loader: Iterable[Any],
    *,
    seed: int = DEFAULT_SEED,
    loss_fn: Callable[[Any, Any], Any] | None = None,
    threads: int = DEFAULT_THREADS,
) -> TrainRun:
    """Train a fresh model from `make()` under one plan; the same seed gives the same numbers.

    Raises SpecError when the spec's param groups do not fit the model, TrainingError when
    the model, its data or the loss raises. A failure of the scheduler itself (OneCycleLR
    stepped too far) ends the run like `lrviz table`: the trace's `error`, earlier epochs kept.
    """
    import numpy as np

    from .simulation import run as simulate

    iters = _batches_per_epoch(train_loader)
    if iters != plan.iters_per_epoch:
        raise UsageError(
            f"the plan has {plan.iters_per_epoch} batches per epoch, the train_loader {iters}"
        )
    name = plan.spec.name
    criterion = _loss_fn(loss_fn)
    start = time.perf_counter()
    with deterministic(seed, threads):
        model = make()
        groups, parts = assign_groups(model, plan.spec)
        loop = _Loop(name, plan, model, groups, train_loader, test_loader, criterion)
        fed: _HeldOutLoss | None = None
        if plan.metrics is not None:
            fed = _HeldOutLoss(loop)
            plan = dataclasses.replace(plan, metrics=fed)  # type: ignore[arg-type]
        trace = simulate(plan, on_row=loop.row)
    if loop.raised is not None and trace.error is not None:
        epoch = len(loop.test_acc)
        raise TrainingError(name, loop.failed_row, epoch, trace.error.message) from loop.raised
    used = np.asarray(loop.used, dtype=np.float64).reshape(-1, len(trace.groups))
    return TrainRun(
        trace=trace,
        train_loss=loop.train_loss,
        train_acc=loop.train_acc,
        test_loss=loop.test_loss,
        test_acc=loop.test_acc,
        used_lr=used,
        fed_metrics=fed.fed if fed is not None else None,
        parts=parts,
        rows_per_epoch=1 if loop.batches_per_row > 1 else plan.iters_per_epoch,
        seconds=time.perf_counter() - start,
    )


def _batches_per_epoch(loader: Iterable[Any]) -> int:
    try:
        n = len(loader)  # type: ignore[arg-type]
    except TypeError:
        raise UsageError(
            "train_loader needs a length (its batches per epoch), as a DataLoader has"
        ) from None
    if n < 1:
        raise UsageError("train_loader has no batches")
    return int(n)


def train(
    make_model: Callable[[], Any],
    train_loader: Iterable[Any],
    test_loader: Iterable[Any],
    specs: Any,
    *,
    seed: int = DEFAULT_SEED,
    loss_fn: Callable[[Any, Any], Any] | None = None,
    epochs: int | None = None,
    step: str | None = None,
    overrides: Sequence[str] = (),
    source_format: str | None = None,
    root: str | Path | None = None,
) -> list[TrainRun]:
    """Train a fresh `make_model()` under each spec's schedule; one TrainRun per spec.

    `specs`: one or a list of spec files, presets, class names or spec dicts (as `lrviz.run`
    takes). Batches per epoch are `len(train_loader)`. The model must return class scores for
    `loss_fn` (default: cross-entropy) and the loaders yield (inputs, targets). Each spec
    starts from the same seeded initialisation and batch order. See the module docstring for
    how param groups map to the model.
    """
    from .load import Options

    items = [specs] if isinstance(specs, (str, Path, Mapping)) else list(specs)
    if not items:
        raise UsageError("give at least one spec")
    iters = _batches_per_epoch(train_loader)
    where = Path(root) if root is not None else None
    options = Options(tuple(overrides), epochs, None, step, source_format=source_format, root=where)
    plans = [training_plan(s, options, iters) for s in items]  # every spec checked first
    return [
        run_plan(p, make_model, train_loader, test_loader, seed=seed, loss_fn=loss_fn)
        for p in plans
    ]


def figure(runs: Sequence[TrainRun], **look: Any) -> Any:
    """A matplotlib Figure: lr, train loss, train and test accuracy per epoch, a line per run.

    `look`: size (inches), dpi, log (lr axis), title — as `lrviz train -o FILE.png` draws it.
    """
    from .render.training import figure as draw

    return draw(runs, **look)


def to_csv(runs: Sequence[TrainRun], path: str | Path) -> None:
    """Write every epoch of every run as CSV (what `lrviz train -o FILE.csv` writes)."""
    from .atomic import write_atomic
    from .render.training import iter_csv

    write_atomic(Path(path), iter_csv(runs))
