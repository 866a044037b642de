"""Node gaps: spans in which a node reported a Bad status, booked when the node recovers (or at stop)."""

from __future__ import annotations

from datetime import datetime

from ingestion.opcua.samples import BAD_TYPE_MISMATCH, Gap, Sample, is_bad

BAD_STATUS = "bad_status"


class BadStatusSpans:
    """Follows each node's status; a Bad run lasting at least `min_duration_s` becomes a node gap.

    The gap runs from the first Bad sample's source time to the first non-Bad sample's source time, the span
    in which the node's value is unknown."""

    def __init__(self, endpoint: str, min_duration_s: float = 0.0) -> None:
        self.endpoint = endpoint
        self.min_duration_s = min_duration_s
        self._bad_since: dict[str, tuple[Sample, datetime]] = {}

    def open_nodes(self) -> dict[str, tuple[Sample, datetime]]:
        """The nodes in a Bad span now (node id -> its first Bad sample and when the span began)."""
        return self._bad_since

    def observe(self, sample: Sample) -> Gap | None:
        if sample.status_code == BAD_TYPE_MISMATCH and sample.value is None:
            return None  # the server sent data, just nothing numeric (samples.to_number): not a gap
        key = sample.target.node_id
        if is_bad(sample.status_code):
            if key not in self._bad_since:
                self._bad_since[key] = (sample, sample.source_at)
            return None
        opened = self._bad_since.pop(key, None)
        return self._gap(opened, sample.source_at) if opened else None

    def close_all(self, at: datetime) -> list[Gap]:
        """Book every still-open Bad span as ending at `at` (the collector stops watching)."""
        gaps = [self._gap(opened, max(at, opened[1])) for opened in self._bad_since.values()]
        self._bad_since.clear()
        return [g for g in gaps if g is not None]

    def _gap(self, opened: tuple[Sample, datetime], ended_at: datetime) -> Gap | None:
        first, started_at = opened
        if (ended_at - started_at).total_seconds() < self.min_duration_s:
            return None
        return Gap("node", self.endpoint, started_at, ended_at, BAD_STATUS, first.target)
