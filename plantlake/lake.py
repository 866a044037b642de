"""`Lake`: the plant's lake as a data scientist, an app or a job sees it.

    from plantlake import Lake
    lake = Lake()                       # root from PLANTLAKE_LAKE, default ./lake
    lake.tables()                       # name, layer, rows, version, last write, description
    lake.read("gold.kpi_daily", as_of="2026-01-10", columns=[...], filters=[("kpi", "=", "oee")])
    lake.sql("select * from gold.kpi_daily join silver.dim_machine on scope_id = machine_id")
    lake.kpi("oee", scope="line", grain="week")
    lake.stock(as_of="2026-01-10T12:00:00Z", material="RM-PA66")
    lake.trace("LOT-0000123", direction="backward"); lake.recall("SL-4711")

Tables are named `layer.table` (`gold.kpi_daily`) or by their bare name (`kpi_daily`), the same names as the CLI,
DuckDB and the app use. Every error is a `plantlake.PlantlakeError` with one clear sentence.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl
import pyarrow as pa

from lakehouse.catalog import CATALOG
from lakehouse.delta_io import DeltaLake
from lakehouse.errors import QueryError, TableNotFoundError, VersionNotFoundError
from lakehouse.publication import PublicationStatus, ServedLake, publication_status
from plantlake.as_of import AsOf, as_datetime, resolve_as_of
from plantlake.errors import PlantlakeWarning
from plantlake.filters import Filter, arrow_filters, polars_predicate

if TYPE_CHECKING:
    import duckdb
    import networkx as nx
    import pandas as pd
    from pyspark.sql import DataFrame as SparkDataFrame

    from plantlake.what_if import QualityWhatIf
    from transforms.genealogy.epcis import EpcisOptions
    from transforms.genealogy.trace import RecallResult, TraceResult

ReadEngine = Literal["polars", "pandas", "arrow", "duckdb", "spark"]
READ_ENGINES: tuple[str, ...] = ("polars", "pandas", "arrow", "duckdb", "spark")
Direction = Literal["backward", "forward", "both"]
Grain = Literal["shift", "day", "week", "month"]


class Lake:
    """The Delta lake under one root folder, read through one set of verbs."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root if root is not None else os.environ.get("PLANTLAKE_LAKE", "lake"))
        self.delta = ServedLake(self.root)  # reads: a silver or gold table's newest version that passed its checks
        self.store = DeltaLake(self.root)   # every version, and the writes of run / ingest / maintain

    def __repr__(self) -> str:
        return f"Lake({str(self.root)!r})"

    # ---- what is there ---------------------------------------------------------------------------
    def tables(self) -> pl.DataFrame:
        """Every table this lake has: name (`layer.table`), layer, rows and version served to readers,
        latest_version (newer than `version` when it failed its blocking checks), last_write (UTC),
        description."""
        rows = []
        for spec in self.store.tables():
            table = self.delta.table(spec.name)
            last = self.store.table(spec.name).history(1)[0]
            rows.append({"name": spec.qualified_name, "layer": spec.layer, "rows": table.count(),
                         "version": table.version(), "latest_version": self.store.version(spec.name),
                         "last_write": datetime.fromtimestamp(last["timestamp"] / 1000, tz=timezone.utc),
                         "description": spec.description})
        return pl.DataFrame(rows, schema={"name": pl.String, "layer": pl.String, "rows": pl.Int64,
                                          "version": pl.Int64, "latest_version": pl.Int64,
                                          "last_write": pl.Datetime("ms", "UTC"), "description": pl.String})

    def status(self, name: str) -> PublicationStatus:
        """Which version of a silver or gold table readers are served, and which newer versions are withheld
        because their blocking checks failed (write-audit-publish)."""
        self._require(name)
        return publication_status(self.store, name)

    def schema(self, name: str) -> pa.Schema:
        """The table's declared Arrow schema (types and nullability), from the catalog."""
        return self.delta.spec(name).schema

    def describe(self, name: str) -> str:
        """What the table holds, in the catalog's words."""
        return self.delta.spec(name).description

    def history(self, name: str, limit: int | None = None) -> pl.DataFrame:
        """The table's commits, newest first: version, committed_at (UTC), operation, parameters, metrics."""
        self._require(name)
        rows = [{"version": entry.get("version"),
                 "committed_at": datetime.fromtimestamp(entry["timestamp"] / 1000, tz=timezone.utc),
                 "operation": entry.get("operation"),
                 "parameters": _text_map(entry.get("operationParameters")),
                 "metrics": _text_map(entry.get("operationMetrics"))}
                for entry in self.store.history(name, limit)]
        return pl.DataFrame(rows, schema={"version": pl.Int64, "committed_at": pl.Datetime("ms", "UTC"),
                                          "operation": pl.String, "parameters": pl.String, "metrics": pl.String})

    # ---- reading ---------------------------------------------------------------------------------
    def read(self, name: str, *, as_of: AsOf = None, columns: Sequence[str] | None = None,
             filters: Sequence[Filter] | None = None, engine: ReadEngine = "polars", lazy: bool = False) -> Any:
        """The table (as it was at `as_of`: a version number, a datetime, a date or an ISO 8601 string) as a
        frame of `engine`: polars (a DataFrame, or with `lazy=True` a LazyFrame), pandas, arrow, duckdb (a
        relation) or spark (a Spark DataFrame: through delta-spark where its jars are configured, otherwise from
        Arrow, with a `PlantlakeWarning` saying so).

        `filters` are `(column, op, value)` tuples ANDed together; op is one of = == != < <= > >= in "not in".

        Without `as_of`, a silver or gold table is read at its served version: the newest one whose blocking
        checks passed (`status(name)` says which, and a `PlantlakeWarning` says when a newer one is withheld).
        """
        if engine not in READ_ENGINES:
            raise QueryError(f"engine must be one of {', '.join(READ_ENGINES)}, not {engine!r}")
        spec = self._require(name)
        version = self._version(spec.name, as_of)
        if version is None:
            version = self._served(spec.name)
        wanted = list(columns) if columns else None
        unknown = [c for c in (wanted or []) + [f[0] for f in filters or []] if c not in spec.schema.names]
        if unknown:
            raise QueryError(f"{spec.qualified_name} has no column {', '.join(unknown)}; "
                             f"it has {', '.join(spec.schema.names)}")
        if engine == "polars" and lazy:
            frame = self.delta.scan(spec.name, version=version)
            if filters:
                frame = frame.filter(polars_predicate(filters))
            return frame.select(wanted) if wanted else frame
        if engine == "spark":
            from plantlake.spark import read_spark

            return read_spark(self.delta, spec.name, version=version, columns=wanted, filters=filters)
        table = self.delta.read_arrow(spec.name, version=version, columns=wanted, filters=arrow_filters(filters))
        if engine == "arrow":
            return table
        if engine == "pandas":
            return table.to_pandas()
        if engine == "duckdb":
            import duckdb

            return duckdb.from_arrow(table)
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame.lazy() if lazy else frame

    def sql(self, query: str, *, engine: Literal["polars", "pandas", "arrow"] = "polars") -> Any:
        """Run DuckDB SQL over the lake's current tables, named `layer.table` (or bare), as a Polars (default),
        pandas or Arrow result."""
        import duckdb

        connection = self.duckdb()
        try:
            relation = connection.sql(query)
            table = relation.to_arrow_table() if relation is not None else pa.table({})
        except duckdb.Error as error:
            raise QueryError(f"SQL failed: {str(error).splitlines()[0]}") from None
        finally:
            connection.close()
        if engine == "arrow":
            return table
        if engine == "pandas":
            return table.to_pandas()
        if engine != "polars":
            raise QueryError(f"engine must be polars, pandas or arrow, not {engine!r}")
        return pl.from_arrow(table)

    def duckdb(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with a view per table (`gold.kpi_daily`, and the bare `kpi_daily`)."""
        return self.delta.duckdb()

    # ---- questions -------------------------------------------------------------------------------
    def kpi(self, names: str | Sequence[str], *, scope: str = "site", start: date | str | None = None,
            end: date | str | None = None, grain: Grain = "day") -> pl.DataFrame:
        """KPIs for a scope and period, as `plantlake kpi` gives them: kpi, scope_type, scope_id, period,
        numerator, denominator, value, unit. `scope` is site, area, line, machine, material, customer,
        location, or `type:id` (`line:LINE-01`); `start`/`end` are plant-local days (inclusive); `grain` is
        shift, day, week (periods named by their Monday) or month. Numerators and denominators are summed over
        the period, then divided."""
        from plantlake.kpi import kpi_query

        kpis = [names] if isinstance(names, str) else list(names)
        self._served("kpi_daily")
        return kpi_query(self.delta, kpis, scope=scope, start=_day(start), end=_day(end), grain=grain)

    def kpi_definitions(self) -> pl.DataFrame:
        """Every KPI with its unit, direction, ISO 22400 name, scopes and definition."""
        from plantlake.kpi import kpi_definitions

        return kpi_definitions()

    def stock(self, as_of: datetime | date | str | None = None, *, material: str | None = None,
              lot: str | None = None, location: str | None = None) -> pl.DataFrame:
        """Stock per material, lot and location as of a moment (default now; a date means 00:00 UTC; naive
        times are UTC), from the inventory ledger (`gold.stock_on_hand` as it stands when no ledger line is later than
        the moment); negative balances flagged, never clipped."""
        from plantlake.stock import stock_as_of

        moment = as_datetime(as_of) or datetime.now(timezone.utc)
        self._served("fct_inventory_ledger")
        return stock_as_of(self.delta, moment, material=material, lot=lot, location=location)

    def shortages(self, line: str | None = None, *, horizon: str | float = "8h",
                  as_of: datetime | date | str | None = None) -> pl.DataFrame:
        """When each line side runs short of a material within `horizon` (`8h`, `90m`, `2d` or hours): the first
        waiting work order its line-side stock does not cover (`short_at`), the shortfall and the warehouse
        stock, forecast as of the latest event the lake holds (or `as_of`, from the records before it). The
        same rows as `gold.shortage_forecast`; see `transforms/material_requirements.py` for the model."""
        from plantlake.shortages import line_forecast

        forecast, _ = line_forecast(self.delta, line=line, horizon=horizon, as_of=as_datetime(as_of))
        return forecast.shortages.sort("short_at", "line_id", "material_id")

    def pick_suggestions(self, line: str | None = None, *, horizon: str | float = "8h",
                         as_of: datetime | date | str | None = None) -> pl.DataFrame:
        """Picks covering the shortages of `shortages(line, horizon=..., as_of=...)`: quantity, source bin and lot
        (first-in first-out), the line side and `pick_by_at` (short_at minus the observed issue lead time)."""
        from plantlake.shortages import line_forecast

        forecast, _ = line_forecast(self.delta, line=line, horizon=horizon, as_of=as_datetime(as_of))
        return forecast.picks.sort("pick_by_at", "line_id", "material_id", "lot_received_at")

    def material_requirements(self, line: str | None = None, *, horizon: str | float = "8h",
                              as_of: datetime | date | str | None = None) -> pl.DataFrame:
        """Time-phased requirement per line, material and waiting work order within `horizon` (the rows of
        `gold.line_material_requirements`, forecast on demand like `shortages`)."""
        from plantlake.shortages import line_forecast

        forecast, _ = line_forecast(self.delta, line=line, horizon=horizon, as_of=as_datetime(as_of))
        return forecast.requirements.sort("line_id", "required_at", "material_id")

    def bottleneck(self, line: str | None = None, *, start: date | str | None = None,
                   end: date | str | None = None) -> pl.DataFrame:
        """Per line, shift (dates start..end, inclusive) and machine: the active-period bottleneck (Roser et al.
        2002) - sole and shifting seconds, share of the shift, `is_line_bottleneck` - with utilization and the
        queue view; the rows of `gold.bottleneck_by_line_shift` (what `plantlake bottleneck` prints)."""
        from plantlake.flow import bottleneck_rows

        self._served("bottleneck_by_line_shift")
        return bottleneck_rows(self.delta, line, start=start, end=end)

    def schedule_suggestion(self, line: str | None = None, *, horizon: str | float = "24h",
                            as_of: datetime | date | str | None = None, time_limit_s: float = 20.0
                            ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """A suggested sequence per machine for the open work orders of `line` (every line by default) as of the
        latest event the lake holds (or `as_of`), by OR-Tools CP-SAT within `time_limit_s` per line: total
        tardiness first, then makespan, from routings, due dates, WIP, the shift calendar and gold.machine_risk
        where present. Returns (plan, orders): the operations starting within `horizon` with machine rank and
        planned times; per open order the due date, completion and lateness, suggested and first-in first-out
        (working hours from the moment). What `plantlake schedule suggest` prints."""
        from plantlake.flow import schedule_suggestion

        return schedule_suggestion(self.delta, line, horizon=horizon, as_of=as_of, time_limit_s=time_limit_s)

    def machine_lots(self, machine: str, *, start: datetime | date | str | None = None,
                     end: datetime | date | str | None = None) -> pl.DataFrame:
        """The lots machine `machine` made between `start` and `end` (operations overlapping [start, end); no
        bound: all): one row per lot and operation with work order, operation, operator and times."""
        from plantlake.flow import lots_touched

        return lots_touched(self.delta, machine=machine, start=start, end=end)

    def operator_lots(self, operator: str, *, start: datetime | date | str | None = None,
                      end: datetime | date | str | None = None) -> pl.DataFrame:
        """The lots operator `operator` touched: the output lots of every work order one of whose operations
        they started (in [start, end) when given), with machine and times."""
        from plantlake.flow import lots_touched

        return lots_touched(self.delta, operator=operator, start=start, end=end)

    def machine_recall(self, machine: str, *, start: datetime | date | str | None = None,
                       end: datetime | date | str | None = None) -> pl.DataFrame:
        """A recall that starts from a machine and a time window (say, a period with an anomaly): every shipment
        reached by a forward trace from the lots `machine_lots(machine, start=, end=)` returns."""
        from plantlake.flow import recall_from_lots

        lots = self.machine_lots(machine, start=start, end=end)["lot_id"].to_list()
        return recall_from_lots(self._genealogy(), lots)

    def trace(self, lot: str, *, direction: Direction = "backward", max_depth: int | None = None,
              start: datetime | date | str | None = None, end: datetime | date | str | None = None) -> pl.DataFrame:
        """Every lot, supplier lot and shipment linked to `lot`: node_id, node_kind, relation, depth and
        quantity share. backward: where it came from; forward: where it went; both."""
        return self.trace_result(lot, direction=direction, max_depth=max_depth, start=start, end=end).nodes

    def trace_graph(self, lot: str, *, direction: Direction = "backward", max_depth: int | None = None,
                    start: datetime | date | str | None = None, end: datetime | date | str | None = None
                    ) -> nx.MultiDiGraph:
        """The same trace as a networkx multigraph (material flows parent -> child), to draw or analyse."""
        return self.trace_result(lot, direction=direction, max_depth=max_depth, start=start,
                                 end=end).to_networkx()

    def trace_result(self, lot: str, *, direction: Direction = "backward", max_depth: int | None = None,
                     start: datetime | date | str | None = None, end: datetime | date | str | None = None
                     ) -> TraceResult:
        """The whole trace: `.nodes` and `.edges` frames, `.to_networkx()`, `.to_json()`, `.to_tree()`."""
        from transforms.genealogy.trace import trace

        return trace(self._genealogy(), lot, direction, max_depth=max_depth, from_at=as_datetime(start),
                     to_at=as_datetime(end))

    def recall(self, supplier_lot: str) -> pl.DataFrame:
        """Every shipped lot line made from a supplier lot: lot, shipment_id, customer_id, quantity, unit,
        occurred_at and the supplier lot's share in it."""
        return self.recall_result(supplier_lot).shipments

    def recall_result(self, supplier_lot: str) -> RecallResult:
        """The whole recall: affected and end-of-chain lots, shipments, customers and the forward trace."""
        from transforms.genealogy.trace import recall

        return recall(self._genealogy(), supplier_lot)

    def quality_what_if(self) -> QualityWhatIf:
        """The champion quality model over this lake's work orders: `.predict(order, {"deviation_mean_c": 0.5})`
        gives the high-scrap probability with those process parameters changed (`.baseline(order)` holds the
        order's own). QueryError when no quality model is champion yet."""
        from plantlake.what_if import quality_what_if

        return quality_what_if(self.root, self.delta)

    def epcis(self, start: datetime | date | str | None = None, end: datetime | date | str | None = None, *,
              options: EpcisOptions | None = None) -> dict[str, Any]:
        """The genealogy of a period as a GS1 EPCIS 2.0 JSON-LD document (a dict; `json.dumps` it): receipts and
        shipments as ObjectEvents, each work order's production and every split and merge as TransformationEvents,
        lots identified by material GTIN and lot number (GS1 Digital Link, or EPC URIs). `start` is inclusive; an
        `end` date includes that whole day (UTC), an `end` datetime is inclusive; no bounds: everything.
        `options` (`plantlake.epcis.EpcisOptions`): site GLN, party GLNs, identifier format."""
        from plantlake.epcis import export_epcis

        return export_epcis(self, start, end, options=options)

    def trace_epcis(self, lot: str, *, direction: Direction = "backward", max_depth: int | None = None,
                    start: datetime | date | str | None = None, end: datetime | date | str | None = None,
                    options: EpcisOptions | None = None) -> dict[str, Any]:
        """The same trace as `trace_result`, every edge walked as EPCIS 2.0 events (see `epcis`)."""
        from plantlake.epcis import export_trace_epcis

        return export_trace_epcis(self, lot, direction=direction, max_depth=max_depth, start=start, end=end,
                                  options=options)

    def recall_epcis(self, supplier_lot: str, *, options: EpcisOptions | None = None) -> dict[str, Any]:
        """The recall of a supplier lot as EPCIS 2.0 events (see `epcis`): its receipt, every production, split and
        merge downstream, and every shipment with its customer as destination (owning party)."""
        from plantlake.epcis import export_recall_epcis

        return export_recall_epcis(self, supplier_lot, options=options)

    # ---- quarantine ------------------------------------------------------------------------------
    def quarantine(self, table: str | None = None, *, source_file: str | None = None) -> pl.DataFrame:
        """Quarantined rows (every quarantine table, or one), with their reasons, where they came from, and their
        replay status: `waiting_for_master_data` (failed only on unknown codes; replayed when master data knows
        them), `landed` or `duplicate` (replayed into bronze), or `quarantined`."""
        from plantlake.quarantine import quarantined_rows

        return quarantined_rows(self.store, table, source_file=source_file)

    def replay_quarantine(self, source_dir: str | Path) -> Any:
        """Replay now every quarantined record waiting for master data whose codes the lake knows (the landing
        run does this on its own); returns counts of landed, duplicate, still quarantined, not replayable."""
        from ingestion.replay import replay_quarantined

        if not Path(source_dir).is_dir():
            raise QueryError(f"landing folder {source_dir} does not exist")
        return replay_quarantined(self.store, landing_root=Path(source_dir))

    # ---- operations ------------------------------------------------------------------------------
    def run(self, source_dir: str | Path, *, echo: Any = print, full_refresh: bool = False) -> Any:
        """Materialize every asset (master data, bronze landing, silver, gold) from a landing folder, with
        every blocking check; returns the run's outcome (success, run_id, materialized, failed_checks).
        `full_refresh=True` rebuilds silver and gold from bronze (after a crash or a bug left them wrong)."""
        from plantlake.operations import run_everything

        return run_everything(self.store, Path(source_dir), echo, full_refresh=full_refresh)

    def ingest(self, source_dir: str | Path, *, progress: Any = None) -> Any:
        """Land every new file of a landing folder in bronze; returns the run id and per-source counts."""
        from plantlake.operations import ingest

        return ingest(self.store, Path(source_dir), progress)

    def maintain(self, tables: Sequence[str] = (), *, retention_hours: int = 168) -> list[Any]:
        """Optimize, vacuum and checkpoint the given tables (default every table)."""
        from plantlake.operations import maintain

        return maintain(self.store, tables, retention_hours)

    # ---- helpers ---------------------------------------------------------------------------------
    def _require(self, name: str) -> Any:
        spec = self.store.spec(name)
        if not self.store.exists(spec.name):
            raise TableNotFoundError(f"{spec.qualified_name} has not been written in {self.root} yet: "
                                     "run `plantlake run` (or `make demo`) first")
        return spec

    def _version(self, name: str, as_of: AsOf) -> int | datetime | None:
        resolved = resolve_as_of(as_of)
        if resolved is None:
            return None
        current = self.store.version(name)
        if isinstance(resolved, int):
            if resolved > current:
                raise VersionNotFoundError(f"{CATALOG[name].qualified_name} has versions 0 to {current}, "
                                           f"not {resolved}")
            return resolved
        first = min(entry["timestamp"] for entry in self.store.history(name))
        if resolved.timestamp() * 1000 < first:
            created = datetime.fromtimestamp(first / 1000, tz=timezone.utc)
            raise VersionNotFoundError(f"{CATALOG[name].qualified_name} did not exist yet at {resolved.isoformat()}"
                                       f" (first written {created.isoformat()})")
        return resolved

    def _genealogy(self) -> Any:
        from transforms.genealogy.persistence import EDGES_TABLE, lake_index

        self._require(EDGES_TABLE)
        self._served(EDGES_TABLE)
        return lake_index(self.delta)

    def _served(self, name: str) -> int | None:
        """The version readers get (None: the current one); warns when a newer version is withheld."""
        if not self.store.exists(name):
            return None
        status = publication_status(self.store, name)
        if status.is_current:
            return None
        warnings.warn(status.describe(), PlantlakeWarning, stacklevel=3)
        return status.served_version


def _day(value: date | str | None) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise QueryError(f"{value!r} is not an ISO 8601 date (YYYY-MM-DD)") from None


def _text_map(value: Any) -> str | None:
    if not value:
        return None
    return ", ".join(f"{key}={item}" for key, item in sorted(value.items()))
