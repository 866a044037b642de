"""Line-side look-ahead for the CLI and the Python API: requirements, shortages and picks forecast on demand
(as of the latest event the lake holds, or any earlier moment, from the records before it)."""

from __future__ import annotations

import re
from datetime import datetime

import polars as pl

from lakehouse.delta_io import DeltaLake
from lakehouse.errors import QueryError
from pipelines.lookahead.forecast import Forecast, forecast_at, latest_moment, load_inputs

HORIZON = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d)\s*$")
UNIT_S = {"m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
MAX_HORIZON_S = 7 * 86400.0


def horizon_seconds(horizon: str | float | int) -> float:
    """`8h`, `90m`, `2d` or a number of hours, in seconds; QueryError for anything else or beyond 7 days."""
    if isinstance(horizon, (int, float)) and not isinstance(horizon, bool):
        seconds = float(horizon) * 3600.0
    else:
        match = HORIZON.match(str(horizon))
        if not match:
            raise QueryError(f"horizon {horizon!r} is not a duration such as 8h, 90m or 2d")
        seconds = float(match.group(1)) * UNIT_S[match.group(2)]
    if not 0 < seconds <= MAX_HORIZON_S:
        raise QueryError(f"horizon {horizon!r} must be more than 0 and at most 7 days")
    return seconds


def line_forecast(delta: DeltaLake, *, line: str | None, horizon: str | float | int,
                  as_of: datetime | None) -> tuple[Forecast, datetime]:
    """The forecast (filtered to `line` when given) and the moment it was made for."""
    seconds = horizon_seconds(horizon)
    inputs = load_inputs(delta)
    if line is not None:
        known = sorted(inputs.locations["line_id"].drop_nulls().unique().to_list())
        if line not in known:
            raise QueryError(f"line {line!r} is not in silver.dim_location; known lines: {', '.join(known)}")
    moment = as_of or latest_moment(inputs)
    forecast = forecast_at(inputs, moment, horizon_s=seconds)
    if line is None:
        return forecast, moment
    only = pl.col("line_id") == line
    return Forecast(forecast.requirements.filter(only), forecast.shortages.filter(only),
                    forecast.picks.filter(only)), moment
