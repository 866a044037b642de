"""Production flow tables (gold): per-operation waiting and working times, WIP in front of and on each machine
over time, and the bottleneck of each line and shift (transforms/flow/)."""

import pyarrow as pa

from lakehouse.catalog import TableSpec

_s, _f, _i, _b = pa.string(), pa.float64(), pa.int64(), pa.bool_()
_utc = pa.timestamp("us", tz="UTC")

TABLES = [
    TableSpec("fct_operation_flow", "gold", pa.schema([
        pa.field("work_order_id", _s, nullable=False), pa.field("operation_seq", _i, nullable=False),
        pa.field("machine_id", _s, nullable=False), ("operator_id", _s), ("ready_at", _utc),
        pa.field("started_at", _utc, nullable=False), pa.field("ended_at", _utc, nullable=False),
        ("queue_s", _f), pa.field("setup_s", _f, nullable=False), pa.field("processing_s", _f, nullable=False),
        pa.field("stopped_s", _f, nullable=False), pa.field("starved_s", _f, nullable=False),
        pa.field("blocked_s", _f, nullable=False)]),
        "One row per completed routing operation: when it could start (ready_at: the previous operation done, "
        "for the first one the release or its last WMS issue line-side), queue_s (ready to start), and the "
        "machine's setup, processing and stopped time while it ran (adding up to its span), the machine's "
        "starved time before it and blocked time after it; the operator who started it. From MES operation "
        "events, equipment states and the ledger (transforms/flow/operations.py).",
        ("work_order_id", "operation_seq")),
    TableSpec("wip_by_machine", "gold", pa.schema([
        pa.field("machine_id", _s, nullable=False), pa.field("changed_at", _utc, nullable=False),
        pa.field("queue_wip", _i, nullable=False), pa.field("in_process_wip", _i, nullable=False)]),
        "WIP over time per machine as a step function: operations waiting in the buffer in front of the machine "
        "(ready, not started) and in process on it, from `changed_at` until the machine's next row "
        "(transforms/flow/wip.py).", ("machine_id", "changed_at")),
    TableSpec("bottleneck_by_line_shift", "gold", pa.schema([
        pa.field("line_id", _s, nullable=False), pa.field("shift_date", pa.date32(), nullable=False),
        pa.field("shift_id", _s, nullable=False), pa.field("machine_id", _s, nullable=False),
        pa.field("working_time_s", _f, nullable=False), pa.field("active_time_s", _f, nullable=False),
        pa.field("idle_time_s", _f, nullable=False), pa.field("utilization", _f, nullable=False),
        pa.field("active_period_count", _i, nullable=False), pa.field("longest_active_period_s", _f, nullable=False),
        pa.field("sole_bottleneck_s", _f, nullable=False), pa.field("shifting_bottleneck_s", _f, nullable=False),
        pa.field("bottleneck_share", _f, nullable=False), pa.field("is_line_bottleneck", _b, nullable=False),
        pa.field("queue_time_s", _f, nullable=False), pa.field("is_queue_bottleneck", _b, nullable=False)]),
        "Per line, shift and machine: active and idle time and periods, utilization (active / shift length), "
        "and the active-period bottleneck (Roser, Nakano and Tanaka 2002): seconds as sole and as shifting "
        "bottleneck, the share of the shift, is_line_bottleneck for the machine with the largest share; the "
        "queue view (queue_s of the operations started in the shift, is_queue_bottleneck for the longest). "
        "`plantlake bottleneck`, `Lake.bottleneck` (transforms/flow/bottleneck.py).",
        ("line_id", "shift_date", "shift_id", "machine_id")),
    TableSpec("schedule_suggestions", "gold", pa.schema([
        pa.field("line_id", _s, nullable=False), pa.field("machine_id", _s, nullable=False),
        pa.field("work_order_id", _s, nullable=False), pa.field("operation_seq", _i, nullable=False),
        pa.field("machine_rank", _i, nullable=False), pa.field("suggested_start_at", _utc, nullable=False),
        pa.field("suggested_end_at", _utc, nullable=False), pa.field("suggested_start_s", _f, nullable=False),
        pa.field("suggested_end_s", _f, nullable=False), pa.field("fifo_start_s", _f, nullable=False),
        pa.field("fifo_end_s", _f, nullable=False), ("due_s", _f), pa.field("is_running", _b, nullable=False),
        pa.field("suggested_at", _utc, nullable=False), pa.field("solver_status", _s, nullable=False)]),
        "A suggested sequence per machine for each line's open work orders (OR-Tools CP-SAT, total tardiness "
        "first, then makespan) as of the latest event the lake holds: the operation's rank on its machine, "
        "planned start and end, and on the working-time axis (*_s: working seconds from suggested_at) the same "
        "against the plant's own first-in first-out rule and the due date. Uses gold.machine_risk where present "
        "(durations stretched by 1 + risk, for the suggestion and the FIFO plan alike). "
        "`plantlake schedule suggest`, `Lake.schedule_suggestion` (transforms/flow/schedule.py).",
        ("line_id", "work_order_id", "operation_seq")),
]
