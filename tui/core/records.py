"""What the parser gives the model: one `Record` per fact read from a log line, its kinds, and
the bounds and checks every field read from outside passes.

Pure: no IO. `tui.core.lambdalog` (a function's log lines) and `tui.core.system_log` (a capacity
provider's system log) both write these; the fleet reads them.
"""

from dataclasses import dataclass

from tui.core.printable import printable

# Record kinds.
PROBE = "probe"
HOST = "host"  # the extension layer's host-facts line: one per environment, at its init
INIT_START = "init_start"
RESTORE_START = "restore_start"
START = "start"
END = "end"
REPORT = "report"
TIMEOUT = "timeout"
CRASH = "crash"
INIT_REPORT = "init_report"  # the end of an init (its duration, phase, status)
RESTORE_REPORT = "restore_report"  # the end of a SnapStart restore
LOGS_DROPPED = "logs_dropped"  # Lambda dropped log records: the counts are short
APP = "app"  # a line the function wrote that is not the probe record
MALFORMED = "malformed"  # looked like ours (probe or platform) but could not be read
SYSTEM = "system"  # a capacity provider's system log record (Managed Instances: an EC2 instance event)

# Bounds on what one line may put into the model: ids are keys of bounded tables, texts are
# shown on screen, numbers go into sums and exports (JSON has no NaN or infinity).
MAX_ID = 200  # Lambda's request ids are 36 characters; AWS's docs examples are shorter
MAX_STREAM = 512  # CloudWatch's limit on a log stream name
MAX_TEXT = 256  # host name, boot id, CPU model
MAX_NUMBER = 1e15  # a metric or a CPU figure beyond this is not a measurement
MAX_TIMESTAMP_MS = 253_402_300_799_000  # 9999-12-31: the last time an ISO date can show


@dataclass(slots=True)
class Record:
    """One fact read from a log line.

    `data` holds the probe record's validated fields (PROBE; HOST: the same host fields, from
    the extension's line, plus `format`, its version), the report metrics and status
    (REPORT: duration_ms…, status, error_type, tenant_id), the runtime version and init type
    (INIT_START), duration/phase/status/error type (INIT_REPORT, RESTORE_REPORT), dropped
    records and bytes (LOGS_DROPPED), the timeout in seconds (TIMEOUT) or the line
    itself (APP, MALFORMED).
    """

    kind: str
    stream: str
    timestamp: int
    request_id: str | None = None
    data: dict | None = None


class Bad(Exception):
    """A field of the wrong type or out of bounds: the line is MALFORMED."""


def is_id(value) -> bool:
    """A request or container id the model may key a table by."""
    return type(value) is str and 0 < len(value) <= MAX_ID


def is_stream(value) -> bool:
    return type(value) is str and 0 < len(value) <= MAX_STREAM


def number(value) -> float:
    """A finite, bounded, non-negative JSON number (not a bool) as a float, else _Bad."""
    if type(value) is int:
        if 0 <= value <= MAX_NUMBER:
            return float(value)
        raise Bad
    if type(value) is float and 0.0 <= value <= MAX_NUMBER:  # NaN fails both comparisons
        return value
    raise Bad


def opt_id(value) -> str | None:
    if value is None:
        return None
    if is_id(value):
        return value
    raise Bad


def opt_text(value) -> str | None:
    if value is None:
        return None
    if type(value) is str:
        return printable(value[:MAX_TEXT], newlines=False)  # shown on screen: no escape sequences
    raise Bad
