"""Hydra configs: `_target_` nodes for the optimizer and scheduler -> native data.

A config with a `defaults:` list (or a `# @package` header that moves its content) is
composed by Hydra itself (the `hydra` extra), reading only files inside the project tree;
`${...}` interpolations are resolved by OmegaConf. lrviz never runs a resolver that reads
outside the config (`oc.env`) or that a project registers in its own code.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import (
    OPTIMIZER_MODULES,
    SCHEDULER_MODULES,
    Ctx,
    class_name,
    trainer_run,
)
from .hf import HF_PREFIX
from .lightning import Stepped, fill_lr, find, place, steppings, unstated

# Hydra's own instantiate keys: they steer instantiation and are not constructor keywords.
META_KEYS = ("_target_", "_partial_", "_recursive_", "_convert_")
# A trainer node with this _target_ is Lightning's, whose max_epochs defaults to 1000.
LIGHTNING = ("lightning.", "pytorch_lightning.")
INSTALL = "pip install 'lrviz[hydra]'"
# Hydra's version_base for composition: the one lightning-hydra-template and Hydra's docs use.
VERSION_BASE = "1.3"
# OmegaConf resolvers that only look inside the config; any other (oc.env reads the
# environment, oc.decode/oc.create re-parse text, a project's own need its Python code)
# is never run: the value that calls it is replaced before OmegaConf resolves anything.
SAFE_RESOLVERS = ("oc.select", "oc.dict.keys", "oc.dict.values", "oc.deprecated")
_RESOLVER = re.compile(r"\$\{\s*([A-Za-z_][\w.\-]*)\s*:")
_SENTINEL = re.compile("\x00lrviz(\\d+)\x00")
_HEADER = re.compile(r"^\s*#\s*@package\s+(\S+)")
_GROUP_CHOICE = re.compile(r"^[\w\-./]+$")
_SCHEME = "lrviz-confined"


def convert(data: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    """Native spec data from a Hydra config (the lightning-hydra-template layout works)."""
    doc = document(ctx, data)
    if doc is None:
        return {}
    data = doc.data
    native: dict[str, Any] = {}
    opt = _first(find(data, "", "optim"))
    if opt is not None:
        key, node = opt
        target = doc.read(ctx, node["_target_"], f"{key}._target_")
        name = class_name(ctx, target, f"{key}._target_", OPTIMIZER_MODULES, "optimizer")
        ctx.at("optimizer", key)
        ctx.at("optimizer.type", f"{key}._target_")
        kwargs = _kwargs(ctx, doc, node, key, "optimizer", skip=("params",))
        native["optimizer"] = {"type": name or "SGD", **kwargs}
        fill_lr(ctx, native["optimizer"])
    else:
        ctx.notes.append(
            "no optimizer _target_ in the config: showing SGD lr=0.1; "
            "the schedule's shape does not depend on it"
        )
    found = _first(find(data, "", "sched"))
    if found is None:
        nulls = [f.key for f in find(data, "", "sched") if f.value is None]
        ctx.problem(
            nulls[0] if nulls else None,
            "this config has no scheduler (null): the lr stays at the optimizer's for the "
            "whole run, so there is no schedule to show"
            if nulls
            else "no scheduler found: a Hydra config names it as scheduler: "
            "{_target_: torch.optim.lr_scheduler.StepLR, _partial_: true, ...}",
        )
        return native
    configs = steppings(ctx, found[1], found[0], _is_target, lambda v, k: doc.read(ctx, v, k))

    def build(s: Stepped, native_key: str) -> dict[str, Any]:
        return scheduler(ctx, doc, s.node, s.key, native_key)

    trainer = _trainer(ctx, doc)
    step = place(ctx, native, configs, build, None, trainer.get("accumulate_grad_batches"))
    if step is None and isinstance(native.get("scheduler"), dict):
        types = _types(native["scheduler"])
        # transformers' schedules count optimizer steps: the loop steps them once per batch.
        step = "batch" if any(str(t).startswith(HF_PREFIX) for t in types) else None
        unstated(ctx, native["scheduler"], found[0])
    target = str(data.get("trainer", {}).get("_target_", "")) if _mapping(data, "trainer") else ""
    native["run"] = trainer_run(
        ctx, {"trainer": trainer}, step, lightning=target.startswith(LIGHTNING)
    )
    if isinstance(native.get("scheduler"), list):
        native["run"].pop("step", None)  # each member has its own
    return native


def _mapping(data: dict[str, Any], key: str) -> bool:
    return isinstance(data.get(key), dict)


def _first(found: list[Any]) -> tuple[str, Any] | None:
    """The first optimizer/scheduler entry with a _target_ (or Lightning's config shape)."""
    for f in found:
        value = f.value
        items = value if isinstance(value, list) else [value]
        if items and all(_is_target(i) or _wrapped(i) for i in items):
            return f.key, value
    return None


def _is_target(node: Any) -> bool:
    return isinstance(node, dict) and "_target_" in node


def _wrapped(node: Any) -> bool:
    """Lightning's LRSchedulerConfig shape: {scheduler: {_target_: ...}, interval: ...}."""
    return isinstance(node, dict) and _is_target(node.get("scheduler"))


def _types(node: dict[str, Any]) -> list[str]:
    return [str(node.get("type", ""))] + [
        str(c.get("type", "")) for c in node.get("schedulers", [])
    ]


def _trainer(ctx: Ctx, doc: Document) -> dict[str, Any]:
    """The trainer keys the run reads, resolved."""
    trainer = doc.data.get("trainer")
    if not isinstance(trainer, dict):
        return {}
    keys = ("max_epochs", "max_steps", "accumulate_grad_batches")
    return {k: doc.read(ctx, trainer[k], f"trainer.{k}") for k in keys if k in trainer}


def scheduler(ctx: Ctx, doc: Document, node: Any, key: str, native: str) -> dict[str, Any]:
    """A native scheduler mapping from a `_target_` node; nested children inline."""
    if not isinstance(node, dict) or "_target_" not in node:
        ctx.problem(
            key, "expected a node with a _target_, e.g. _target_: torch.optim.lr_scheduler.StepLR"
        )
        return {"type": ""}
    target = doc.read(ctx, node["_target_"], f"{key}._target_")
    if isinstance(target, str) and target.startswith(HF_PREFIX):
        name: str | None = HF_PREFIX + target[len(HF_PREFIX) :].removeprefix("optimization.")
    else:
        name = class_name(ctx, target, f"{key}._target_", SCHEDULER_MODULES, "scheduler")
    ctx.at(native, key)
    ctx.at(f"{native}.type", f"{key}._target_")
    kwargs = _kwargs(ctx, doc, node, key, native, skip=("optimizer", "schedulers"))
    out: dict[str, Any] = {"type": name or "", **kwargs}
    children = node.get("schedulers")
    if children is not None:
        ckey = f"{key}.schedulers"
        ctx.at(f"{native}.schedulers", ckey)
        if not isinstance(children, list):
            ctx.problem(ckey, "expected a list of _target_ nodes")
        else:
            out["schedulers"] = [
                scheduler(ctx, doc, c, f"{ckey}[{i}]", f"{native}.schedulers[{i}]")
                for i, c in enumerate(children)
            ]
    return out


def _kwargs(
    ctx: Ctx,
    doc: Document,
    node: dict[str, Any],
    key: str,
    native: str,
    skip: tuple[str, ...],
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in node.items():
        if name in META_KEYS or name in skip:
            continue
        if name == "_args_":
            ctx.problem(f"{key}._args_", "positional _args_ are not supported; name each argument")
            continue
        out[str(name)] = doc.read(ctx, value, f"{key}.{name}")
        ctx.at(f"{native}.{name}", f"{key}.{name}")
    return out


@dataclass
class Document:
    """A Hydra config as plain data, and the OmegaConf config that resolves its `${...}`."""

    data: dict[str, Any]
    cfg: Any = None  # an OmegaConf DictConfig, or None when none is needed (or installed)
    replaced: dict[int, tuple[str, str]] = field(default_factory=dict)  # n -> (key, resolver)

    def read(self, ctx: Ctx, value: Any, key: str) -> Any:
        """A value with its interpolations resolved by OmegaConf; a problem when it cannot be."""
        if value == "???":  # OmegaConf's MISSING: Hydra wants it from the command line
            ctx.problem(
                key,
                f"{key} is ??? (a value Hydra requires from the command line): "
                f"pass --set {key}=VALUE",
            )
            return None
        if not _interpolated(value):
            return value
        if self.cfg is None:
            ctx.problem(
                key,
                f"{value!r} is an interpolation, which lrviz resolves with OmegaConf: "
                f"install the hydra extra ({INSTALL})",
            )
            return None
        from omegaconf import DictConfig, ListConfig, OmegaConf
        from omegaconf.errors import (
            InterpolationKeyError,
            MissingMandatoryValue,
            OmegaConfBaseException,
            UnsupportedInterpolationType,
        )

        raw = value
        try:
            got = OmegaConf.select(self.cfg, key, throw_on_missing=True)
            if isinstance(got, (DictConfig, ListConfig)):
                got = OmegaConf.to_container(got, resolve=True)
        except InterpolationKeyError as exc:
            target = _absolute(key, _quoted(str(exc.msg)) or "?")
            ctx.problem(
                key,
                f"{raw!r} refers to {target!r}, which the config does not set; "
                f"pass --set {target}=VALUE",
            )
            return None
        except MissingMandatoryValue as exc:
            where = str(getattr(exc, "full_key", "") or key)
            ctx.problem(
                key,
                f"{where} is ??? (a value Hydra requires from the command line): "
                f"pass --set {where}=VALUE",
            )
            return None
        except UnsupportedInterpolationType as exc:
            name = str(exc.msg).rsplit(" ", 1)[-1]
            ctx.problem(key, _resolver_message(raw, name, key, key))
            return None
        except OmegaConfBaseException as exc:
            first = str(getattr(exc, "msg", "") or exc).splitlines()[0]
            ctx.problem(key, f"cannot resolve {raw!r}: {first}; pass --set {key}=VALUE")
            return None
        hit = _sentinels(got)
        if hit is not None:
            where, name = self.replaced[hit]
            ctx.problem(key, _resolver_message(raw, name, where, key))
            return None
        return got


def _resolver_message(raw: Any, name: str, where: str, key: str) -> str:
    if name in ("oc.env", "env"):
        what = "reads an environment variable"
    elif name in ("oc.decode", "oc.create"):
        what = "parses text into config at run time"
    elif name in ("hydra", "now"):
        what = "is Hydra's, with values only a running app has"
    else:
        what = "a project registers in its own Python code"
    via = "" if where == key else f" through {where}"
    return (
        f"{raw!r} uses the resolver {name!r}{via}, which {what}; lrviz resolves only "
        f"references to other keys of the config (it runs no resolver): "
        f"pass --set {where}=VALUE"
    )


def _interpolated(value: Any) -> bool:
    if isinstance(value, str):
        return "${" in value or "\x00lrviz" in value
    if isinstance(value, list):
        return any(_interpolated(v) for v in value)
    if isinstance(value, dict):
        return any(_interpolated(v) for v in value.values())
    return False


def _sentinels(value: Any) -> int | None:
    if isinstance(value, str):
        m = _SENTINEL.search(value)
        return int(m[1]) if m else None
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return next((h for h in (_sentinels(v) for v in items) if h is not None), None)


def _quoted(text: str) -> str | None:
    m = re.search(r"'([^']*)'", text)
    return m[1] if m else None


def _absolute(key: str, target: str) -> str:
    """An interpolation's key as an absolute path (OmegaConf's `${..a}` counts from `key`)."""
    dots = len(target) - len(target.lstrip("."))
    if not dots:
        return target
    parts = re.sub(r"\[(\d+)\]", r".\1", key).split(".")
    base = parts[: max(0, len(parts) - dots)]
    return ".".join([*base, target[dots:]])


def document(ctx: Ctx, data: dict[str, Any]) -> Document | None:
    """The config lrviz reads: composed by Hydra when it has to be, with OmegaConf to resolve."""
    header = _header(ctx)
    defaults = data.get("defaults")
    moves = header not in (None, "_global_", "_group_")
    if defaults is not None or moves:
        composed = _compose(ctx, data, "defaults" if defaults is not None else None)
        if composed is None:
            return None
        data = composed
    elif _interpolated(data) and not _omegaconf():
        return Document(data)  # each read names the key and the extra to install
    if not _omegaconf():
        return Document(data)
    from omegaconf import OmegaConf

    replaced: dict[int, tuple[str, str]] = {}
    safe = _replace_resolvers(data, "", replaced)
    try:
        cfg = OmegaConf.create(safe)
    except Exception as exc:  # a key OmegaConf cannot hold (say, an integer key)
        ctx.problem(None, f"OmegaConf cannot read this config: {str(exc).splitlines()[0]}")
        return None
    return Document(data, cfg, replaced)


def _omegaconf() -> bool:
    try:
        import omegaconf  # noqa: F401
    except ImportError:
        return False
    return True


def _replace_resolvers(value: Any, key: str, replaced: dict[int, tuple[str, str]]) -> Any:
    """The data with every string that calls a resolver outside SAFE_RESOLVERS replaced."""
    if isinstance(value, dict):
        return {
            k: _replace_resolvers(v, f"{key}.{k}" if key else str(k), replaced)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_replace_resolvers(v, f"{key}[{i}]", replaced) for i, v in enumerate(value)]
    if isinstance(value, str):
        refused = [n for n in _RESOLVER.findall(value) if n not in SAFE_RESOLVERS]
        if refused:
            n = len(replaced)
            replaced[n] = (key, refused[0])
            return f"\x00lrviz{n}\x00"
    return value


def _header(ctx: Ctx) -> str | None:
    """The package a `# @package` header at the top of the file names, or None."""
    if ctx.file is None:
        return None
    from ..paths import MAX_SPEC_FILE_BYTES, Refused, read_text

    try:
        text = read_text(ctx.file, ctx.source, MAX_SPEC_FILE_BYTES)
    except Refused:
        return None
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line.lstrip().startswith("#"):
            break
        m = _HEADER.match(line)
        if m:
            return m[1]
    return None


def _compose(ctx: Ctx, data: dict[str, Any], key: str | None) -> dict[str, Any] | None:
    """The config Hydra composes from the file and the files its defaults name.

    Hydra reads them through a config source that refuses any file outside the project
    tree; `--set GROUP=OPTION` (a folder of the config's directory) chooses a group option
    as Hydra's command line does, every other --set edits the composed config.
    """
    from .. import document

    file, tree = ctx.file, ctx.tree
    if file is None:
        ctx.problem(
            key, "a Hydra config with a defaults list is composed from files: give its path"
        )
        return None
    if file.suffix != ".yaml":
        ctx.problem(
            key,
            f"Hydra composes only .yaml files, and this one is {file.suffix or 'bare'}: "
            f"Hydra itself would not load it (rename it to .yaml)",
        )
        return None
    try:
        import hydra  # noqa: F401
    except ImportError:
        ctx.problem(
            key,
            f"this Hydra config composes other files (defaults: / # @package), which lrviz "
            f"does with Hydra itself: install the hydra extra ({INSTALL})",
        )
        return None
    config_dir = file.resolve().parent
    root = (tree or config_dir).resolve()
    if not config_dir.is_relative_to(root):
        ctx.problem(key, f"the config's folder is outside the project tree {root}; pass --root DIR")
        return None
    hydra_node = data.get("hydra")
    if isinstance(hydra_node, dict) and hydra_node.get("searchpath") is not None:
        ctx.problem(
            "hydra.searchpath",
            "hydra.searchpath adds config folders that lrviz does not read (it composes only "
            "from the config's own folder): remove it with --set hydra.searchpath=null",
        )
        return None
    choices, edits = _split_sets(ctx, config_dir, root)
    confined = _Confinement(root)
    try:
        cfg = _hydra_compose(confined, config_dir, file.stem, choices)
    except Exception as exc:  # Hydra's errors; the message names configs, never content
        ctx.problem(key if key else None, _compose_message(confined, exc, data, file))
        return None
    from omegaconf import OmegaConf

    container = OmegaConf.to_container(cfg, resolve=False)
    assert isinstance(container, dict)
    composed = {str(k): v for k, v in container.items()}
    for assignment in edits:
        document.apply_override(composed, assignment)
    names = ", ".join(confined.loaded)
    ctx.notes.append(f"composed by Hydra from {len(confined.loaded)} config files: {names}")
    return composed


def _split_sets(ctx: Ctx, config_dir: Path, root: Path) -> tuple[list[str], list[str]]:
    """--set assignments as (Hydra group choices, edits of the composed config)."""
    from ..document import load_yaml

    choices, edits = [], []
    for path, assignment in ctx.overridden.items():
        name = path.lstrip("+~")
        group = (config_dir / name.replace(".", "/")).resolve()
        value = load_yaml(assignment.partition("=")[2] or "null")
        if (
            group.is_relative_to(root)
            and group.is_dir()
            and (value is None or (isinstance(value, str) and _GROUP_CHOICE.match(value)))
        ):
            plus = path[: len(path) - len(name)]
            choices.append(f"{plus}{name.replace('.', '/')}={'null' if value is None else value}")
        else:
            edits.append(assignment)
    return choices, edits


@dataclass
class _Confinement:
    """The project tree Hydra may read from, and what it read or was refused."""

    root: Path
    loaded: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


_ACTIVE: list[_Confinement] = []


def _hydra_compose(confined: _Confinement, config_dir: Path, name: str, choices: list[str]) -> Any:
    """Hydra's own composition (as initialize_config_dir + compose do) over a confined source."""
    from hydra import compose, version
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.plugins import Plugins
    from hydra.initialize import get_gh_backup, restore_gh_from_backup

    Plugins.instance().register(_source_class())
    backup = get_gh_backup()  # an app's own Hydra state, put back unchanged afterwards
    base = version.getbase()
    try:
        GlobalHydra.instance().clear()
        version.setbase(VERSION_BASE)
        search = create_config_search_path(f"{_SCHEME}://{config_dir}")
        Hydra.create_main_hydra2(task_name="lrviz", config_search_path=search)
        with _active(confined):
            return compose(config_name=name, overrides=choices)
    finally:
        restore_gh_from_backup(backup)
        version.VersionBase.instance().version_base = base  # as it was, set or not


@contextmanager
def _active(confined: _Confinement) -> Iterator[None]:
    _ACTIVE.append(confined)
    try:
        yield
    finally:
        _ACTIVE.pop()


def _compose_message(
    confined: _Confinement, exc: Exception, data: dict[str, Any], file: Path
) -> str:
    if confined.refused:
        return confined.refused[0]
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    first = first or type(exc).__name__
    overrides = [
        str(k).removeprefix("override ").strip()
        for d in data.get("defaults") or []
        if isinstance(d, dict)
        for k in d
        if str(k).startswith("override ")
    ]
    if "Could not override" in first and overrides:
        return (
            f"this file overrides other groups' choices ({', '.join(overrides[:3])}), so Hydra "
            f"composes it only under a primary config: pass that config (the one the project "
            f"runs) with --set {file.parent.name}={file.stem}"
        )
    return f"Hydra cannot compose this config: {first}"


_SOURCE: type | None = None


def _source_class() -> type:
    """A Hydra ConfigSource that reads files like Hydra's own, only inside the project tree."""
    global _SOURCE
    if _SOURCE is not None:
        return _SOURCE
    from hydra.core.object_type import ObjectType
    from hydra.plugins.config_source import ConfigLoadError, ConfigResult, ConfigSource
    from omegaconf import OmegaConf

    from ..paths import Refused, read_text

    class ConfinedSource(ConfigSource):
        """Hydra's file source, refusing what resolves (symlinks followed) outside the tree."""

        @staticmethod
        def scheme() -> str:
            return _SCHEME

        def _full(self, config_path: str) -> str | None:
            full = os.path.realpath(os.path.join(self.path, config_path))
            active = _ACTIVE[-1] if _ACTIVE else None
            if active is None or not Path(full).is_relative_to(active.root):
                if active is not None and os.path.lexists(os.path.join(self.path, config_path)):
                    active.refused.append(
                        f"{config_path} resolves outside the project tree {active.root}; "
                        f"pass --root DIR to name another tree"
                    )
                return None
            return full

        def load_config(self, config_path: str) -> ConfigResult:
            name = self._normalize_file_name(config_path)
            full = self._full(name)
            active = _ACTIVE[-1]
            if full is None:
                raise ConfigLoadError(f"Config not found: {name}")
            try:
                text = read_text(Path(full), name)
            except Refused as exc:
                active.refused.append(str(exc))
                raise ConfigLoadError(str(exc)) from None
            try:
                header = ConfigSource._get_header_dict(text[:512])
                import io

                cfg = OmegaConf.load(io.StringIO(text))
            except Exception as exc:
                mark = getattr(exc, "problem_mark", None)
                line = f" (line {mark.line + 1})" if mark is not None else ""
                active.refused.append(f"{name}: not a config Hydra can read{line}")
                raise ConfigLoadError(f"{name}: unreadable") from None
            active.loaded.append(name.removesuffix(".yaml"))
            return ConfigResult(
                config=cfg,
                path=f"{self.scheme()}://{self.path}",
                provider=self.provider,
                header=header,
            )

        def available(self) -> bool:
            return self.is_group("")

        def is_group(self, config_path: str) -> bool:
            full = self._full(config_path)
            return full is not None and os.path.isdir(full)

        def is_config(self, config_path: str) -> bool:
            full = self._full(self._normalize_file_name(config_path))
            return full is not None and os.path.isfile(full)

        def list(self, config_path: str, results_filter: ObjectType | None) -> list[str]:
            full = self._full(config_path)
            files: list[str] = []
            if full is None or not os.path.isdir(full):
                return files
            for entry in os.listdir(full):
                self._list_add_result(
                    files=files,
                    file_path=os.path.join(config_path, entry),
                    file_name=entry,
                    results_filter=results_filter,
                )
            return sorted(set(files))

    _SOURCE = ConfinedSource
    return ConfinedSource
