"""The collector's column mapping of DataValues (ingestion.opcua.samples.batch_from_datavalues): numbers, booleans,
enums and state strings become floats; anything else is null with BadTypeMismatch unless the server said Bad;
source_at falls back to the server's time, then to the arrival; naive times are UTC; rows keep their order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pyarrow as pa
from asyncua import ua

from ingestion.opcua.samples import BAD_TYPE_MISMATCH, Target, batch_from_datavalues

T0 = datetime(2026, 1, 5, 23, 59, 59, tzinfo=UTC)
BAD_COMM = int(ua.StatusCodes.BadCommunicationError)


def value(raw: object, variant: ua.VariantType | None = None, **kw: object) -> ua.DataValue:
    return ua.DataValue(None if raw is None else ua.Variant(raw, variant), **kw)


def test_values_statuses_and_times_map_column_by_column() -> None:
    targets = [Target("ns=2;s=M1.t", "M1", "temperature_c"), Target("ns=2;s=M1.s", "M1", "state", {"RUNNING": 1.0})]
    plus_one = timezone(timedelta(hours=1))
    drained = [
        (0, value(21.5, ua.VariantType.Double, SourceTimestamp=T0, ServerTimestamp=T0 + timedelta(seconds=1))),
        (0, value(7, ua.VariantType.Int32, SourceTimestamp=T0.replace(tzinfo=None))),  # naive: UTC
        (0, value(True, ua.VariantType.Boolean, ServerTimestamp=T0.astimezone(plus_one))),  # no source time
        (1, value("RUNNING", ua.VariantType.String, SourceTimestamp=T0)),
        (1, value("JAMMED", ua.VariantType.String, SourceTimestamp=T0)),  # no number for it
        (0, value(None, StatusCode=ua.StatusCode(BAD_COMM), SourceTimestamp=T0)),  # the server's Bad stays
        (0, value(1.0, ua.VariantType.Double)),  # no time at all: the arrival
    ]
    arrived = T0 + timedelta(minutes=5)
    batch = batch_from_datavalues(targets, drained, arrived)
    assert batch.value == [21.5, 7.0, 1.0, 1.0, None, None, 1.0]
    assert batch.status == [0, 0, 0, 0, BAD_TYPE_MISMATCH, BAD_COMM, 0]
    assert batch.source_at == [T0, T0, T0, T0, T0, T0, arrived]
    assert all(t.tzinfo is not None for t in batch.source_at)
    assert batch.server_at[0] == T0 + timedelta(seconds=1) and batch.server_at[2] == T0
    table = batch.table([6, 0, 3], T0, "run-1")
    assert table.schema.field("source_at").type == pa.timestamp("us", tz="UTC")
    assert table.select(["machine_id", "tag", "value", "status_code"]).to_pylist() == [
        {"machine_id": "M1", "tag": "temperature_c", "value": 1.0, "status_code": 0},
        {"machine_id": "M1", "tag": "temperature_c", "value": 21.5, "status_code": 0},
        {"machine_id": "M1", "tag": "state", "value": 1.0, "status_code": 0}]
    assert table["source_date"].to_pylist() == [arrived.date(), T0.date(), T0.date()]  # the UTC day
    assert batch.row(4).target is targets[1] and batch.row(4).status_code == BAD_TYPE_MISMATCH
