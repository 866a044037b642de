"""Seeded, deterministic discrete-event simulator of a pump plant emitting MES (NDJSON and
ISA-95 B2MML), WMS (CSV) and OPC UA machine-signal data plus ground truth."""

from .config import FaultRates, PlantConfig
from .simulation import ContinuationError, SimulationResult, continue_simulation, simulate

__all__ = ["ContinuationError", "FaultRates", "PlantConfig", "SimulationResult", "continue_simulation", "simulate"]
