"""The equipment time model: one timeline per machine that merges MES state events, OPC UA state tags, the
collector's gaps and the shift calendar; each piece of time gets one OEE category; times add up per shift.

Times are integer microseconds since the epoch (`*_us`), so one definition runs on Polars and PySpark.

Precedence, for every instant of a machine:
1. The calendar first: time outside every shift is `off` (not scheduled), a scheduled break is `break`.
2. Inside a shift, the MES state and reason code (operator-confirmed reasons, the system of record), from the
   machine's first MES state event onward.
3. Where the MES has no state yet, the OPC UA state tag (the PLC's view, without a reason code), unless a
   collector gap (a `machine_signal_gaps` row for the connection or for the machine's state node) covers
   the instant or the sample's status is not Good.
4. Otherwise the time is **unknown**: never run time. It is taken out of planned time and reported beside it.

A state interval lasts until the machine's next change in the same source; a whole unplanned stop shorter
than the loss mapping's micro-stop threshold is a performance loss (inside run time), not an availability
loss. Intervals are split at shift, break and day boundaries by the calendar rows in the timeline.

Repeated states are one interval. An MES event that repeats the machine's current state and reason code (the
same stop reported again, a duplicate delivery, a running machine confirmed as running) is not a change: the
consecutive MES events of a machine with the same state and reason code are merged into one interval before
the timeline is built (`mes_state_changes`), so the micro-stop threshold is applied to the whole stop, from
its first event to the next event with another state or reason code, and an unplanned stop with a failure
reason is one failure, counted once. A new reason code is a new interval even if the state stays the same.
- Across a shift, break or day boundary: a repeat that arrives after the boundary is still part of the same
  stop. The stop is classified once on its whole length (micro-stop or not, failure or not) and counted as a
  failure once, in the shift its first event falls in (as any failure: its start decides); its time is still
  split at the boundary, so each shift's waterfall gets only the piece inside it, and a piece inside a break
  or outside every shift is a planned stop or not scheduled time, as the calendar says.
- OPC UA states and collector gaps do not interrupt an MES interval. From a machine's first MES event on the
  MES owns every instant (precedence 2), so the merge looks at the MES events alone: an OPC UA state change
  or a collector gap between a stop and its repeat changes neither the stop's length nor its failure count.
  Only an MES event with another state or reason code ends the interval. An OPC UA interval and an MES
  interval are never merged with each other (different sources, and the PLC's state has no reason code).
- OPC UA intervals themselves: the state tag's samples are reduced to changes (`opcua_state_changes`), so a
  repeated sample never splits an interval either. A collector gap does not end an OPC UA interval (the
  interval runs from change to change of the tag; the gap's own time is unknown, never stop or run time),
  while a sample with a bad status is the state `unknown` and does end it. An OPC UA failure is counted at
  the tag's change, so a stop whose change falls inside a collector gap keeps its downtime but is not counted.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw

from transforms.loss_mapping import ANY_REASON, RUN_CATEGORIES, LossMapping

Frame = nw.LazyFrame[Any]
ORDER = ["at_us", "rank", "seq", "tiebreak"]
OPCUA_STATE_CODES = {0.0: "idle", 1.0: "running", 2.0: "planned_stop", 3.0: "unplanned_stop"}
RANK_CALENDAR, RANK_GAP, RANK_MES, RANK_OPCUA = 0, 1, 2, 3
SHIFT_KEY = ["machine_id", "shift_date", "shift_id"]
_I, _S, _D = nw.Int64, nw.String, nw.Date


def _lengths(changes: Frame, end_us: int) -> Frame:
    following = nw.col("at_us").shift(-1).over("machine_id", order_by=["at_us", "tiebreak"])
    return changes.with_columns((following.fill_null(end_us) - nw.col("at_us")).alias("interval_us"))


def _same_as_previous(name: str, order_by: list[str]) -> nw.Expr:
    """The column equals its value on the machine's previous row (null equals null); false on the first row."""
    previous = nw.col(name).shift(1).over("machine_id", order_by=order_by)
    both_null = nw.col(name).is_null() & previous.is_null()
    return ((nw.col(name) == previous).fill_null(False) | both_null) & ~nw.col("_first")


