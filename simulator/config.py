"""Simulation configuration: plant size, seed, calendar and injected fault rates.

Everything the simulator produces is a deterministic function of a `PlantConfig`:
the same config (including the seed) always yields byte-identical output files.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import date
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class FaultRates:
    """Probabilities of injecting each fault type into what MES/WMS *report*.

    Record-level rates apply per emitted record (event or CSV row) that can carry
    the fault; `duplicate_file` applies per written day file; the three MES/WMS
    discrepancy rates apply per consumption (unreported_consumption, wrong_lot) or
    per issue request (over_issue); `unreported_shrinkage` is the daily chance that one handling
    unit of a stored raw or packaging lot is lost without any system booking it (cycle counts
    find it later). All zero means a clean run.
    """

    malformed_record: float = 0.0
    unknown_code: float = 0.0
    unit_mismatch: float = 0.0
    duplicate_file: float = 0.0
    duplicate_event: float = 0.0
    late_event: float = 0.0
    unreported_consumption: float = 0.0
    over_issue: float = 0.0
    wrong_lot: float = 0.0
    unreported_shrinkage: float = 0.0

    def __post_init__(self) -> None:
        for rate_field in fields(self):
            rate = getattr(self, rate_field.name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate {rate_field.name}={rate} must be within [0, 1]")

    @classmethod
    def none(cls) -> "FaultRates":
        return cls()

    @classmethod
    def default(cls) -> "FaultRates":
        return cls(
            malformed_record=0.002,
            unknown_code=0.002,
            unit_mismatch=0.002,
            duplicate_file=0.03,
            duplicate_event=0.003,
            late_event=0.003,
            unreported_consumption=0.01,
            over_issue=0.02,
            wrong_lot=0.01,
            unreported_shrinkage=0.3,
        )

    @property
    def is_clean(self) -> bool:
        return all(getattr(self, f.name) == 0.0 for f in fields(self))

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class PlantConfig:
    days: int = 14
    lines: int = 2
    machines_per_line: int = 4
    seed: int = 42
    start_date: date = date(2026, 1, 5)
    fault_rates: FaultRates = field(default_factory=FaultRates.default)
    signal_interval_s: int = 60
    plant_timezone: str = "Europe/Berlin"
    b2mml_share: float = 0.1
    plant_name: str = "Plantlake Pump Works"

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError("days must be >= 1")
        if not 1 <= self.lines <= 99:
            raise ValueError("lines must be within 1..99")
        if not 1 <= self.machines_per_line <= 99:
            raise ValueError("machines_per_line must be within 1..99")
        if not 1 <= self.signal_interval_s <= 3600 or 86400 % self.signal_interval_s:
            raise ValueError("signal_interval_s must divide 86400 and be within 1..3600")
        if not 0.0 <= self.b2mml_share <= 1.0:
            raise ValueError("b2mml_share must be within [0, 1]")
        if self.seed < 0:
            raise ValueError("seed must be non-negative")
        ZoneInfo(self.plant_timezone)

    @property
    def machine_count(self) -> int:
        return self.lines * self.machines_per_line

    def to_dict(self) -> dict[str, object]:
        return {
            "days": self.days,
            "lines": self.lines,
            "machines_per_line": self.machines_per_line,
            "seed": self.seed,
            "start_date": self.start_date.isoformat(),
            "fault_rates": self.fault_rates.to_dict(),
            "signal_interval_s": self.signal_interval_s,
            "plant_timezone": self.plant_timezone,
            "b2mml_share": self.b2mml_share,
            "plant_name": self.plant_name,
        }

    @classmethod
    def from_dict(cls, values: dict[str, object]) -> "PlantConfig":
        """The inverse of `to_dict` (as stored in master/plant.json and state/simulation_state.json)."""
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown plant config fields {sorted(unknown)}")
        data = dict(values)
        if "start_date" in data:
            data["start_date"] = date.fromisoformat(str(data["start_date"]))
        if "fault_rates" in data:
            data["fault_rates"] = FaultRates(**data["fault_rates"])  # type: ignore[arg-type]
        return cls(**data)  # type: ignore[arg-type]
