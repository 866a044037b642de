"""The project's exception types, defined in the core so every layer can raise them and `plantlake` can
re-export them: one base class, one subclass per kind of mistake, each with one clear sentence."""

from __future__ import annotations


class PlantlakeError(Exception):
    """Base class of every error plantlake raises on purpose (the CLI prints its message as one line)."""


class UnknownTableError(PlantlakeError, KeyError):
    """The name is not a table of the catalog (neither `layer.table` nor an unambiguous bare name)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class TableNotFoundError(PlantlakeError, FileNotFoundError):
    """The table is in the catalog but this lake has not written it yet."""


class VersionNotFoundError(PlantlakeError, ValueError):
    """`as_of` names a version or time the table's history does not have."""


class QueryError(PlantlakeError, ValueError):
    """A question the lake cannot answer as asked (unknown KPI, scope, grain, engine or column)."""


class UnknownLotError(PlantlakeError, KeyError):
    """The lot (or supplier lot) is not in the genealogy."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