def mes_state_changes(events: Frame, end_us: int) -> Frame:
    """events: machine_id, at_us, state, reason_code -> the changes of state or reason code, + tiebreak and
    interval_us (until the machine's next MES change). An event that repeats the machine's previous state and
    reason code is dropped, so consecutive events with the same state and reason are one interval."""
    c = nw.col
    order = ["at_us", "tiebreak"]
    keyed = events.with_columns(nw.concat_str([c("state"), c("reason_code")], separator="|").alias("tiebreak"))
    first = c("at_us").shift(1).over("machine_id", order_by=order).is_null()
    flagged = keyed.with_columns(first.alias("_first"))
    repeated = _same_as_previous("state", order) & _same_as_previous("reason_code", order)
    changes = (flagged.with_columns(repeated.alias("_repeated")).filter(~c("_repeated"))
               .drop("_first", "_repeated"))
    return _lengths(changes, end_us)


def opcua_state_changes(samples: Frame, codes: Frame, end_us: int) -> Frame:
    """samples of the state tag: machine_id, at_us, value, status_code; codes: value, state. Keeps the samples
    where the state changes; a bad status or an unknown code is state `unknown`."""
    named = (samples.join(codes, on="value", how="left")
             .with_columns(nw.when((nw.col("status_code") == 0) & ~nw.col("state").is_null())
                           .then(nw.col("state")).otherwise(nw.lit("unknown")).alias("state")))
    previous = nw.col("state").shift(1).over("machine_id", order_by="at_us")
    changes = (named.with_columns(previous.alias("previous_state"))
               .filter(nw.col("previous_state").is_null() | (nw.col("previous_state") != nw.col("state")))
               .select("machine_id", "at_us", "state", nw.col("state").alias("tiebreak")))
    return _lengths(changes, end_us)


def gap_edges(gaps: Frame, machines: Frame) -> Frame:
    """gaps: machine_id (null = the whole connection), started_at_us, ended_at_us -> +1/-1 rows per machine."""
    per_machine = (gaps.filter(~nw.col("machine_id").is_null()).select("machine_id", "started_at_us", "ended_at_us"))
    connection = (gaps.filter(nw.col("machine_id").is_null()).drop("machine_id").join(machines, how="cross")
                  .select("machine_id", "started_at_us", "ended_at_us"))
    spans = nw.concat([per_machine, connection], how="vertical")
    return nw.concat([spans.select("machine_id", nw.col("started_at_us").alias("at_us"), nw.lit(1).alias("gap_delta")),
                      spans.select("machine_id", nw.col("ended_at_us").alias("at_us"), nw.lit(-1).alias("gap_delta"))],
                     how="vertical")


def _rows(frame: Frame, rank: int, **columns: nw.Expr) -> Frame:
    base = {"mes_state": (None, _S), "mes_reason": (None, _S), "mes_interval_us": (None, _I),
            "opc_state": (None, _S), "opc_interval_us": (None, _I), "gap_delta": (0, _I),
            "cal_kind": (None, _S), "shift_date": (None, _D), "shift_id": (None, _S), "seq": (0, _I),
            "tiebreak": ("", _S)}
    exprs = [columns[name].cast(dtype).alias(name) if name in columns else nw.lit(default, dtype).alias(name)
             for name, (default, dtype) in base.items()]
    return frame.select(nw.col("machine_id"), nw.col("at_us").cast(_I), nw.lit(rank, _I).alias("rank"), *exprs)


