"""Simulation configuration: plant size, seed, calendar and injected fault rates.

Everything the simulator produces is a deterministic function of a `PlantConfig`:
the same config (including the seed) always yields byte-identical output files.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import date
from zoneinfo import ZoneInfo


MATERIAL_SUPPLY_POLICIES = ("at_release", "call_off", "forecast")


@dataclass(frozen=True)
class FaultRates:
    """Probabilities of injecting each fault type into what MES/WMS *report*.

    Record-level rates apply per emitted record (event or CSV row) that can carry
    the fault; `duplicate_file` applies per written day file; the three MES/WMS
    discrepancy rates apply per consumption (unreported_consumption, wrong_lot) or
    per issue request (over_issue); `unreported_shrinkage` is the daily chance that one handling
    unit of a stored raw or packaging lot is lost without any system booking it (cycle counts
    find it later); `signal_anomaly` is the chance per machine, analog tag and day that a sensor
    anomaly window (drift, spike, stuck value or dropout) is laid over the signal
    (`simulator.signal_anomalies`, listed in `truth/signal_anomalies.parquet`). All zero means a clean run.
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
    signal_anomaly: float = 0.0  # per machine, analog tag and day: a sensor anomaly window (signal_anomalies)

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
            signal_anomaly=0.15,
        )

    @property
    def is_clean(self) -> bool:
        return all(getattr(self, f.name) == 0.0 for f in fields(self))

    def to_dict(self) -> dict[str, float]:
        rates = asdict(self)
        if not self.signal_anomaly:  # so the stored configuration of a plant without sensor anomalies is unchanged
            del rates["signal_anomaly"]
        return rates


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
    slowdown_day_share: float = 0.0  # share of working days with one slowed machine per line (flow_truth)
    bottleneck_factor: float = 1.0  # >1: one machine per line runs this much slower by design (designed_bottleneck)
    material_supply: str = "at_release"  # when the WMS issues to the line: see simulator.material_supply

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
        if not 0.0 <= self.slowdown_day_share <= 1.0:
            raise ValueError("slowdown_day_share must be within [0, 1]")
        if not 1.0 <= self.bottleneck_factor <= 5.0:
            raise ValueError("bottleneck_factor must be within [1, 5]")
        ZoneInfo(self.plant_timezone)
        if self.material_supply not in MATERIAL_SUPPLY_POLICIES:
            raise ValueError(f"material_supply must be one of {', '.join(MATERIAL_SUPPLY_POLICIES)}")

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
            # written only when set, so the stored configuration of every plant without slowdowns is unchanged
            **({"slowdown_day_share": self.slowdown_day_share} if self.slowdown_day_share else {}),
            **({"bottleneck_factor": self.bottleneck_factor} if self.bottleneck_factor != 1.0 else {}),
            **({"material_supply": self.material_supply} if self.material_supply != "at_release" else {}),
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
