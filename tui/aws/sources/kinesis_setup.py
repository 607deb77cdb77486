"""Finding (or, on the embedded local Lambda, making) the Kinesis stream a function's logs go to,
and opening the Kinesis source on it with the right pace for where it runs.

lambdascope's subscription filter is named `lambdascope-kinesis` (probe/deploy_kinesis.py) and
writes to a Kinesis stream: DescribeSubscriptionFilters on the function's log group finds it.
Without logs:DescribeSubscriptionFilters `auto` simply does not pick Kinesis; `--logs kinesis`
says which action is missing.
"""

from __future__ import annotations

import logging

from botocore.exceptions import ClientError

from probe.deploy_kinesis import FILTER_NAME
from tui.aws.sources.failures import TRANSIENT, error_code
from tui.aws.sources.kinesis import KinesisSource
from tui.aws.target import Target
from tui.core.errors import UserError

log = logging.getLogger(__name__)

# The pace of a reader. On AWS: a shard allows 5 GetRecords a second shared by all its readers,
# and the sweep spends the account's FilterLogEvents budget (5 TPS), so both stay slow. Locally
# moto is on this machine: read often, sweep often (its FilterLogEvents scans the whole group,
# which is why even here it is every few seconds, not every round).
PACE_AWS = {"idle_s": 1.0, "busy_gap_s": 0.25, "list_every_s": 10.0, "sweep_every_s": 30.0, "sweep_delay_ms": 10_000}
PACE_LOCAL = {"idle_s": 0.2, "busy_gap_s": 0.05, "list_every_s": 2.0, "sweep_every_s": 5.0, "sweep_delay_ms": 3_000}
RUN_WINDOW_MS = 24 * 3600 * 1000  # `run`: every key of the run is kept (up to keep_ids) for its final sweep


async def subscribed_stream(logs, group: str, *, strict: bool) -> str | None:
    """The ARN of the Kinesis stream lambdascope's subscription on `group` writes to, or None.
    `strict` (`--logs kinesis`): a denied or failed lookup is an error; else (`auto`) it is None."""
    try:
        resp = await logs.describe_subscription_filters(logGroupName=group, filterNamePrefix=FILTER_NAME)
    except ClientError as exc:
        code = error_code(exc)
        if code == "ResourceNotFoundException":
            return None  # no group yet: no subscription either
        if strict and ("AccessDenied" in code or code == "UnauthorizedOperation"):
            raise UserError(
                f"not allowed to look up {group}'s subscription (logs:DescribeSubscriptionFilters denied): "
                "grant it, or read the logs with --logs poll"
            ) from None
        if strict:
            raise UserError(
                f"cannot look up {group}'s subscription filters ({code}); retry, or use --logs poll"
            ) from None
        log.info("no Kinesis for auto: DescribeSubscriptionFilters on %s failed (%s)", group, code)
        return None
    except TRANSIENT as exc:
        if strict:
            raise UserError(
                f"cannot reach the CloudWatch Logs endpoint to find {group}'s subscription: {exc}"
            ) from None
        return None
    for f in resp.get("subscriptionFilters", ()):
        arn = f.get("destinationArn") or ""
        if f.get("filterName") == FILTER_NAME and ":kinesis:" in arn and ":stream/" in arn:
            return arn
    return None


async def local_stream(target: Target) -> str | None:
    """On the local Lambda, the channel's stream: made at its start (`local --kinesis`), or, on
    one embedded in this process, made now (in its moto)."""
    if target.kind != "local":
        return None
    if "kinesis" in target.extra:
        return target.extra["kinesis"]["kinesis_stream_arn"]
    if target.extra.get("local") is None:
        return None
    from tui.aws.target import setup_local_kinesis

    return (await setup_local_kinesis(target))["kinesis_stream_arn"]


def not_subscribed(target: Target) -> str:
    return (
        f"{target.log_group} has no lambdascope Kinesis subscription: run "
        f"'lambdascope deploy --kinesis --name {target.function_name}' first (or use --logs poll / livetail)"
    )


async def make_source(
    target: Target,
    kinesis,
    logs,
    stream_arn: str,
    start_ms: int,
    cp_group: str | None,
    *,
    keep_ids: int | None = None,
    clock=None,
) -> KinesisSource:
    """A started Kinesis source (its shards listed: a missing stream or permission fails here,
    before any load). A capacity provider's group joins it when it is subscribed too; if not, the
    header says what that costs."""
    groups = [target.log_group]
    cp_note = None
    if cp_group:
        if await subscribed_stream(logs, cp_group, strict=False) == stream_arn:
            groups.append(cp_group)
        else:
            cp_note = f"{cp_group} is not subscribed to the stream (deploy --kinesis subscribes the function's group)"
    options: dict = dict(PACE_LOCAL if target.kind == "local" else PACE_AWS)
    if keep_ids is not None:
        options |= {"dedup_max_keys": keep_ids, "dedup_window_ms": RUN_WINDOW_MS}
    if clock is not None:
        options["clock"] = clock
    source = KinesisSource(kinesis, logs, stream_arn, groups, start_ms, **options)
    if cp_note:
        source.status.extra["groups"] = {cp_group: {"events": 0, "error": cp_note}}
    await source.start()
    return source
