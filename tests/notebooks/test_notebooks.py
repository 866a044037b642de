"""The example notebooks in notebooks/ run headless, top to bottom, against a small simulated plant.

One lake is built per module through the public API (`simulate`, then `Lake.run`); each notebook then runs in a fresh
`python3` kernel of this venv with PLANTLAKE_LAKE pointing at it. A notebook passes when no cell errors (the
notebooks assert their own cross-checks, e.g. a week's OEE against its days) and it shows output, charts included.
The stored notebooks are checked too: no outputs, the public API only.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

from plantlake import Lake
from simulator import FaultRates, PlantConfig, simulate

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
KERNEL = "python3"
INTERNAL_PACKAGES = ("lakehouse", "transforms", "pipelines", "ingestion", "data_contracts", "simulator", "apps", "ml")

# Default fault rates except the three that quarantine rows: at 7 days a table such as bronze.mes_lot_events has ~80
# rows, so two or three malformed or unknown-code rows exceed the landing contract's 2% quarantine share and
# `Lake.run` (rightly) fails its blocking check. Duplicates, late events and the inventory discrepancies stay.
FAULTS = dataclasses.replace(FaultRates.default(), malformed_record=0.0, unknown_code=0.0, unit_mismatch=0.0)
PLANT = PlantConfig(days=7, lines=2, machines_per_line=3, seed=5, fault_rates=FAULTS)


def test_the_notebooks_are_there() -> None:
    assert len(NOTEBOOKS) >= 5, f"expected at least 5 notebooks in {NOTEBOOK_DIR}, found {len(NOTEBOOKS)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_clean(path: Path) -> None:
    """No outputs or execution counts in git, the python3 kernel, a first cell saying what it is, and the public
    API only."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == KERNEL
    assert nb.cells[0].cell_type == "markdown" and "make demo" in nb.cells[0].source
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, "a notebook without code"
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, f"stored output in:\n{cell.source[:200]}"
        internal = re.findall(rf"^\s*(?:from|import)\s+({'|'.join(INTERNAL_PACKAGES)})\b", cell.source, re.M)
        assert not internal, f"imports internals {internal}; use `from plantlake import Lake`"


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small simulated plant, materialized once for the module."""
    landing, root = tmp_path_factory.mktemp("landing"), tmp_path_factory.mktemp("lake")
    simulate(PLANT, landing)
    outcome = Lake(root).run(landing, echo=lambda _: None)
    assert outcome.success, (outcome.failed_checks, outcome.failure)
    return root


@pytest.fixture(scope="module")
def venv_kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `python3` kernelspec that starts this interpreter (the venv's), whatever kernels the user has installed:
    installed into a throwaway prefix that JUPYTER_PATH puts first."""
    prefix = tmp_path_factory.mktemp("jupyter")
    from ipykernel.kernelspec import install

    install(kernel_name=KERNEL, prefix=str(prefix))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("JUPYTER_PATH", os.pathsep.join([str(prefix / "share" / "jupyter"),
                                                     *filter(None, [os.environ.get("JUPYTER_PATH")])]))
        spec = KernelSpecManager().get_kernel_spec(KERNEL)
        assert Path(spec.argv[0]) == Path(sys.executable), spec.argv
        yield KERNEL


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, demo_lake: Path, venv_kernel: str, tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    nb = nbformat.read(path, as_version=4)
    monkeypatch.setenv("PLANTLAKE_LAKE", str(demo_lake))  # the kernel inherits this process's environment
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    NotebookClient(nb, timeout=300, kernel_name=venv_kernel,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # raises on the first failing cell

    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    errors = [f"{out.ename}: {out.evalue}" for out in outputs if out.output_type == "error"]
    assert not errors, errors
    assert outputs, f"{path.name} showed nothing"
    charts = [out for out in outputs if out.output_type in ("display_data", "execute_result")
              and out.data.get("text/plain", "").startswith("alt.") and "<svg" in out.data.get("image/svg+xml", "")]
    assert charts, f"{path.name} drew no Altair chart (rendered offline as SVG)"
