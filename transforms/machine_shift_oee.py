"""OEE per machine and shift, composed from the equipment time model, the counts and the OEE formulas."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import narwhals as nw

from transforms.equipment_time import (classify, gap_edges, machine_shift_oee_inputs, mes_state_changes,
                                       opcua_state_changes, shift_counts, shift_times, timeline)
from transforms.loss_mapping import LossMapping
from transforms.oee import oee_components

Frame = nw.LazyFrame[Any]


@dataclass(frozen=True)
class OeeFrames:
    """The inputs as lazy frames of one engine (columns as in pipelines.kpi.inputs.EquipmentInputs)."""
    mes: Frame
    opcua: Frame
    opcua_codes: Frame
    gaps: Frame
    calendar: Frame
    machines: Frame
    shift_days: Frame
    counts: Frame
    ideal: Frame
    loss_mapping: Frame
    end_us: int


def classified_time(frames: OeeFrames, mapping: LossMapping) -> Frame:
    """Every piece of every machine's time with its OEE category (see transforms.equipment_time)."""
    pieces = timeline(frames.calendar, frames.machines, mes_state_changes(frames.mes, frames.end_us),
                      opcua_state_changes(frames.opcua, frames.opcua_codes, frames.end_us),
                      gap_edges(frames.gaps, frames.machines), frames.end_us)
    return classify(pieces, mapping, frames.loss_mapping)


def machine_shift_oee(frames: OeeFrames, mapping: LossMapping) -> Frame:
    """A, P, Q, OEE and the time waterfall per machine and shift."""
    times = shift_times(classified_time(frames, mapping))
    counts = shift_counts(frames.counts, frames.shift_days, frames.ideal)
    return oee_components(machine_shift_oee_inputs(times, counts))