def timeline(calendar: Frame, machines: Frame, mes: Frame, opcua: Frame, gaps: Frame, end_us: int) -> Frame:
    """One row per piece of time per machine: machine_id, at_us, duration_us, the shift it belongs to,
    cal_kind, the resolved state/reason/source and the whole interval's length (for micro-stops)."""
    c = nw.col
    union = nw.concat([
        _rows(calendar.join(machines, how="cross"), RANK_CALENDAR, cal_kind=c("cal_kind"),
              shift_date=c("shift_date"), shift_id=c("shift_id"), seq=c("seq")),
        _rows(gaps, RANK_GAP, gap_delta=c("gap_delta")),
        _rows(mes, RANK_MES, mes_state=c("state"), mes_reason=c("reason_code"), mes_interval_us=c("interval_us"),
              tiebreak=c("tiebreak")),
        _rows(opcua, RANK_OPCUA, opc_state=c("state"), opc_interval_us=c("interval_us"), tiebreak=c("tiebreak")),
    ], how="vertical")
    carried = ["mes_state", "mes_reason", "mes_interval_us", "opc_state", "opc_interval_us", "cal_kind",
               "shift_date", "shift_id"]
    filled = union.with_columns(
        *(c(name).fill_null(strategy="forward").over("machine_id", order_by=ORDER) for name in carried),
        c("gap_delta").cum_sum().over("machine_id", order_by=ORDER).alias("gaps_open"),
        (c("at_us").shift(-1).over("machine_id", order_by=ORDER).fill_null(end_us) - c("at_us")).alias("duration_us"))
    mes_known = ~c("mes_state").is_null() & (c("mes_state") != "unknown")
    opc_known = ~c("opc_state").is_null() & (c("opc_state") != "unknown") & (c("gaps_open") <= 0)
    return filled.filter(~c("cal_kind").is_null()).with_columns(
        nw.when(mes_known).then(nw.lit("mes")).when(opc_known).then(nw.lit("opcua")).otherwise(nw.lit("none"))
        .alias("source"),
        nw.when(mes_known).then(c("mes_state")).when(opc_known).then(c("opc_state")).otherwise(nw.lit("unknown"))
        .alias("state"),
        nw.when(mes_known).then(c("mes_reason")).otherwise(nw.lit("")).alias("reason_code"),
        nw.when(mes_known).then(c("mes_interval_us")).otherwise(c("opc_interval_us")).alias("interval_us"),
        ((c("rank") == RANK_MES) & mes_known | (c("rank") == RANK_OPCUA) & ~mes_known & opc_known)
        .alias("is_state_change"))


def classify(pieces: Frame, mapping: LossMapping, mapping_table: Frame) -> Frame:
    """Adds `category`: the calendar first (off -> not_scheduled, break -> planned_stop), then unknown, then the
    loss mapping by (state, reason) or by state; short unplanned stops become performance losses (micro-stops).
    Adds `is_failure` (an unplanned stop, not a micro-stop, with a failure reason or read from OPC UA): a
    failure counts in the shift it starts in (breaks included); its time counts outside breaks only."""
    c = nw.col
    exact = mapping_table.filter(c("reason_code") != ANY_REASON).rename({"category": "reason_category"})
    by_state = mapping_table.filter(c("reason_code") == ANY_REASON).select("state", c("category").alias("state_category"))
    threshold_us = int(round(mapping.micro_stop_threshold_s * 1_000_000))
    mapped = (pieces.join(exact, on=["state", "reason_code"], how="left").join(by_state, on="state", how="left")
              .with_columns(nw.coalesce(c("reason_category"), c("state_category"), nw.lit("availability_loss"))
                            .alias("mapped")))
    stop = (c("state") == "unplanned_stop") & (c("mapped") == "availability_loss")
    micro = stop & (c("interval_us") < threshold_us)
    failure_reason = (c("source") == "opcua") | c("reason_code").is_in(list(mapping.failure_reasons) or [""])
    return mapped.with_columns(
        nw.when(c("cal_kind") == "off").then(nw.lit("not_scheduled"))
        .when(c("cal_kind") == "break").then(nw.lit("planned_stop"))
        .when(c("state") == "unknown").then(nw.lit("unknown"))
        .when(micro).then(nw.lit("performance_loss"))
        .otherwise(c("mapped")).alias("category"),
        (stop & ~micro & failure_reason).alias("is_failure"),
        ((c("reason_category").is_null()) & (c("state_category").is_null()) & (c("state") != "unknown"))
        .alias("is_unmapped")).drop("reason_category", "state_category", "mapped")


