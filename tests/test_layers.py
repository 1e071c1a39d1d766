"""The package's layers and cycles (issue 19): `lint-imports` with the contracts in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_layer_contract_and_no_import_cycles():
    exe = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(exe), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "2 kept, 0 broken" in result.stdout


def test_the_contract_names_every_package():
    """A new sub-package must be placed in a layer, or the contract would not check it."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c for c in config if c["type"] == "layers")["layers"]
    named = {p.strip() for layer in layers for p in layer.split("|")}
    packages = {f"corpus_tools.{p.name}" for p in (ROOT / "corpus_tools").iterdir()
                if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= named, packages - named
