"""The lines the Lambda platform (not the function) writes into each log stream.

Real Lambda writes INIT_START, START, END and REPORT itself; awslambdaric never prints them. Their
exact shapes (tabs, trailing tab, field order with Init Duration last) are the contract the
monitor's parser is tested against, so they live here, in one place, for both log formats.

Per mode (AWS-FACTS §3, LANDSCAPE-2026 §1.1-1.2):
- snapstart: RESTORE_START / platform.restoreStart, RESTORE_REPORT / platform.restoreReport, and
  the first REPORT carries Restore Duration and Billed Restore Duration (no Init Duration).
- lmi: initializationType "lambda-managed-instances", INIT_REPORT / platform.initReport for the
  init, START and a REPORT with only Duration (JSON metrics: durationMs only), and no END.
"""

import hashlib
import json
import math
import time
from dataclasses import dataclass

RUNTIME_VERSION = "python:3.11.v88"
# Real ARNs end in 64 hex; derive ours from the version so it is stable from run to run.
RUNTIME_VERSION_ARN = "arn:aws:lambda:{region}::runtime:" + hashlib.sha256(RUNTIME_VERSION.encode()).hexdigest()


@dataclass
class Report:
    """The measured figures of one invocation (milliseconds, megabytes)."""

    request_id: str
    duration_ms: float
    memory_size_mb: int
    max_memory_used_mb: int
    init_duration_ms: float | None = None  # first invocation of an environment only
    restore_duration_ms: float | None = None  # SnapStart: first invocation after a restore
    status: str = "success"  # success | error | failure | timeout (JSON format only)
    billed_cap_ms: float | None = None  # a timed-out invocation is billed up to the timeout

    @property
    def billed_ms(self) -> int:
        # 1-ms billing; since 2025-08 the INIT phase is billed too (AWS-FACTS §3.3).
        duration = self.duration_ms
        if self.billed_cap_ms is not None:
            duration = min(duration, self.billed_cap_ms)
        if self.restore_duration_ms is not None:
            # SnapStart: Billed = ceil(Duration) + Billed Restore Duration (AWS-FACTS §3.3)
            return math.ceil(duration) + self.billed_restore_ms
        return math.ceil(duration + (self.init_duration_ms or 0.0))

    @property
    def billed_restore_ms(self) -> int:
        return math.ceil(self.restore_duration_ms or 0.0)


def iso(ts: float | None = None) -> str:
    """UTC ISO-8601 with milliseconds, as Lambda stamps its JSON records and timeout lines."""
    ts = time.time() if ts is None else ts
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"


