"""The package's layers, read from the source: every import (module-level, function-level and
TYPE_CHECKING alike) points down the layer order, no module imports itself back through others, and the
policy layer stays pure (the core and itself only, and no I/O modules of the standard library)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "governor"
# Bottom to top. The flat core is split in two so that its few internal edges are pinned too.
LAYERS = (
    ("core", {"governor", "governor.paths", "governor.errors", "governor.timeutil", "governor.record",
              "governor.fmt", "governor.config_schema", "governor.data", "governor.fastjson"}),
    ("core-io", {"governor.log", "governor.fsutil", "governor.config"}),
    ("policy", {"governor.policy"}),
    ("meter", {"governor.meter"}),
    ("lanes", {"governor.lanes"}),
    ("guards", {"governor.guards"}),
    ("statusline", {"governor.statusline"}),
    ("wiring", {"governor.wiring", "governor._hooks"}),
    ("reports", {"governor.reports"}),
    ("commands", {"governor.commands"}),
    ("entry", {"governor.main", "governor.__main__"}),
)
# What pure policy may not touch: files, processes, the network, the clock's side of the world.
IMPURE_STDLIB = {"os", "sys", "sqlite3", "subprocess", "socket", "shutil", "tempfile", "time", "pathlib", "io"}


def module_name(path: Path) -> str:
    parts = ("governor", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1]) if parts[-1] == "__init__" else ".".join(parts)


def layer_of(module: str) -> int:
    best = None
    for index, (_name, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best[0]


def imports_of(path: Path, module: str) -> set[str]:
    """Every module this file imports, wherever the import statement stands."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}  # `from governor.meter import db`
    return found


def governor_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def graph() -> dict[str, set[str]]:
    modules = governor_modules()
    return {m: {i for i in imports_of(p, m) if i in modules and i != m} for m, p in modules.items()}


def test_every_import_points_down_the_layers() -> None:
    upward = [f"{m} ({LAYERS[layer_of(m)][0]}) imports {i} ({LAYERS[layer_of(i)][0]})"
              for m, targets in graph().items() for i in sorted(targets)
              if layer_of(i) > layer_of(m) and i != "governor"]
    assert upward == []


def test_there_is_no_import_cycle() -> None:
    edges = {m: {i for i in targets if i != "governor"} for m, targets in graph().items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt):], nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert cycles == []


@pytest.mark.parametrize("module", sorted(m for m in governor_modules() if m.startswith("governor.policy")))
def test_policy_imports_only_the_core_and_no_io(module: str) -> None:
    path = governor_modules()[module]
    mine = imports_of(path, module)
    above = sorted(i for i in mine if i.startswith("governor.") and i in governor_modules()
                   and layer_of(i) > layer_of(module))
    impure = sorted(i for i in mine if i.split(".")[0] in IMPURE_STDLIB)
    assert (above, impure) == ([], [])


def test_the_layer_table_knows_every_module() -> None:
    for module in governor_modules():
        layer_of(module)  # asserts with the module's name
