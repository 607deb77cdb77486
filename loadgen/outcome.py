"""One request's outcome, and its compact tuple form for crossing a process boundary.

The response body is the probe record (container_id, request_id, cold, ...); the fields the
monitor needs most are lifted out of it so a consumer never has to dig in `record`.
"""

from dataclasses import dataclass
from random import getrandbits
from typing import Any

# Every failure lands in exactly one class, so errors are counted apart from successes (a
# refused connection "completes" very fast; counting it as a success makes throughput fake).
# 'throttled' (HTTP 429) is Lambda saying no, not the tool failing.
# 'local_limit' is a 429 from the local Lambda's machine cap (X-Lambdascope-Limit: local-machine):
# this machine, not Lambda, said no, so it is not counted as Lambda's throttling.
# 'function_error' is an Invoke answer with X-Amz-Function-Error: the function ran and failed
# (its REPORT line confirms it like any other invocation), unlike a 5xx whose answer was lost.
# A function URL answers the same failure with a bare 502, so there it stays http_5xx.
ERRORS = (
    "timeout", "refused", "reset", "throttled", "local_limit", "function_error", "http_4xx", "http_5xx", "other"
)  # fmt: skip
LOCAL_LIMIT_HEADER = "x-lambdascope-limit"
REQUEST_ID_HEADER = "x-lambdascope-request-id"
# How long the probe holds the request after writing its record, in ms (the event's `hold_ms`
# on the Invoke API): concurrency without CPU.
HOLD_HEADER = "x-lambdascope-hold-ms"
# The detail of a 'function_error' answer: "function error (Unhandled)" and the body's start.
FUNCTION_ERROR = "function error ("


def is_function_error(o: "Outcome") -> bool:
    """An outcome whose answer said the function ran and failed, with Lambda's request id."""
    return o.error == "function_error" and bool(o.request_id)


# When the client sent the request (epoch seconds): the local Lambda stamps a cold start's
# INIT_START then, not when its own loop got to the request (AWS ignores it).
SENT_AT_HEADER = "x-lambdascope-sent-at"

# The probe record: a JSON object (DESIGN.md, "Probe record"), read here as a plain dict.
ProbeRecord = dict[str, Any]
# Outcome.to_tuple(): the fields in declaration order, what crosses the process boundary.
OutcomeRow = tuple[
    int,  # seq
    str,  # client_request_id
    float,  # scheduled_at
    float,  # sent_at
    float | None,  # latency_ms
    int | None,  # status
    str | None,  # error
    str | None,  # container_id
    str | None,  # request_id
    bool | None,  # cold
    ProbeRecord | None,  # record
    str | None,  # detail
    float | None,  # init_duration_ms
]

# uuid4's layout: version nibble 4, variant bits 10. getrandbits is ~10x cheaper than
# uuid.uuid4() and these ids only correlate requests with log lines; they guard no secret.
_V4_CLEAR = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_V4_SET = (0x4 << 76) | (0x2 << 62)


def new_request_id() -> str:
    """A random uuid4 as 32 hex digits (the `x-lambdascope-request-id` header value)."""
    return f"{(getrandbits(128) & _V4_CLEAR) | _V4_SET:032x}"


@dataclass(slots=True)
class Outcome:
    """What happened to one request.

    Times: `scheduled_at` is when the schedule wanted the request sent and `sent_at` when it was
    (epoch seconds); their difference is queueing in the generator, which stays visible instead
    of hiding inside the latency. `latency_ms` is send to end of body, timed with perf_counter.
    """

    seq: int
    client_request_id: str
    scheduled_at: float
    sent_at: float
    latency_ms: float | None
    status: int | None
    error: str | None  # None, or one of ERRORS
    container_id: str | None = None
    request_id: str | None = None
    cold: bool | None = None
    record: ProbeRecord | None = None
    # A short human-readable reason when error is set (never credentials or headers).
    detail: str | None = None
    # From the Invoke API's log tail (REPORT line) when asked for: a cold-start cross-check
    # that needs no CloudWatch.
    init_duration_ms: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def lateness_ms(self) -> float:
        """How long the request waited in the generator after it was due."""
        return (self.sent_at - self.scheduled_at) * 1000.0

    def to_tuple(self, with_record: bool = True) -> OutcomeRow:
        return (
            self.seq,
            self.client_request_id,
            self.scheduled_at,
            self.sent_at,
            self.latency_ms,
            self.status,
            self.error,
            self.container_id,
            self.request_id,
            self.cold,
            self.record if with_record else None,
            self.detail,
            self.init_duration_ms,
        )

    @classmethod
    def from_tuple(cls, values: OutcomeRow) -> "Outcome":
        return cls(*values)
