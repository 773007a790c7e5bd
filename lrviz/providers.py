"""Scheduler types that come from a framework (transformers, mmengine, torchtune): providers.

torch's own classes (lrviz.catalog) and lrviz's recipes (lrviz.recipes, expanded before
parsing) are built in. A framework's scheduler type is written with its dotted prefix
(`transformers.get_scheduler`, `mmengine.CosineAnnealingLR`) and handled by one provider
module, which exposes:

- `PREFIX`: the type prefix it owns, e.g. "transformers.";
- `check_node(spec, node, problems) -> ClassInfo | None`: validate a node without building;
- `build_node(spec, node, optimizer) -> scheduler`: the framework's own scheduler object.

Adding a framework is one module and one line below; build.py knows no framework by name.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# prefix -> the module that provides it (imported only when a spec uses that prefix)
PROVIDERS: dict[str, str] = {
    "transformers.": "lrviz.formats.hf",
    "mmengine.": "lrviz.formats.mmengine",
    "torchtune.": "lrviz.formats.torchtune",
    "yolov5.": "lrviz.formats.yolo",
}


def provider(type_name: str) -> ModuleType | None:
    """The provider module for a scheduler type, or None for torch classes and recipes."""
    for prefix, module in PROVIDERS.items():
        if type_name.startswith(prefix):
            return importlib.import_module(module)
    return None
