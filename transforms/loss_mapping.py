"""The loss mapping: which OEE category each equipment state and reason code falls in (see loss_mapping.toml).

The default mapping ships with the project; a plant points `PLANTLAKE_LOSS_MAPPING` at its own TOML file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

DEFAULT_PATH = Path(__file__).with_name("loss_mapping.toml")
CATEGORIES = ("running", "performance_loss", "quality_loss", "availability_loss", "planned_stop", "not_scheduled")
RUN_CATEGORIES = ("running", "performance_loss", "quality_loss")
ANY_REASON = "*"


class LossMappingError(ValueError):
    """The loss mapping file names a category that does not exist or misses a setting."""


@dataclass(frozen=True)
class LossMapping:
    states: dict[str, str]
    reasons: dict[tuple[str, str], str] = field(default_factory=dict)
    micro_stop_threshold_s: float = 300.0
    failure_reasons: tuple[str, ...] = ("breakdown",)

    def __post_init__(self) -> None:
        wrong = {c for c in [*self.states.values(), *self.reasons.values()] if c not in CATEGORIES}
        if wrong:
            raise LossMappingError(f"unknown loss categories {sorted(wrong)}; use one of {CATEGORIES}")
        if self.micro_stop_threshold_s < 0:
            raise LossMappingError("micro_stop_threshold_s must be >= 0")

    @classmethod
    def from_toml(cls, path: Path | str = DEFAULT_PATH) -> LossMapping:
        config = tomllib.loads(Path(path).read_text())
        missing = {"states", "micro_stop_threshold_s"} - set(config)
        if missing:
            raise LossMappingError(f"{path}: missing {sorted(missing)}")
        reasons = {(state, reason): category for state, codes in config.get("reasons", {}).items()
                   for reason, category in codes.items()}
        return cls(states=dict(config["states"]), reasons=reasons,
                   micro_stop_threshold_s=float(config["micro_stop_threshold_s"]),
                   failure_reasons=tuple(config.get("failure_reasons", ())))

    def category_of(self, state: str, reason_code: str | None) -> str:
        return self.reasons.get((state, reason_code or ""), self.states.get(state, "availability_loss"))

    def as_table(self) -> pa.Table:
        """state, reason_code ('*' = any reason), category: the lookup table the transforms join."""
        rows = [{"state": s, "reason_code": r, "category": c} for (s, r), c in sorted(self.reasons.items())]
        rows += [{"state": s, "reason_code": ANY_REASON, "category": c} for s, c in sorted(self.states.items())]
        return pa.Table.from_pylist(rows, schema=pa.schema(
            [("state", pa.string()), ("reason_code", pa.string()), ("category", pa.string())]))


def load_loss_mapping(path: Path | str | None = None) -> LossMapping:
    return LossMapping.from_toml(path or DEFAULT_PATH)
