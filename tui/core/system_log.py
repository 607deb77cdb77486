"""A capacity provider's system log (Lambda Managed Instances): one JSON record per EC2 instance
event, read into SYSTEM records (or MALFORMED ones, `system` set).

Pure: no IO.
"""

import json
import re
from datetime import datetime

from tui.core.records import MALFORMED, MAX_TEXT, MAX_TIMESTAMP_MS, SYSTEM, Bad, Record, opt_id, opt_text

# A capacity provider writes its system log to one stream, `<name>/managed-instances`
# (docs lambda-managed-instances-cwl-configure.md), whatever log group it is sent to; a function's
# streams are dated (above), so the name alone tells the two apart, in every source.
SYSTEM_STREAM_SUFFIX = "/managed-instances"
# The system log's events (docs lambda-managed-instances-monitoring-system-log-events.md). The
# record names its event only in `message` ("Successfully launched c7g.xlarge instance i-… in
# us-east-1a", the docs' one example): the verbs below read it. A message none of them matches is
# kept as an event of unknown kind (None), never dropped: AWS says the list will grow.
SYSTEM_EVENTS = (
    "Launching",
    "Launched",
    "LaunchFailed",
    "Terminating",
    "Terminated",
    "TerminateFailed",
    "HealthCheckFailed",
)
_SYSTEM_VERBS = (
    (re.compile(r"health ?check", re.I), "HealthCheckFailed"),
    (re.compile(r"\b(fail(ed|ure)?\b.*\blaunch|launch\w*\b.*\bfail)", re.I), "LaunchFailed"),
    (re.compile(r"\b(fail(ed|ure)?\b.*\bterminat|terminat\w*\b.*\bfail)", re.I), "TerminateFailed"),
    (re.compile(r"^\s*(successfully\s+)?launched\b", re.I), "Launched"),
    (re.compile(r"^\s*launching\b", re.I), "Launching"),
    (re.compile(r"^\s*(successfully\s+)?terminated\b", re.I), "Terminated"),
    (re.compile(r"^\s*terminating\b", re.I), "Terminating"),
)


def system_event(message: str) -> str | None:
    """The event a system log message tells (one of SYSTEM_EVENTS), or None for one not known."""
    for pattern, event in _SYSTEM_VERBS:
        if pattern.search(message):
            return event
    return None


def _iso_ms(value) -> int | None:
    """An ISO 8601 time as epoch ms, or None when it is absent or not one."""
    if type(value) is not str or not 0 < len(value) <= 64:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        return None  # a time without its zone: the event's own timestamp is the safer one
    ms = int(dt.timestamp() * 1000)
    return ms if 0 <= ms <= MAX_TIMESTAMP_MS else None


def _opt_texts(value) -> list[str]:
    """A JSON array of strings (availabilityZones, instanceTypes), validated; [] when absent."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 64:
        raise Bad
    return [t for t in (opt_text(v) for v in value) if t]


def parse_system(stream: str, timestamp: int, message: str) -> Record:
    """One capacity-provider system log record → a SYSTEM record (or MALFORMED, `system` set).

    `{timestamp, level, message, metadata{instanceId, availabilityZones[], instanceTypes[],
    capacityProviderArn}}` (docs lambda-managed-instances-monitoring-log-format.md), every field
    optional. data: event (SYSTEM_EVENTS, or None when the message tells none known), message,
    level, instance_id, instance_type, availability_zone (when the record names exactly one),
    availability_zones, instance_types, capacity_provider_arn. The record's own ISO time is the
    record's time when it has one: it says when the instance changed, not when it was shipped."""
    line = message.strip() if type(message) is str else ""
    try:
        obj = json.loads(line)
        if not isinstance(obj, dict):
            raise Bad
        meta = obj.get("metadata")
        if meta is None:
            meta = {}
        elif not isinstance(meta, dict):
            raise Bad
        text = opt_text(obj.get("message")) or ""
        operation = opt_text(obj.get("operation"))
        # `operation` (docs …-system-logs-usage.md names it, without its values): taken when it
        # names a known event; else the message's verb tells.
        event = operation if operation in SYSTEM_EVENTS else system_event(text)
        zones = _opt_texts(meta.get("availabilityZones"))
        kinds = _opt_texts(meta.get("instanceTypes"))
        data = {
            "event": event,
            "operation": operation,
            "message": text,
            "level": opt_text(obj.get("level")),
            "instance_id": opt_id(meta.get("instanceId")),
            "availability_zone": zones[0] if len(zones) == 1 else None,
            "instance_type": kinds[0] if len(kinds) == 1 else None,
            "availability_zones": zones,
            "instance_types": kinds,
            "capacity_provider_arn": opt_text(meta.get("capacityProviderArn")),
        }
    except (ValueError, RecursionError, Bad):
        return Record(MALFORMED, stream, timestamp, None, {"line": line[:MAX_TEXT], "system": True})
    at = _iso_ms(obj.get("timestamp"))
    return Record(SYSTEM, stream, timestamp if at is None else at, None, data)
