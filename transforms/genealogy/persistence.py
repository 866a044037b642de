"""The genealogy index on disk: one `.npz` beside the lake per version of silver.fct_genealogy_edges.

This is the package's only IO. `lake_index` loads the file for the table's current version, or builds the
index from the table, saves it and removes the files of older versions, so repeated CLI calls skip the build.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from lakehouse.delta_io import DeltaLake
from transforms.genealogy.dictionary import StringDictionary
from transforms.genealogy.index import GenealogyIndex

EDGES_TABLE = "fct_genealogy_edges"
PER_EDGE_ARRAYS = ("parent", "child", "quantity", "occurred_at_us", "edge_type", "material", "work_order",
                   "fraction")
FORMAT_VERSION = 1


def index_path(lake_root: Path | str, table_version: int) -> Path:
    return Path(lake_root) / "_indexes" / "genealogy" / f"{EDGES_TABLE}.v{table_version}.npz"


def save_index(index: GenealogyIndex, path: Path) -> Path:
    """Write the compacted index (arrays, dictionaries and edge rows) to `path`."""
    index.compact()
    arrays = {name: index.arrays()[name] for name in PER_EDGE_ARRAYS}
    blobs = {"nodes": index.nodes.values(), "materials": index.materials.values(),
             "work_orders": index.work_orders.values()}
    for name, values in blobs.items():
        arrays[f"dictionary_{name}"] = _ipc_bytes(pl.DataFrame({"value": values}))
    arrays["rows"] = _ipc_bytes(index.rows)
    arrays["format_version"] = np.array([FORMAT_VERSION])
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp.npz")
    np.savez(temporary, **arrays)
    temporary.replace(path)
    return path


def load_index(path: Path) -> GenealogyIndex:
    with np.load(path, allow_pickle=False) as stored:
        if int(stored["format_version"][0]) != FORMAT_VERSION:
            raise ValueError(f"{path} has index format {int(stored['format_version'][0])}, expected {FORMAT_VERSION}")
        arrays = {name: stored[name] for name in PER_EDGE_ARRAYS}
        dictionaries = {name: StringDictionary(_from_ipc(stored[f"dictionary_{name}"])["value"])
                        for name in ("nodes", "materials", "work_orders")}
        rows = _from_ipc(stored["rows"])
    return GenealogyIndex(rows, dictionaries["nodes"], dictionaries["materials"], dictionaries["work_orders"], arrays)


def lake_index(lake: DeltaLake) -> GenealogyIndex:
    """The index of the current fct_genealogy_edges version (FileNotFoundError when the table does not exist)."""
    version = lake.version(EDGES_TABLE)
    path = index_path(lake.root, version)
    if path.is_file():
        return load_index(path)
    edges = pl.from_arrow(lake.read_arrow(EDGES_TABLE))
    assert isinstance(edges, pl.DataFrame)
    index = GenealogyIndex.build(edges)
    save_index(index, path)
    for older in path.parent.glob(f"{EDGES_TABLE}.v*.npz"):
        if older != path:
            older.unlink(missing_ok=True)
    return index


def _ipc_bytes(frame: pl.DataFrame) -> np.ndarray:
    sink = io.BytesIO()
    frame.write_ipc(sink)
    return np.frombuffer(sink.getvalue(), dtype=np.uint8)


def _from_ipc(blob: np.ndarray) -> pl.DataFrame:
    frame = pl.from_arrow(pa.ipc.open_file(pa.py_buffer(blob.tobytes())).read_all())
    assert isinstance(frame, pl.DataFrame)
    return frame
