"""The table catalog: every lake table declared once, with its layer, schema, keys and partitioning.

Domain modules under `lakehouse.tables` declare `TableSpec`s; `CATALOG` collects them. Paths, docs
(`plantlake catalog`), schema checks on write and Dagster asset checks are all derived from here.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

import pyarrow as pa

from lakehouse.errors import UnknownTableError

Layer = Literal["bronze", "silver", "gold", "quarantine"]
LAYERS: tuple[str, ...] = get_args(Layer)


@dataclass(frozen=True)
class TableSpec:
    name: str
    layer: Layer
    schema: pa.Schema
    description: str
    primary_key: tuple[str, ...]
    partition_by: tuple[str, ...] = ()
    merge_keys: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.layer not in LAYERS:
            raise ValueError(f"{self.name}: layer must be one of {LAYERS}, got {self.layer!r}")
        columns = set(self.schema.names)
        for role, names in (("primary key", self.primary_key), ("partition", self.partition_by),
                            ("merge key", self.merge_keys)):
            unknown = [n for n in names if n not in columns]
            if unknown:
                raise ValueError(f"{self.name}: {role} columns {unknown} are not in the schema")
        if not self.merge_keys:
            object.__setattr__(self, "merge_keys", self.primary_key)

    @property
    def qualified_name(self) -> str:
        return f"{self.layer}.{self.name}"

    def path(self, lake_root: Path | str) -> Path:
        return Path(lake_root) / self.layer / self.name


class Catalog:
    def __init__(self, specs: Iterable[TableSpec]) -> None:
        self._specs: dict[str, TableSpec] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ValueError(f"table {spec.name!r} is declared twice")
            self._specs[spec.name] = spec

    def __getitem__(self, name: str) -> TableSpec:
        """A table by `layer.table` (`gold.kpi_daily`) or by its bare name (`kpi_daily`)."""
        layer, dot, bare = name.rpartition(".")
        spec = self._specs.get(bare)
        if spec is None or (dot and spec.layer != layer):
            names = [s.qualified_name for s in self] + list(self._specs)
            close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            raise UnknownTableError(f"no table {name!r} in the catalog; {hint}`plantlake catalog` lists every table")
        return spec

    def __contains__(self, name: object) -> bool:
        try:
            self[str(name)]
        except UnknownTableError:
            return False
        return True

    def __iter__(self) -> Iterator[TableSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: (LAYERS.index(s.layer), s.name)))

    def __len__(self) -> int:
        return len(self._specs)

    def in_layer(self, layer: Layer) -> list[TableSpec]:
        return [s for s in self if s.layer == layer]

    def to_markdown(self) -> str:
        lines = ["# Table catalog", "",
                 "Generated from `lakehouse/catalog.py` by `plantlake catalog --format markdown`; do not edit.", ""]
        for spec in self:
            lines += [f"## `{spec.qualified_name}`", "", spec.description, "",
                      f"- primary key: {', '.join(spec.primary_key) or '(none)'}",
                      f"- merge keys: {', '.join(spec.merge_keys) or '(none)'}",
                      f"- partitioned by: {', '.join(spec.partition_by) or '(not partitioned)'}", "",
                      "| column | type | nullable |", "|---|---|---|"]
            lines += [f"| {f.name} | {f.type} | {'yes' if f.nullable else 'no'} |" for f in spec.schema]
            lines.append("")
        return "\n".join(lines)


def _build_catalog() -> Catalog:
    from lakehouse.tables import genealogy, ingest, inventory, kpi, lookahead, master_data, mes, realtime, signals, wms
    from lakehouse.tables import models
    from lakehouse.tables import anomalies
    from lakehouse.tables import flow

    return Catalog([*master_data.TABLES, *signals.TABLES, *wms.TABLES, *mes.TABLES, *ingest.TABLES,
                    *genealogy.TABLES, *inventory.TABLES, *kpi.TABLES, *realtime.TABLES,
                    *lookahead.TABLES, *models.TABLES, *anomalies.TABLES, *flow.TABLES])


CATALOG = _build_catalog()
