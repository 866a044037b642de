"""The layers hold (import-linter's contracts in pyproject.toml), and the check is real: the same contracts fail
on a copy of the project where the core imports the package above it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("apps", "plantlake", "pipelines", "ingestion", "transforms", "ml", "data_contracts", "lakehouse",
            "simulator")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=project, capture_output=True, text=True,
                          env={"PATH": str(LINT_IMPORTS.parent), "PYTHONPATH": str(project)}, timeout=300)


def test_every_layer_contract_is_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_an_upward_import_from_the_core_breaks_the_layers(tmp_path: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "lakehouse" / "upward.py").write_text("from plantlake import Lake\n")

    result = lint_imports(tmp_path)

    assert result.returncode == 1
    assert "Contracts: 2 kept, 1 broken." in result.stdout
    assert "lakehouse.upward -> plantlake" in result.stdout