class PlatformLines:
    """Formats platform lines in the function's log format ("text" or "json")."""

    def __init__(
        self,
        log_format: str,
        region: str,
        function_name: str,
        version: str,
        function_arn: str,
        memory_mb: int,
        mode: str = "on-demand",
    ):
        self.json = log_format == "json"
        self.mode = mode
        self.init_type = {"snapstart": "snap-start", "lmi": "lambda-managed-instances"}.get(mode, "on-demand")
        self.region = region
        self.function_name = function_name
        self.version = version
        self.function_arn = function_arn
        self.memory_mb = memory_mb
        self.runtime_arn = RUNTIME_VERSION_ARN.format(region=region)

    def _record(self, kind: str, record: dict, ts: float | None = None) -> str:
        return json.dumps({"time": iso(ts), "type": kind, "record": record}, separators=(",", ":"))

    def init_start(self, stream: str, ts: float | None = None) -> str:
        """Written when Lambda would start the environment (the pool's decision), however long
        this machine then queues its init: the stream carries Lambda's timeline, not ours. `ts`
        (epoch s): that moment, when it was earlier than now."""
        if self.json:
            return self._record(
                "platform.initStart",
                {
                    "initializationType": self.init_type,
                    "phase": "init",
                    "runtimeVersion": RUNTIME_VERSION,
                    "runtimeVersionArn": self.runtime_arn,
                    "functionName": self.function_name,
                    "functionVersion": self.version,
                    "instanceId": stream,
                    "instanceMaxMemory": self.memory_mb * 1024 * 1024,
                },
                ts,
            )
        return f"INIT_START Runtime Version: {RUNTIME_VERSION}\tRuntime Version ARN: {self.runtime_arn}"

    def init_report(self, duration_ms: float, status: str = "success", error_type: str | None = None) -> str:
        """The end of INIT where REPORT cannot carry it (Managed Instances), or an INIT that
        failed (status "error" and its error type, e.g. Extension.Crash)."""
        if self.json:
            record = {
                "initializationType": self.init_type,
                "phase": "init",
                "status": status,
                "metrics": {"durationMs": round(duration_ms, 3)},
            }
            if error_type:
                record["errorType"] = error_type
            return self._record("platform.initReport", record)
        if status == "success":
            return f"INIT_REPORT Init Duration: {duration_ms:.2f} ms"
        return (
            f"INIT_REPORT Init Duration: {duration_ms:.2f} ms\tPhase: init\tStatus: {status}\tError Type: {error_type}"
        )

    def restore_start(self, stream: str, ts: float | None = None) -> str:
        """`ts`: when Lambda would have begun the restore (epoch s); the line is written later,
        once the unseen init has run here, and shipped with that time (Environment._restore)."""
        if self.json:
            return self._record(
                "platform.restoreStart",
                {
                    "runtimeVersion": RUNTIME_VERSION,
                    "runtimeVersionArn": self.runtime_arn,
                    "functionName": self.function_name,
                    "functionVersion": self.version,
                    "instanceId": stream,
                    "instanceMaxMemory": self.memory_mb * 1024 * 1024,
                },
                ts,
            )
        return f"RESTORE_START Runtime Version: {RUNTIME_VERSION}\tRuntime Version ARN: {self.runtime_arn}"

    def restore_report(self, duration_ms: float) -> str:
        if self.json:
            return self._record(
                "platform.restoreReport",
                {
                    "status": "success",
                    "metrics": {"durationMs": round(duration_ms, 3)},
                },
            )
        return f"RESTORE_REPORT Restore Duration: {duration_ms:.2f} ms"

    def start(self, request_id: str) -> str:
        if self.json:
            return self._record(
                "platform.start",
                {
                    "requestId": request_id,
                    "functionArn": self.function_arn,
                    "version": self.version,
                },
            )
        return f"START RequestId: {request_id} Version: {self.version}"

    def end(self, request_id: str) -> str | None:
        # JSON format has no END record at the default system log level; Managed Instances
        # write none at all (DataDog/datadog-lambda-extension#1299).
        return None if self.json or self.mode == "lmi" else f"END RequestId: {request_id}"

    def report(self, r: Report) -> str:
        if self.mode == "lmi":
            # Managed Instances: only the duration (telemetry-schema-reference.html).
            if self.json:
                return self._record(
                    "platform.report",
                    {
                        "requestId": r.request_id,
                        "metrics": {"durationMs": round(r.duration_ms, 3)},
                        "status": r.status,
                    },
                )
            return f"REPORT RequestId: {r.request_id}\tDuration: {r.duration_ms:.2f} ms\t"
        if self.json:
            metrics = {
                "durationMs": round(r.duration_ms, 3),
                "billedDurationMs": r.billed_ms,
                "memorySizeMB": r.memory_size_mb,
                "maxMemoryUsedMB": r.max_memory_used_mb,
            }
            if r.init_duration_ms is not None:
                metrics["initDurationMs"] = round(r.init_duration_ms, 3)
            if r.restore_duration_ms is not None:
                metrics["restoreDurationMs"] = round(r.restore_duration_ms, 3)
                metrics["billedRestoreDurationMs"] = r.billed_restore_ms
            return self._record(
                "platform.report",
                {
                    "requestId": r.request_id,
                    "metrics": metrics,
                    "status": r.status,
                },
            )
        line = (
            f"REPORT RequestId: {r.request_id}\tDuration: {r.duration_ms:.2f} ms\t"
            f"Billed Duration: {r.billed_ms} ms\tMemory Size: {r.memory_size_mb} MB\t"
            f"Max Memory Used: {r.max_memory_used_mb} MB\t"
        )
        if r.init_duration_ms is not None:
            line += f"Init Duration: {r.init_duration_ms:.2f} ms\t"
        if r.restore_duration_ms is not None:
            line += (
                f"Restore Duration: {r.restore_duration_ms:.2f} ms\tBilled Restore Duration: {r.billed_restore_ms} ms\t"
            )
        return line

    def timed_out(self, request_id: str, timeout_s: float) -> str | None:
        if self.json:
            return None  # the report's status says "timeout"
        return f"{iso()} {request_id} Task timed out after {timeout_s:.2f} seconds"

    def runtime_exited(self, request_id: str, how: str) -> str:
        # `how` is "exit status 1" or "signal: killed", as Go's os/exec phrases it in real Lambda.
        if self.json:
            return json.dumps(
                {
                    "time": iso(),
                    "level": "ERROR",
                    "requestId": request_id,
                    "message": f"Error: Runtime exited with error: {how}",
                    "errorType": "Runtime.ExitError",
                },
                separators=(",", ":"),
            )
        return f"RequestId: {request_id} Error: Runtime exited with error: {how}\nRuntime.ExitError"
