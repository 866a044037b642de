"""Tables the project writes open in DuckDB, Polars and pandas with the same rows."""

from __future__ import annotations

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
from deltalake import DeltaTable

from lakehouse.delta_io import DeltaLake

EXPECTED = [("RM-1", "BOX", "EA", 24.0), ("RM-1", "PAL", "BOX", 40.0), ("RM-2", "KG", "G", 1000.0)]


def write_conversions(lake: DeltaLake) -> str:
    lake.append("dim_unit_conversion", pa.table({
        "material_id": ["RM-1", "RM-1", "RM-2"], "from_unit": ["BOX", "PAL", "KG"],
        "to_unit": ["EA", "BOX", "G"], "factor": [24.0, 40.0, 1000.0]}))
    return lake.uri("dim_unit_conversion")


def test_duckdb_reads_the_table_through_its_arrow_dataset(lake: DeltaLake) -> None:
    uri = write_conversions(lake)
    con = duckdb.connect()
    dataset = DeltaTable(uri).to_pyarrow_dataset()  # the delta-rs way; DuckDB scans it with pushdown
    con.register("dim_unit_conversion", dataset)
    rows = con.execute("SELECT * FROM dim_unit_conversion ORDER BY material_id, from_unit").fetchall()
    assert rows == EXPECTED
    assert con.execute("SELECT factor FROM dim_unit_conversion WHERE to_unit = 'G'").fetchall() == [(1000.0,)]


def test_duckdb_views_for_every_lake_table(lake: DeltaLake) -> None:
    write_conversions(lake)
    con = lake.duckdb()
    assert con.execute("SELECT count(*) FROM silver.dim_unit_conversion").fetchone() == (3,)


def test_polars_reads_the_table(lake: DeltaLake) -> None:
    uri = write_conversions(lake)
    assert pl.read_delta(uri).sort("material_id", "from_unit").rows() == EXPECTED
    assert lake.scan("dim_unit_conversion").sort("material_id", "from_unit").collect().rows() == EXPECTED


def test_pandas_reads_the_table(lake: DeltaLake) -> None:
    uri = write_conversions(lake)
    for frame in (DeltaTable(uri).to_pandas(), lake.read_pandas("dim_unit_conversion")):
        assert isinstance(frame, pd.DataFrame)
        ordered = frame.sort_values(["material_id", "from_unit"])
        assert list(ordered.itertuples(index=False, name=None)) == EXPECTED
