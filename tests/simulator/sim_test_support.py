from datetime import date

from simulator import FaultRates, PlantConfig

HEAVY_FAULTS = FaultRates(malformed_record=0.03, unknown_code=0.03, unit_mismatch=0.03, duplicate_file=0.3,
                          duplicate_event=0.03, late_event=0.03, unreported_consumption=0.1, over_issue=0.2,
                          wrong_lot=0.1)


def small_config(**overrides) -> PlantConfig:
    values = dict(days=6, lines=2, machines_per_line=3, seed=7, start_date=date(2026, 1, 5),
                  fault_rates=FaultRates.none(), signal_interval_s=300, b2mml_share=0.25)
    values.update(overrides)
    return PlantConfig(**values)


