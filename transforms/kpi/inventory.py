"""Inventory KPIs from the double-entry ledger: turnover and days of supply per material, WIP per location.

`ledger` (gold fct_inventory_ledger): material_id, location_id, occurred_at, quantity_delta, in base units.
`days` (column `day`): every plant-local day to report. End-of-day stock sums every ledger line up to the end
of the day, including lines before the first reported day (the opening stock); a day without movements carries
the previous balance, so every material (or WIP location) gets a row for every reported day.

- Stock on hand is the sum over real locations (virtual ones stand for suppliers, customers, production, ...).
- Usage is the net quantity arriving at the consuming virtual locations: production consumption and customer
  shipments (returns from them subtract).
- inventory_turns = 365 x usage / end-of-day stock and days_of_supply = end-of-day stock / usage: summed over
  days, 365 x total usage / sum of daily stock = annualised usage over average stock, and sum of daily stock /
  total usage = average stock over average daily usage.
- wip_level: end-of-day quantity at WIP locations (dim_location.location_type in wip_location_types), all
  materials in base units, with denominator 1 per location and day: a level, so a roll-up over days gives the
  mean end-of-day level, and over locations the mean per location (the total is numerator / number of days).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import narwhals as nw

from transforms.kpi.long_format import kpi_rows
from transforms.kpi.plant_time import plant_day
from transforms.standardize import CONSUMPTION, CUSTOMER, VIRTUAL_LOCATIONS

Frame = nw.LazyFrame[Any]
USAGE_LOCATIONS = (CONSUMPTION, CUSTOMER)
WIP_LOCATION_TYPES = ("line_side",)


def end_of_day_balances(lines: Frame, grid: Frame, key: str, *, plant_timezone: str) -> Frame:
    """`key`, day, balance at the end of every (key, day) of `grid`, from ledger lines (key, occurred_at,
    quantity_delta) up to that day's end."""
    nets = (lines.with_columns(plant_day("occurred_at", plant_timezone).alias("day"))
            .group_by(key, "day").agg(nw.col("quantity_delta").sum().cast(nw.Float64).alias("net")))
    cells = grid.select(key, nw.col("day").cast(nw.Date))
    every_day = (nw.concat([nets, cells.with_columns(nw.lit(0.0).alias("net"))], how="vertical")
                 .group_by(key, "day").agg(nw.col("net").sum()))
    running = every_day.with_columns(nw.col("net").cum_sum().over(key, order_by="day").alias("balance"))
    return running.join(cells, on=[key, "day"], how="inner").select(key, "day", "balance")


def stock_and_usage(ledger: Frame, days: Frame, *, plant_timezone: str,
                    virtual_locations: Sequence[str] = VIRTUAL_LOCATIONS,
                    usage_locations: Sequence[str] = USAGE_LOCATIONS) -> Frame:
    """scope_id (material_id), day, stock (end of day, real locations) and usage (that day) per material."""
    real = ledger.filter(~nw.col("location_id").is_in(list(virtual_locations)))
    grid = real.select("material_id").unique().join(days.select("day"), how="cross")
    stock = end_of_day_balances(real, grid, "material_id", plant_timezone=plant_timezone)
    usage = (ledger.filter(nw.col("location_id").is_in(list(usage_locations)))
             .with_columns(plant_day("occurred_at", plant_timezone).alias("day"))
             .group_by("material_id", "day").agg(nw.col("quantity_delta").sum().cast(nw.Float64).alias("usage")))
    return (stock.join(usage, on=["material_id", "day"], how="left")
            .select(nw.col("material_id").alias("scope_id"), "day", nw.col("balance").alias("stock"),
                    nw.col("usage").fill_null(0.0)))


def inventory_turns(ledger: Frame, days: Frame, *, plant_timezone: str,
                    virtual_locations: Sequence[str] = VIRTUAL_LOCATIONS,
                    usage_locations: Sequence[str] = USAGE_LOCATIONS) -> Frame:
    """inventory_turns: 365 x usage / end-of-day stock (annualised turns)."""
    rows = stock_and_usage(ledger, days, plant_timezone=plant_timezone, virtual_locations=virtual_locations,
                           usage_locations=usage_locations)
    return kpi_rows(rows, kpi="inventory_turns", scope_type="material", numerator=365.0 * nw.col("usage"),
                    denominator=nw.col("stock"))


def days_of_supply(ledger: Frame, days: Frame, *, plant_timezone: str,
                   virtual_locations: Sequence[str] = VIRTUAL_LOCATIONS,
                   usage_locations: Sequence[str] = USAGE_LOCATIONS) -> Frame:
    """days_of_supply: end-of-day stock / usage (days the stock lasts at the period's usage)."""
    rows = stock_and_usage(ledger, days, plant_timezone=plant_timezone, virtual_locations=virtual_locations,
                           usage_locations=usage_locations)
    return kpi_rows(rows, kpi="days_of_supply", scope_type="material", numerator=nw.col("stock"),
                    denominator=nw.col("usage"))


def wip_level(ledger: Frame, locations: Frame, days: Frame, *, plant_timezone: str,
              wip_location_types: Sequence[str] = WIP_LOCATION_TYPES) -> Frame:
    """wip_level: end-of-day quantity at each WIP location / 1 (one per location and day)."""
    wip = locations.filter(nw.col("location_type").is_in(list(wip_location_types))).select("location_id").unique()
    grid = wip.join(days.select("day"), how="cross")
    balances = end_of_day_balances(ledger.join(wip, on="location_id", how="inner"), grid, "location_id",
                                   plant_timezone=plant_timezone)
    return kpi_rows(balances.rename({"location_id": "scope_id"}), kpi="wip_level", scope_type="location",
                    numerator=nw.col("balance"), denominator=nw.lit(1.0))
