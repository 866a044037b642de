"""What if: the quality model's predicted high-scrap probability of a work order with some of its process
parameters changed (`Lake.quality_what_if`). The champion model scores the order's own feature row
(gold.work_order_quality_features) with the changed values put in, so a quality engineer sees what a lower
setpoint deviation or pressure would have meant for that order; only process parameters can be changed, the
genealogy and history features stay what the lake says."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lakehouse.errors import QueryError

from ml.features.quality import PROCESS_FEATURES

# the process features that are settings a quality engineer could change (not how much was inspected)
ADJUSTABLE = tuple(name for name in PROCESS_FEATURES if name not in ("inspected_units", "inspections"))


@dataclass(frozen=True)
class QualityWhatIf:
    """The champion quality model and the orders it can score; `predict` answers one what-if."""

    model: Any
    model_version: str
    features: tuple[str, ...]
    orders: pd.DataFrame  # the feature rows, indexed by work_order_id

    @property
    def adjustable(self) -> tuple[str, ...]:
        """The process parameters a what-if may change (those the model uses)."""
        return tuple(name for name in ADJUSTABLE if name in self.features)

    def order_ids(self) -> list[str]:
        return self.orders.index.tolist()

    def baseline(self, work_order_id: str) -> dict[str, float]:
        """The order's adjustable parameters as the lake holds them."""
        row = self._row(work_order_id)
        return {name: float(row[name].iloc[0]) for name in self.adjustable}

    def predict(self, work_order_id: str, changes: Mapping[str, float] | None = None) -> float:
        """Predicted probability that the order scraps at least 4 % of its units, with `changes` applied."""
        row = self._row(work_order_id).copy()
        for name, value in (changes or {}).items():
            if name not in self.adjustable:
                raise QueryError(f"{name!r} cannot be changed in a what-if; the process parameters are: "
                                 + ", ".join(self.adjustable))
            row[name] = float(value)
        return float(self.model.predict_proba(row[list(self.features)])[0, 1])

    def _row(self, work_order_id: str) -> pd.DataFrame:
        if work_order_id not in self.orders.index:
            raise QueryError(f"work order {work_order_id!r} has no quality features (it has no inspection yet, "
                             "or is not in this lake)")
        return self.orders.loc[[work_order_id]]


def quality_what_if(lake_root: Any, delta: Any) -> QualityWhatIf:
    """The what-if for a lake: its champion quality model and gold.work_order_quality_features."""
    from ml.registry import ModelRegistry
    from pipelines.models.inputs import feature_rows
    from pipelines.models.training import QUALITY_MODEL

    champion = ModelRegistry(lake_root).champion(QUALITY_MODEL)
    if champion is None:
        raise QueryError(f"no champion {QUALITY_MODEL} model in this lake yet: `plantlake run` trains one and makes "
                         "it champion when it beats the naive rule (a plant needs a few weeks of inspections)")
    model, version = champion
    if not delta.exists("work_order_quality_features"):
        raise QueryError("gold.work_order_quality_features is not in this lake: run `plantlake run --source LANDING`")
    orders = feature_rows(delta, "work_order_quality_features").set_index("work_order_id", drop=False)
    return QualityWhatIf(model, str(version), tuple(model.feature_names_in_), orders)
