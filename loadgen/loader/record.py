"""The loader's wire contract: the share it runs and the records it streams back.

A share (the invocation's event) is one JSON object, `lambdascope_loader: 1`:
    loader, loaders      this loader's index and how many run the plan
    mode, level          closed loop (a concurrency) or open loop (a rate), this share's part
    requests, duration_s this share's budget (either may be null), hold_ms, max_in_flight
    target               a loadgen target spec (targets.target_from_spec)
    start_at             the shared start, epoch seconds on the monitor's clock: every loader
                         schedules from it, so open-loop arrivals stay free of coordinated omission
    issued_at            when the monitor sent the share (its clock), for the clock offset
    batch_s              how often outcomes are sent back
    ramp, whole          optional: a ramp plan (ramp.RampPlan.to_dict) and the run's base plan
                         before the split (Plan.to_dict); the loader then follows the plan from
                         start_at and runs its part of each moment (follow.py); mode, level,
                         requests and duration_s are then only its first moment
    control              optional: the control object it polls for the level (control.py:
                         url, region, run, every_s, keys): each generation's whole plan, of
                         which it runs its part, or a stop

The answer is a stream of JSON lines (application/x-ndjson), one record each:
    {"kind": "hello", "loader", "received_at", "t"}            at once: the clock's two stamps
    {"kind": "batch", "loader", "n", "t", "sent", "counts", "hist", "rows"}
        counts: outcome class -> count ("ok" or one of outcome.ERRORS) in this batch
        hist:   the batch's successful latencies (µs), hdrh's own `encode()` (base64)
        rows:   one per request: ROW_FIELDS, the request ids the monitor confirms from the logs
    {"kind": "level", "loader", "gen", "t", "sent", "part", "poll_failures"}
        a generation of the control object applied at t (part: Plan.to_dict; null on a stop)
    {"kind": "end", "loader", "t", "sent", "share"}            the share is done
    {"kind": "error", "loader", "t", "sent", "error"}          the share could not run on
A stream that stops before `end` or `error` is a loader that died: what it had not reported
sending is its shortfall, said by the monitor.
"""

import json
from typing import Any

from hdrh.histogram import HdrHistogram

from loadgen.outcome import Outcome

VERSION = 1
HIGHEST_US = 3_600_000_000  # as stats.py: no request outlives Lambda's 15 minutes
SIGNIFICANT = 3
# One request, as a row: its ids, its times on the loader's clock (epoch s), what came back.
ROW_FIELDS = (
    "client_request_id",
    "request_id",
    "container_id",
    "cold",
    "scheduled_at",
    "sent_at",
    "latency_ms",
    "status",
    "error",
    "container_id_from",
)


def new_histogram() -> HdrHistogram:
    return HdrHistogram(1, HIGHEST_US, SIGNIFICANT)


def record_latency(hist: HdrHistogram, latency_ms: float) -> None:
    hist.record_value(min(max(int(latency_ms * 1000.0), 1), HIGHEST_US))


def encode_histogram(hist: HdrHistogram) -> str:
    encoded = hist.encode()
    return encoded.decode("ascii") if isinstance(encoded, bytes) else str(encoded)


def decode_histogram(text: str) -> HdrHistogram:
    hist: HdrHistogram = HdrHistogram.decode(text.encode("ascii"))
    return hist


def row(o: Outcome) -> list[Any]:
    source = o.record.get("container_id_from") if isinstance(o.record, dict) else None
    return [
        o.client_request_id,
        o.request_id,
        o.container_id,
        o.cold,
        round(o.scheduled_at, 6),
        round(o.sent_at, 6),
        None if o.latency_ms is None else round(o.latency_ms, 3),
        o.status,
        o.error,
        source,
    ]


def outcome_from_row(values: list[Any], seq: int, shift_s: float = 0.0) -> Outcome:
    """An Outcome for the monitor's model, its times moved onto the monitor's clock (`shift_s`
    is the loader's clock minus the monitor's)."""
    if not isinstance(values, list) or len(values) != len(ROW_FIELDS):
        raise ValueError("a loader row must be a list of %d values" % len(ROW_FIELDS))
    crid, rid, cid, cold, scheduled, sent, latency, status, error, source = values
    record = {"container_id_from": source} if source else None
    return Outcome(
        seq,
        str(crid),
        float(scheduled) - shift_s,
        float(sent) - shift_s,
        None if latency is None else float(latency),
        None if status is None else int(status),
        None if error is None else str(error),
        cid,
        rid,
        cold,
        record,
    )


def line(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode() + b"\n"