def _seconds_where(condition: nw.Expr) -> nw.Expr:
    return nw.when(condition).then(nw.col("duration_us")).otherwise(0).sum() / 1_000_000


def shift_times(classified: Frame) -> Frame:
    """Per machine and shift: calendar time (the shift's length) and its waterfall down to run time.
    planned_time_s = calendar - breaks - planned stops - not scheduled - unknown (the planned time whose state
    is known: the denominator of A); run_time_s = running + performance- and quality-loss time."""
    c = nw.col
    in_shift = classified.filter(c("cal_kind") != "off")
    return in_shift.group_by(*SHIFT_KEY).agg(
        (c("duration_us").sum() / 1_000_000).alias("calendar_time_s"),
        _seconds_where(c("cal_kind") == "break").alias("break_time_s"),
        _seconds_where((c("category") == "planned_stop") & (c("cal_kind") == "work")).alias("planned_stop_time_s"),
        _seconds_where((c("category") == "not_scheduled") & (c("cal_kind") == "work")).alias("not_scheduled_time_s"),
        _seconds_where(c("category") == "unknown").alias("unknown_time_s"),
        _seconds_where(c("category").is_in(list(RUN_CATEGORIES))).alias("run_time_s"),
        _seconds_where(c("category") == "performance_loss").alias("micro_stop_time_s"),
        _seconds_where(c("is_failure") & (c("cal_kind") == "work")).alias("failure_time_s"),
        (c("is_failure") & c("is_state_change")).cast(_I).sum().alias("failure_count"),
        _seconds_where(c("source") == "opcua").alias("opcua_sourced_time_s"),
        _seconds_where(c("is_unmapped") & (c("cal_kind") == "work")).alias("unmapped_time_s"),
    ).with_columns((c("calendar_time_s") - c("break_time_s") - c("planned_stop_time_s") - c("not_scheduled_time_s")
                    - c("unknown_time_s")).alias("planned_time_s"))


def shift_counts(counts: Frame, shift_days: Frame, ideal_cycle_times: Frame) -> Frame:
    """Total and good counts and ideal time per machine and shift. counts: machine_id, material_id,
    counted_at_us, total_count, good_count; shift_days: shift_date, shift_id, shift_start_us, shift_end_us and
    utc_day (one row per UTC day a shift touches); ideal_cycle_times: machine_id, material_id,
    ideal_cycle_time_s. A count belongs to the shift its period starts in."""
    c = nw.col
    inside = (c("counted_at_us") >= c("shift_start_us")) & (c("counted_at_us") < c("shift_end_us"))
    return (counts.join(ideal_cycle_times, on=["machine_id", "material_id"], how="left")
            .with_columns((c("counted_at_us") // 86_400_000_000).alias("utc_day"))
            .join(shift_days, on="utc_day", how="inner").filter(inside)
            .group_by(*SHIFT_KEY).agg(
                c("total_count").sum(), c("good_count").sum(),
                (c("ideal_cycle_time_s") * c("total_count")).sum().alias("ideal_time_s")))


def machine_shift_oee_inputs(times: Frame, counts: Frame) -> Frame:
    """Times and counts side by side; a shift with no count has zero counts and zero ideal time."""
    return (times.join(counts, on=SHIFT_KEY, how="left")
            .with_columns(nw.col("total_count").fill_null(0), nw.col("good_count").fill_null(0),
                          nw.col("ideal_time_s").fill_null(0.0)))
