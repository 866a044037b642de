"""plantlake: a manufacturing data lakehouse joining MES, WMS and OPC UA signals on Delta Lake.

The public Python API. `Lake` reads tables (as of any version or time), runs SQL and answers KPI, stock and
genealogy questions; every error it raises on purpose is a `PlantlakeError`.

    from plantlake import Lake
    lake = Lake()          # PLANTLAKE_LAKE, default ./lake
    lake.kpi("oee", scope="line", grain="week")
"""

from plantlake.errors import (PlantlakeError, PlantlakeWarning, QueryError, TableNotFoundError, UnknownLotError,
                              UnknownTableError, VersionNotFoundError)
from plantlake.lake import Lake

__all__ = ["Lake", "PlantlakeError", "PlantlakeWarning", "QueryError", "TableNotFoundError", "UnknownLotError",
           "UnknownTableError", "VersionNotFoundError"]
