"""Dense int32 codes for strings (node ids, materials, work orders), appendable without re-sorting.

A full build gives code = rank of the value among the sorted distinct values, so the sorted values double as
the lookup table (binary search, no hash map of millions of Python strings). Values added later get the next
codes and live in a small dict until `compacted()` re-sorts everything and returns the old -> new code map;
after that the dictionary equals the one a full build over the same values gives.
"""

from __future__ import annotations

import numpy as np
import polars as pl

MISSING = -1


class StringDictionary:
    def __init__(self, sorted_values: pl.Series, added: list[str] | None = None) -> None:
        self._sorted = sorted_values.cast(pl.String).rename("value")
        self._added: dict[str, int] = {}
        for value in added or []:
            self._added[value] = len(self._sorted) + len(self._added)

    @classmethod
    def build(cls, values: pl.Series) -> tuple[StringDictionary, np.ndarray]:
        """The dictionary of the distinct non-null values and the code of every value (-1 for null)."""
        dictionary = cls(values.drop_nulls().unique().sort())
        return dictionary, dictionary._codes_by_join(values)

    def __len__(self) -> int:
        return len(self._sorted) + len(self._added)

    @property
    def pending(self) -> int:
        """Values added since the last build or compaction (not yet in the sorted part)."""
        return len(self._added)

    def code(self, value: str) -> int | None:
        position = self._sorted.search_sorted(value)
        if position < len(self._sorted) and self._sorted[position] == value:
            return int(position)
        return self._added.get(value)

    def encode(self, values: pl.Series, *, add: bool) -> np.ndarray:
        """Codes of `values` (-1 for nulls, and for unknown values unless `add`, which appends them in order)."""
        values = values.cast(pl.String)
        codes = np.full(len(values), MISSING, dtype=np.int32)
        present = ~values.is_null().to_numpy()
        if not present.any():
            return codes
        wanted = values.filter(pl.Series(present))
        found = np.full(len(wanted), MISSING, dtype=np.int64)
        if len(self._sorted):
            position = np.minimum(self._sorted.search_sorted(wanted).to_numpy(), len(self._sorted) - 1)
            hit = (self._sorted.gather(position) == wanted).to_numpy()
            found[hit] = position[hit]
        missing = np.flatnonzero(found == MISSING)
        if missing.size:
            for i, value in zip(missing.tolist(), wanted.gather(missing).to_list(), strict=True):
                code = self._added.get(value)
                if code is None and add:
                    code = self._added[value] = len(self)
                found[i] = MISSING if code is None else code
        codes[present] = found
        return codes

    def values(self) -> pl.Series:
        """Every value, indexed by its code."""
        if not self._added:
            return self._sorted
        return pl.concat([self._sorted, pl.Series("value", list(self._added), dtype=pl.String)])

    def decode(self, codes: np.ndarray) -> pl.Series:
        return self.values().gather(np.asarray(codes, dtype=np.int64))

    def compacted(self) -> tuple[StringDictionary, np.ndarray]:
        """The fully sorted dictionary and `remap` with new_code = remap[old_code]."""
        values = self.values()
        order = values.arg_sort().to_numpy()
        remap = np.empty(len(values), dtype=np.int32)
        remap[order] = np.arange(len(values), dtype=np.int32)
        return StringDictionary(values.gather(order)), remap

    def _codes_by_join(self, values: pl.Series) -> np.ndarray:
        lookup = pl.DataFrame({"value": self._sorted,
                               "code": pl.int_range(len(self._sorted), eager=True, dtype=pl.Int32)})
        joined = pl.DataFrame({"value": values.cast(pl.String)}).join(lookup, on="value", how="left",
                                                                      maintain_order="left")
        return joined["code"].fill_null(MISSING).to_numpy().astype(np.int32, copy=False)
