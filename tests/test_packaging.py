"""The wheel ships all of governor: built from the checkout as pip builds it, unpacked, and every module
imported from it alone (not from the checkout), the hook scripts and data files included."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def source_modules() -> set[str]:
    found = {".".join(p.relative_to(REPO).with_suffix("").parts) for p in (REPO / "governor").rglob("*.py")}
    found |= {f"governor._hooks.{p.stem}" for p in (REPO / "hooks").glob("*.py")}
    return {m.removesuffix(".__init__") for m in found}


def test_the_wheel_holds_and_imports_every_module(tmp_path: Path) -> None:
    source = tmp_path / "src"  # a clean copy: a build/ left in the checkout would hide a missing package
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for part in ("governor", "hooks"):
        shutil.copytree(REPO / part, source / part, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp_path / "dist").glob("token_budget_governor-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
        names = set(zf.namelist())
    shipped = {n.removesuffix(".py").replace("/", ".").removesuffix(".__init__") for n in names if n.endswith(".py")}
    assert shipped == source_modules()
    assert {"governor/data/budget.example.json", "governor/data/sample-week.jsonl"} <= names
    probe = ("import importlib, sys\n"
             "mods = sys.argv[1:]\n"
             "for m in mods:\n"
             "    if not m.startswith('governor._hooks') and m != 'governor.__main__':\n"  # these run, not import
             "        mod = importlib.import_module(m)\n"
             "        assert mod.__file__.startswith(sys.path[0]), (m, mod.__file__)\n"
             "print(len(mods))\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", probe, *sorted(shipped)], capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(site)}, cwd=str(tmp_path), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(len(shipped))
