"""The caps on what lambdascope reads from outside (log files, recordings, snapshots, plans), in one
place so every reader and every error names the same numbers. Pure numbers and their wording;
the reading itself is tui/output/capped.py (files) and tui/aws/sources/file.py (log events).

Each cap sits well above anything lambdascope or AWS writes, so only a damaged or hostile input
reaches it, and then it costs at most the cap in memory and the time to read that far.
"""

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

# CloudWatch Logs' largest event is 256 KB (AWS-FACTS §1). One event as JSON may be larger
# (quotes, backslashes and control characters are escaped), so a JSON value gets four times that.
CLOUDWATCH_EVENT = 256 * KIB
EVENT_JSON = 4 * CLOUDWATCH_EVENT
# Any other value of a FilterLogEvents document (`searchedLogStreams` of thousands of streams).
DOCUMENT_VALUE = 16 * MIB
# One recording line is one batch as the monitor received it: a FilterLogEvents page (at most
# 1 MB of events) or a load process's outcome batch (a few MB at 25k requests/s).
RECORDING_LINE = 16 * MIB
# Everything one file may decompress to. A log file of a million invocations is about 1 GB.
INPUT_BYTES = 2 * GIB
# Logs and recordings compress 5-20x with gzip; past the first 64 MiB a ratio over 200x is a bomb.
GZIP_RATIO = 200
GZIP_RATIO_AFTER = 64 * MIB
# Snapshot documents (compare, --plan) and plan or profile files: small by nature.
SNAPSHOT_FILE = 64 * MIB
PLAN_FILE = 1 * MIB
# Times a file may carry: from the epoch to the end of year 9999 (what a date can show).
LATEST_S = 253_402_300_799

# Log streams (containers) one file may name: five times an account's default concurrency.
STREAMS = 5000


def size(n: int) -> str:
    """A cap as it reads in an error: '256 KiB', '16 MiB', '2 GiB'."""
    for unit, name in ((GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")):
        if n >= unit:
            value = n / unit
            return f"{value:g} {name}" if value == int(value) else f"{value:.1f} {name}"
    return f"{n} bytes"
