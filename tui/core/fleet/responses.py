"""What the response channel tells the fleet: each answer the load generator got, counted in its
container at once, or held (bounded) until the logs name the stream it came from (a SnapStart
environment's probe names itself by its own id; a function without the probe names nothing).

Pure: no IO. A base of `Fleet` (tui/core/fleet/model.py), which owns the state written here and
calls `_place_answer` and `_place` when a log line names a request's stream.
"""

from collections import OrderedDict
from typing import TYPE_CHECKING

from loadgen.outcome import is_function_error
from tui.core import lambdalog as L
from tui.core.fleet.container import WARMED_AHEAD, Container
from tui.core.fleet.counters import Counters, Latency
from tui.core.fleet.ledger import _ERRORED, Ledger
from tui.core.timeline import Timeline

MAX_FAILED_IDS = 50_000  # function errors waiting for their REPORT
MAX_UNPLACED = 50_000  # SnapStart answers waiting for the logs to name their stream


class FleetResponses:
    """The response side of `Fleet`; the attributes below are the model's, set in Fleet.__init__."""

    containers: dict[str, Container]
    counters: Counters
    latency: Latency
    throttles: Timeline
    probe_seen: bool
    _ledger: Ledger
    _rid_stream: OrderedDict[str, str]
    _unplaced: OrderedDict[str, tuple]
    _failed: OrderedDict[str, None]
    _changed: set[str]

    if TYPE_CHECKING:  # the model's own, shared with the log side (tui/core/fleet/model.py)

        def _see_ms(self, ms: int) -> int: ...
        def _container(self, cid: str, t: float, ms: int) -> Container: ...
        def _identity(self, c: Container, rec: dict, t: float, source: str = "probe") -> None: ...

    def apply_outcomes(self, outcomes, now: float) -> None:
        """Apply a batch of load-generator outcomes (objects with status, error,
        container_id, request_id, cold, record, sent_at, latency_ms)."""
        counters = self.counters
        for o in outcomes:
            counters.requests += 1
            t = o.sent_at + (o.latency_ms or 0.0) / 1000.0
            if o.error == "throttled":
                counters.throttled += 1
                self.throttles.add_at(self._see_ms(int(t * 1000.0 + 0.5)))
                continue
            if o.error is not None:
                if not (is_function_error(o) and self._function_error(o.request_id)):
                    counters.errors += 1
                continue
            if not o.container_id:
                # Not the probe: no record names the stream, but Lambda's request id (the
                # x-amzn-RequestId header) does, once a REPORT line carries it.
                if L.is_id(o.request_id):
                    self._answer_without_record(o, t, now)
                continue
            if not o.request_id:
                continue  # a probe record without a request id: nothing to attribute it by
            # The response body is the function's output: validated like a log line.
            record = L.probe_fields(o.record) if o.record is not None else {}
            if record is None or not L.is_stream(o.container_id) or not L.is_id(o.request_id):
                counters.malformed_responses += 1
                continue
            self._apply_outcome(o, record, t, now)

    def _function_error(self, rid: str) -> bool:
        """The function failed request `rid`: one error, its environment's, whichever channel
        said so first. True when the logs have counted it already (the run's total has it)."""
        entry = self._ledger.ids.get(rid)
        if entry is not None and entry[0] & _ERRORED:
            return True  # a crash or timeout line, or a REPORT's Status, said so already
        if entry is not None and entry[4] is not None:
            self._ledger.fault(entry[4], entry, _ERRORED)
            return True
        self._failed[rid] = None  # the response counts it now; its lines only its environment
        if len(self._failed) > MAX_FAILED_IDS:
            self._failed.popitem(last=False)
        return False

    def _answer_without_record(self, o, t: float, now: float) -> None:
        """A user's function's answer: counted in the stream whose line already named its
        request id, else held until one does (`_place`, from the REPORT line)."""
        entry = self._ledger.ids.get(o.request_id)
        if entry is not None and entry[4] is not None:
            self._apply_outcome(o, {}, t, now, stream=entry[4].container_id)
        else:
            self._hold_unplaced(o, {}, now)

    def _apply_outcome(self, o, record: dict, t: float, now: float, stream: str | None = None) -> None:
        cid = stream or o.container_id
        if stream is None and record.get("container_id_from") == "tmp":
            stream = self._rid_stream.get(o.request_id)
            if stream is None:
                self._hold_unplaced(o, record, now)
                return
            cid = stream
        c = self.containers.get(cid)
        if c is None:
            c = self._container(cid, t, int(t * 1000.0 + 0.5))
        elif t > c.last_seen:  # inside the container's seen span: on the clock already
            c.last_seen = t
            self._see_ms(int(t * 1000.0 + 0.5))
        elif t < c.first_seen:
            c.first_seen = t
            self._see_ms(int(t * 1000.0 + 0.5))
        if record:
            self.probe_seen = True
            self._identity(c, record, t)
        cold = o.cold is True
        self._ledger.invocation(c, o.request_id, t, now, False, cold)
        if o.latency_ms is not None:
            # Environments initialised ahead (provisioned concurrency, Managed Instances) made no
            # request wait for their init: the probe's first answer there is not a cold latency.
            self.latency.add(o.latency_ms, cold and c.init_type not in WARMED_AHEAD)
        self._changed.add(c.container_id)

    @property
    def unplaced(self) -> int:
        """Answers whose stream the logs have not named yet: from SnapStart environments (the
        probe's id is its own), or from a function without the probe (no record at all)."""
        return len(self._unplaced)

    def _hold_unplaced(self, o, record: dict, now: float) -> None:
        self._unplaced[o.request_id] = (o, record, now)
        while len(self._unplaced) > MAX_UNPLACED:  # the oldest answer goes: counted, never silent
            self._unplaced.popitem(last=False)
            self.counters.evicted_ids += 1

    def _place_answer(self, rid: str, stream: str, now: float) -> None:
        """The REPORT of `rid` names its stream: an answer waiting for it counts there."""
        waiting = self._unplaced.pop(rid, None)
        if waiting is not None:
            o, record, _ = waiting
            self._apply_outcome(o, record, o.sent_at + (o.latency_ms or 0.0) / 1000.0, now, stream=stream)

    def _place(self, rid: str, stream: str) -> None:
        """The logs put request `rid` in `stream`: its answer, if it waits, counts there."""
        self._rid_stream[rid] = stream
        if len(self._rid_stream) > self._ledger.max_ids:
            self._rid_stream.popitem(last=False)
        waiting = self._unplaced.pop(rid, None)
        if waiting is not None:
            o, record, at = waiting
            self._apply_outcome(o, record, o.sent_at + (o.latency_ms or 0.0) / 1000.0, at, stream=stream)
