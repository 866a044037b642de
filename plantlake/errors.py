"""plantlake's exception and warning types (defined in the core, `lakehouse.errors`, so every layer raises the
same ones). Catch `PlantlakeError` to catch them all."""

from __future__ import annotations

from lakehouse.errors import (PlantlakeError, QueryError, TableNotFoundError, UnknownLotError, UnknownTableError,
                              VersionNotFoundError)


class PlantlakeWarning(UserWarning):
    """Something worked, but not the way it was asked for (for example Spark without delta-spark)."""


__all__ = ["PlantlakeError", "PlantlakeWarning", "QueryError", "TableNotFoundError", "UnknownLotError",
           "UnknownTableError", "VersionNotFoundError"]
